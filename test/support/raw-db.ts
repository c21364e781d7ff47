import Database from "better-sqlite3";
import pg from "pg";
import { providerOf, sqlitePath } from "@/server/db-config";

/**
 * Plain SQL on a test's database, apart from Prisma: what a test reads to see what was really stored, or writes
 * as another process would. Works on both providers when the SQL is written for both: "Quoted" table and
 * camelCase column names, `?` for parameters, true/false for booleans.
 */
export interface RawDb {
  all<T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T[]>;
  get<T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T | undefined>;
  run(sql: string, ...params: unknown[]): Promise<void>;
  close(): Promise<void>;
}

export async function openRawDb(url: string, { readonly = false } = {}): Promise<RawDb> {
  if (providerOf(url) === "sqlite") {
    const db = new Database(sqlitePath(url), { readonly, timeout: 10_000 });
    return {
      all: async <T>(sql: string, ...params: unknown[]) => db.prepare(sql).all(...params) as T[],
      get: async <T>(sql: string, ...params: unknown[]) => db.prepare(sql).get(...params) as T | undefined,
      run: async (sql, ...params) => void db.prepare(sql).run(...params),
      close: async () => void db.close(),
    };
  }
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 30_000, query_timeout: 60_000 });
  await client.connect();
  if (readonly) await client.query("SET default_transaction_read_only = on");
  const rows = async (sql: string, params: unknown[]) => {
    let n = 0;
    return (await client.query(sql.replace(/\?/g, () => `$${++n}`), params)).rows;
  };
  return {
    all: async <T>(sql: string, ...params: unknown[]) => (await rows(sql, params)) as T[],
    get: async <T>(sql: string, ...params: unknown[]) => (await rows(sql, params))[0] as T | undefined,
    run: async (sql, ...params) => void (await rows(sql, params)),
    close: () => client.end(),
  };
}
