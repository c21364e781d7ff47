// Where the database is, shared by server/db.ts and the scripts under scripts/db-*.ts.
// Deliberately free of "server-only" so plain Node scripts can import it.
import path from "node:path";

export const DEFAULT_DATABASE_URL = "file:./data/canopy.db";

export type DbProvider = "sqlite" | "postgresql";

export function databaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.DATABASE_URL?.trim() || DEFAULT_DATABASE_URL;
}

export function providerOf(url: string): DbProvider {
  if (url.startsWith("file:")) return "sqlite";
  if (/^postgres(ql)?:\/\//.test(url)) return "postgresql";
  throw new Error(`DATABASE_URL must start with file:, postgres:// or postgresql:// (got "${redact(url)}")`);
}

/** Absolute path of a `file:` URL; relative paths are taken from `cwd` (the repo root in practice). */
export function sqlitePath(url: string, cwd: string = process.cwd()): string {
  // "file:./a.db", "file:/abs/a.db", "file:///abs/a.db"; a "?..." suffix (Prisma options) is dropped.
  const raw = url.replace(/^file:(\/\/(?=\/))?/, "").replace(/\?.*$/, "");
  if (!raw) throw new Error(`DATABASE_URL "${url}" names no file`);
  return path.resolve(cwd, decodeURIComponent(raw));
}

/** The URL without its password, for error messages. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}
