// What scripts/db-migrate.ts and scripts/db-generate.ts share beyond the schema's and migrations' locations
// (those are in server/migrations/files.ts, which the CLI uses too).
import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "..");

/** Print one line and exit non-zero: these scripts are run by people and by start scripts. */
export function fail(what: string, err: unknown): never {
  const msg = err instanceof Error ? err.message : String(err);
  console.error(`${what}: ${msg.split("\n").filter(Boolean).join(" | ")}`);
  process.exit(1);
}
