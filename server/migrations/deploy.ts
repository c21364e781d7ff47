// Applying the migrations: `npm run db:migrate` (scripts/db-migrate.ts) and the CLI's first use of a new
// database both come here. Free of "server-only" (see ./files.ts).
import Database from "better-sqlite3";
import { providerOf, redact, sqlitePath } from "../db-config";
import { createSqliteFileOwnerOnly, tightenSqliteFiles } from "../sqlite-file-modes";
import { readMigrations } from "./files";
import { migrationState } from "./status";
import { NO_FILTER, closeEngine, engineMessage, loadEngine } from "./engine";

export interface DeployResult {
  /** The migrations applied now, oldest first; empty when there was nothing to do. */
  applied: string[];
  /** The database, as messages name it: the SQLite file, or the URL without its password. */
  where: string;
}

/** Applies every pending migration to the database at `url`, creating a SQLite file (and its folder) if needed. */
export async function deployMigrations(url: string): Promise<DeployResult> {
  const provider = providerOf(url);
  const migrations = readMigrations(provider);
  if (migrations.migrationDirectories.length === 0) throw new Error(`no migrations in ${migrations.baseDir}`);
  let where = redact(url);
  if (provider === "sqlite") {
    const file = sqlitePath(url);
    createSqliteFileOwnerOnly(file);
    tightenSqliteFiles(file);
    const db = new Database(file, { timeout: 10_000 });
    try {
      // WAL lets the web server, the worker and the CLI read while one of them writes. It is a
      // property of the file, so setting it once covers every later connection.
      if (db.pragma("journal_mode", { simple: true }) !== "wal") db.pragma("journal_mode = WAL");
    } finally {
      db.close();
    }
    where = file;
    url = `file:${file}`; // absolute, so the adapter does not depend on the cwd either
  }
  // When everything is applied already the engine is not needed, nor its load time; and on SQLite it would
  // fail while the app has the file open, as it locks the file exclusively (PRAGMA locking_mode=EXCLUSIVE).
  if ((await migrationState(url)).kind === "current") return { applied: [], where };
  const engine = await loadEngine(provider, url);
  try {
    const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList: migrations, filters: NO_FILTER });
    return { applied: appliedMigrationNames, where };
  } catch (err) {
    throw new Error(engineMessage(err, url));
  } finally {
    await closeEngine(engine);
  }
}
