// What a database holds, read without Prisma's schema engine (a WebAssembly module that takes a while to
// load): a query or two, cheap enough for every CLI call. Free of "server-only" (see ./files.ts).
import fs from "node:fs";
import Database from "better-sqlite3";
import pg from "pg";
import { providerOf, sqlitePath, type DbProvider } from "../db-config";
import { notApplied, readMigrations, type AppliedMigration } from "./files";

export type MigrationState =
  /** Every local migration is applied. */
  | { kind: "current" }
  /** Nothing there yet: no file, an empty file, or a database without tables. */
  | { kind: "new" }
  /** Canopy's, with migrations still to apply (or one that failed). */
  | { kind: "pending"; names: string[] }
  /** Tables, but no record of Canopy's migrations. */
  | { kind: "foreign"; tables: string[] }
  /** A PostgreSQL database that does not exist (the server said so). */
  | { kind: "missing" };

/** One query on a connection the caller has open already (the CLI's own client), returning its rows. */
export type RunQuery = (sql: string) => Promise<unknown[]>;

const MIGRATIONS_TABLE = "_prisma_migrations";
const TABLES_SQL: Record<DbProvider, string> = {
  sqlite: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
  // The catalog itself: information_schema's view of it takes ten times as long.
  postgresql:
    "SELECT c.relname::text AS name FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')",
};
const APPLIED_SQL = `SELECT migration_name AS name, checksum, finished_at IS NOT NULL AS finished FROM ${MIGRATIONS_TABLE} WHERE rolled_back_at IS NULL`;

/** `query`: ask through an open PostgreSQL connection instead of opening one (SQLite files are opened here). */
export async function migrationState(url: string, query?: RunQuery): Promise<MigrationState> {
  const provider = providerOf(url);
  const read = provider === "sqlite" ? await readSqlite(sqlitePath(url)) : await (query ? readWith(query, provider) : readPostgres(url));
  if (read === "missing") return { kind: "missing" };
  if (!read) return { kind: "new" };
  const { tables, applied } = read;
  if (!applied) return tables.length ? { kind: "foreign", tables } : { kind: "new" };
  const names = notApplied(readMigrations(provider), applied);
  return names.length ? { kind: "pending", names } : { kind: "current" };
}

interface Contents {
  tables: string[];
  /** Null when there is no migrations table. */
  applied: AppliedMigration[] | null;
}

async function readWith(query: RunQuery, provider: DbProvider): Promise<Contents> {
  const names = ((await query(TABLES_SQL[provider])) as { name: string }[]).map((r) => r.name);
  const tables = names.filter((t) => t !== MIGRATIONS_TABLE);
  if (names.length === tables.length) return { tables, applied: null };
  const rows = (await query(APPLIED_SQL)) as { name: string; checksum: string; finished: number | boolean }[];
  return { tables, applied: rows.map((r) => ({ name: r.name, checksum: r.checksum, finished: Boolean(r.finished) })) };
}

async function readSqlite(file: string): Promise<Contents | null> {
  if (!fs.existsSync(file)) return null;
  const db = new Database(file, { fileMustExist: true, timeout: 10_000 });
  try {
    return await readWith(async (sql) => db.prepare(sql).all(), "sqlite");
  } finally {
    db.close();
  }
}

async function readPostgres(url: string): Promise<Contents | "missing"> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, query_timeout: 10_000 });
  try {
    await client.connect();
  } catch (err) {
    // 3D000: invalid_catalog_name, the database named in the URL does not exist.
    if ((err as { code?: string }).code === "3D000") return "missing";
    throw err;
  }
  try {
    return await readWith(async (sql) => (await client.query(sql)).rows, "postgresql");
  } finally {
    // Not awaited: the goodbye takes as long as the queries, and nothing waits for it.
    client.end().catch(() => undefined);
  }
}
