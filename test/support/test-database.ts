import crypto from "node:crypto";
import path from "node:path";
import pg from "pg";
import { afterAll } from "vitest";

/**
 * Which database the tests' throw-away installations get. By default a SQLite file in the test's own folder;
 * when CANOPY_TEST_POSTGRES_URL names a PostgreSQL server (scripts/test-postgres.sh sets it, in a copy of the
 * sources whose generated client is PostgreSQL's), a fresh database on that server instead, dropped when the
 * test file ends.
 */
const SERVER_URL = process.env.CANOPY_TEST_POSTGRES_URL?.trim() || undefined;

export const onPostgres = SERVER_URL !== undefined;

const made: string[] = [];
afterAll(async () => {
  // Without FORCE: a database some process still holds is left to go with the cluster, never yanked away.
  for (const name of made.splice(0)) await admin(`DROP DATABASE IF EXISTS "${name}"`).catch(() => undefined);
});

/** The DATABASE_URL of a new, empty database (not migrated yet); `dir` is where a SQLite file goes. */
export async function freshDatabaseUrl(dir: string): Promise<string> {
  if (!SERVER_URL) return `file:${path.join(dir, "canopy.db")}`;
  const name = `canopy_test_${crypto.randomUUID().replaceAll("-", "")}`;
  await admin(`CREATE DATABASE "${name}"`);
  made.push(name);
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return url.href;
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: SERVER_URL, connectionTimeoutMillis: 30_000, query_timeout: 60_000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
