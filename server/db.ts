import "server-only";
// The one PrismaClient of a process (web server, worker or CLI). Plain Node must run with
// `--conditions=react-server` (node or tsx) for the import above to resolve.
import fs from "node:fs";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import Database from "better-sqlite3";
import { PrismaClient } from "./generated/prisma/client";
import { databaseUrl, providerOf, sqlitePath } from "./db-config";
import { tightenSqliteFiles } from "./sqlite-file-modes";

export type Db = PrismaClient;

/** How long a SQLite writer waits for another process's write lock before failing. */
const SQLITE_BUSY_TIMEOUT_MS = 10_000;

// Kept on globalThis so Next's dev reloads reuse one client instead of leaking connections.
// Keyed by URL because tests point DATABASE_URL at fresh files within one process.
const holder = globalThis as typeof globalThis & { canopyDb?: { url: string; client: PrismaClient } };

export function getDb(): PrismaClient {
  const url = databaseUrl();
  if (holder.canopyDb?.url !== url) holder.canopyDb = { url, client: createClient(url) };
  return holder.canopyDb.client;
}

/** Close the connection (lets short-lived CLI processes and tests exit at once). */
export async function closeDb(): Promise<void> {
  const current = holder.canopyDb;
  holder.canopyDb = undefined;
  await current?.client.$disconnect();
}

function createClient(url: string): PrismaClient {
  if (providerOf(url) === "postgresql") {
    // pg's pool keeps idle connections open for 10 s, and an open socket keeps Node running: every CLI command
    // and setup script would linger that long after its work. Idle connections must not hold a process alive
    // (the web server and the worker have their own reasons to stay up), as SQLite's file handle never does.
    return new PrismaClient({ adapter: new PrismaPg({ connectionString: url, allowExitOnIdle: true }) });
  }

  const file = sqlitePath(url);
  if (!fs.existsSync(file)) {
    // Opening would create an empty file and every query would then fail on missing tables.
    throw new Error(`No database at ${file}: run "npm run db:migrate" first`);
  }
  tightenSqliteFiles(file);
  // WAL (readers never wait for the writer) is stored in the file; deploy already sets it, this
  // covers databases made some other way. The adapter's own connection gets the busy timeout.
  const db = new Database(file, { timeout: SQLITE_BUSY_TIMEOUT_MS });
  try {
    if (db.pragma("journal_mode", { simple: true }) !== "wal") db.pragma("journal_mode = WAL");
  } finally {
    db.close();
  }
  return new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: file, timeout: SQLITE_BUSY_TIMEOUT_MS }) });
}
