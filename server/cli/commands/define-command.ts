/**
 * The shape every CLI subcommand has. A command returns a plain result object; main prints it as one JSON
 * object with --json, or through the command's own `human` formatter. Later subcommands (operations, jobs,
 * backups) are one more file each, listed in commands/index.ts.
 */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  description: string;
}

export interface CommandContext {
  positionals: string[];
  options: Record<string, string | boolean | undefined>;
  json: boolean;
}

export interface Command<R = unknown> {
  name: string;
  /** e.g. "<disk> [--json]" */
  usage: string;
  summary: string;
  options?: Record<string, OptionSpec>;
  /** How many positionals the command takes: [min, max]. */
  positionals?: [number, number];
  run(ctx: CommandContext): Promise<R>;
  human(result: R): string;
  /** For a result that is printed in full and still failed (a job `worker --once` ran failed); 0 otherwise. */
  exitCode?(result: R): number;
}

export function defineCommand<R>(c: Command<R>): Command<R> {
  return c;
}
