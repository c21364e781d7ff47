import "dotenv/config";
import { parseArgs } from "node:util";
import { isCanopyError } from "@/lib/errors";
import { ProcessError } from "@/lib/proc/run";
import { commands } from "./commands";
import { prepareDatabase } from "./prepare-database";

/**
 * `canopy <command> [args] [--json]`. Exit codes: 0 done, 1 refused or bad input (one line on stderr, or one
 * JSON object on stdout with --json), 2 internal error.
 */
async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(helpText());
    return name ? 0 : 1;
  }
  const command = commands.find((c) => c.name === name);
  const json = rest.includes("--json");
  if (!command) return fail(json, `unknown command "${name}" (try canopy --help)`, 1);
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: "boolean" },
        ...Object.fromEntries(
          Object.entries(command.options ?? {}).map(([k, o]) => [k, o.short ? { type: o.type, short: o.short } : { type: o.type }]),
        ),
      },
    });
    const [min, max] = command.positionals ?? [0, Infinity];
    if (positionals.length < min || positionals.length > max) {
      return fail(json, `usage: canopy ${command.name} ${command.usage}`, 1);
    }
    await prepareDatabase((line) => process.stderr.write(`canopy: ${line}\n`));
    const result = await command.run({ positionals, options: values, json });
    process.stdout.write(json ? `${JSON.stringify(result)}\n` : `${command.human(result)}\n`);
    return command.exitCode?.(result) ?? 0;
  } catch (err) {
    if (isCanopyError(err)) return fail(json, err.message, 1, err.code, err.details);
    if (err instanceof TypeError && "code" in err && String(err.code).startsWith("ERR_PARSE_ARGS")) {
      return fail(json, `${err.message} (usage: canopy ${command.name} ${command.usage})`, 1, "invalid-input");
    }
    if (err instanceof ProcessError) return fail(json, err.message, 2, "failed");
    return fail(json, `internal error: ${err instanceof Error ? err.message : String(err)}`, 2, "internal");
  }
}

function fail(
  json: boolean,
  message: string,
  exitCode: number,
  code = "invalid-input",
  details?: Record<string, unknown>,
): number {
  if (json) process.stdout.write(`${JSON.stringify({ error: { code, message }, ...details })}\n`);
  else process.stderr.write(`canopy: ${message}\n`);
  return exitCode;
}

function helpText(): string {
  const width = Math.max(...commands.map((c) => `${c.name} ${c.usage}`.length));
  return [
    "usage: canopy <command> [arguments] [--json]",
    "",
    ...commands.map((c) => `  ${`${c.name} ${c.usage}`.padEnd(width)}  ${c.summary}`),
    "",
  ].join("\n");
}

main(process.argv.slice(2)).then(
  async (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`canopy: internal error: ${String(err)}\n`);
    process.exitCode = 2;
  },
);
