import { CanopyError } from "@/lib/errors";
import { databaseUrl, providerOf, redact, sqlitePath } from "../db-config";
import { getDb } from "../db";
import { migrationState, type MigrationState } from "../migrations/status";

/**
 * Every CLI call looks at the database before its command runs (one or two plain queries; the schema engine
 * is loaded only when there is something to apply). A brand-new database (no SQLite file yet, an empty file,
 * an empty PostgreSQL database) is set up on the spot, so a CLI-only admin needs no separate step. One that
 * is Canopy's but behind is not migrated here: a web server or worker may be running the previous code on it,
 * and on SQLite the engine needs the file to itself. That, and a database that is not Canopy's, is refused
 * with the command to run.
 */
export async function prepareDatabase(say: (line: string) => void): Promise<void> {
  const url = databaseUrl();
  const where = providerOf(url) === "sqlite" ? sqlitePath(url) : redact(url);
  const state = await currentState(url);
  switch (state.kind) {
    case "current":
      return;
    case "new":
      return setUpNew(url, where, say);
    case "pending":
      throw new CanopyError(
        "not-set-up",
        `the database at ${where} is not up to date (${state.names.join(", ")} not applied): run "npm run db:migrate" in Canopy's checkout, with its web server and worker stopped`,
      );
    case "foreign":
      throw new CanopyError(
        "not-set-up",
        `the database at ${where} is not Canopy's (it has tables such as ${state.tables.slice(0, 3).join(", ")}, but no record of Canopy's migrations): set DATABASE_URL to Canopy's database, or to a new one, which is set up on first use`,
      );
    case "missing":
      throw new CanopyError(
        "not-set-up",
        `the database at ${where} does not exist: create it empty (createdb, as a user allowed to), and it is set up on first use`,
      );
  }
}

/**
 * On PostgreSQL, through the command's own client: its connection is opened anyway, and opening a second one
 * costs more than the queries (about 30 ms against 3). When that fails, a connection of the check's own tells
 * a database that does not exist from a server that cannot be reached (which is then the error).
 */
async function currentState(url: string): Promise<MigrationState> {
  if (providerOf(url) !== "postgresql") return migrationState(url);
  try {
    return await migrationState(url, (sql) => getDb().$queryRawUnsafe(sql));
  } catch {
    return migrationState(url);
  }
}

async function setUpNew(url: string, where: string, say: (line: string) => void): Promise<void> {
  const { deployMigrations } = await import("../migrations/deploy");
  try {
    const { applied } = await deployMigrations(url);
    say(`set up a new database at ${where} (${applied.length} migrations applied)`);
  } catch (err) {
    // Two first commands at once: the other one may have set it up meanwhile.
    if ((await migrationState(url)).kind === "current") return;
    throw new Error(`setting up the new database at ${where} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}
