// Prisma's WebAssembly schema engine, which applies and writes migrations through the same driver adapters the
// app uses (Prisma's native engine is not needed, nor downloaded). Loaded only when a migration has to run: it
// takes a while. Free of "server-only" (see ./files.ts).
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import pg from "pg";
import { parseIntoClientConfig } from "pg-connection-string";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlMigrationAwareDriverAdapterFactory,
} from "@prisma/driver-adapter-utils";
import type { SchemaEngine } from "@prisma/schema-engine-wasm/schema_engine_bg";
import { providerOf, type DbProvider } from "../db-config";
import { SCHEMA_PATH, schemaFor } from "./files";

export const NO_FILTER = { externalTables: [], externalEnums: [] };

// The schema engine reads PostgreSQL catalogs with "char" columns (type oid 18), which
// adapter-pg refuses to decode; their values arrive as plain strings, so calling them text
// (oid 25) is enough.
function charAsText<T>(result: T): T {
  for (const r of Array.isArray(result) ? result : [result]) {
    for (const f of (r as pg.QueryResult | undefined)?.fields ?? []) if (f.dataTypeID === 18) f.dataTypeID = 25;
  }
  return result;
}

class CharAsTextClient extends pg.Client {
  // pg.Pool calls query(text, values, callback); adapter-pg's transactions use the promise form.
  override query(...args: unknown[]): never {
    const query = super.query as (...a: unknown[]) => unknown;
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === "function") {
      args[last] = (err: unknown, res: unknown) => callback(err, res && charAsText(res));
      return query.apply(this, args) as never;
    }
    const ret = query.apply(this, args);
    return (ret instanceof Promise ? ret.then(charAsText) : ret) as never;
  }
}

// The engine replays each migration file into the shadow database as ONE executeRaw call, which
// better-sqlite3 refuses ("more than one statement"); run such multi-statement text with
// executeScript instead. (deploy already uses executeScript and is unaffected.)
function sqliteFactory(url: string): SqlMigrationAwareDriverAdapterFactory {
  const inner = new PrismaBetterSqlite3({ url, timeout: 10_000 });
  return {
    provider: inner.provider,
    adapterName: inner.adapterName,
    connect: () => inner.connect(),
    async connectToShadowDb() {
      const shadow = await inner.connectToShadowDb();
      const executeRaw = shadow.executeRaw.bind(shadow);
      shadow.executeRaw = async (query) => {
        try {
          return await executeRaw(query);
        } catch (err) {
          if (query.args.length > 0 || !/more than one statement/.test(String((err as Error).message))) throw err;
          await shadow.executeScript(query.sql);
          return 0;
        }
      };
      return shadow;
    },
  };
}

type PgAdapterPool = ConstructorParameters<typeof PrismaPg>[0];

// adapter-pg's own shadow database handling does not work here: given a connection string it
// opens the shadow pool on the main database (pg lets the string override `database`), and it
// drops the shadow database before closing its pool, which PostgreSQL refuses. So: config objects,
// and a shadow database of our own, dropped after its pool is closed.
function pgFactory(url: string): SqlMigrationAwareDriverAdapterFactory {
  const config = { ...parseIntoClientConfig(url), Client: CharAsTextClient };
  // The casts bridge two copies of @types/pg (ours and adapter-pg's); at run time there is one pg.
  const main = new PrismaPg(new pg.Pool(config) as unknown as PgAdapterPool, { disposeExternalPool: true });
  const admin = async (sql: string) => {
    const client = new pg.Client(config);
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  return {
    provider: main.provider,
    adapterName: main.adapterName,
    connect: () => main.connect(),
    async connectToShadowDb() {
      const database = `prisma_migrate_shadow_db_${crypto.randomUUID()}`;
      await admin(`CREATE DATABASE "${database}"`);
      const pool = new pg.Pool({ ...config, database }) as unknown as PgAdapterPool;
      const shadow = await new PrismaPg(pool, { disposeExternalPool: true }).connect();
      const dispose = shadow.dispose.bind(shadow);
      shadow.dispose = async () => {
        await dispose(); // ends the pool
        await admin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`); // FORCE: PostgreSQL 13+
      };
      return shadow;
    },
  };
}

// The engine opens its connection through the factory and never closes it, even when freed; a SQLite one
// keeps the file locked exclusively (the engine's PRAGMA locking_mode=EXCLUSIVE). Kept here to be closed.
const openConnections: { dispose(): Promise<void> }[] = [];

function adapterFactory(url: string): SqlMigrationAwareDriverAdapterFactory {
  const factory = providerOf(url) === "sqlite" ? sqliteFactory(url) : pgFactory(url);
  return {
    ...factory,
    connect: async () => {
      const adapter = await factory.connect();
      openConnections.push(adapter);
      return adapter;
    },
  };
}

function unrefTimeout(callback: () => void, ms: number): NodeJS.Timeout {
  return setTimeout(callback, ms >>> 0).unref();
}

type BoundFactory = ReturnType<typeof bindMigrationAwareSqlAdapterFactory>;
// Driver errors reach us as "External error id#N"; the bound factory keeps the originals.
let boundFactory: BoundFactory | undefined;

export async function loadEngine(provider: DbProvider, url: string): Promise<SchemaEngine> {
  const require = createRequire(import.meta.url);
  const gluePath = require.resolve("@prisma/schema-engine-wasm/schema_engine_bg");
  const glue = (await import("@prisma/schema-engine-wasm/schema_engine_bg")) as typeof import("@prisma/schema-engine-wasm/schema_engine_bg");
  const bytes = fs.readFileSync(path.join(path.dirname(gluePath), "schema_engine_bg.wasm"));
  // The engine reports Rust panics through this global before throwing.
  const g = globalThis as { PRISMA_WASM_PANIC_REGISTRY?: { set_message(m: string): void } };
  g.PRISMA_WASM_PANIC_REGISTRY ??= { set_message: (m) => console.error(`schema engine panic: ${m}`) };
  // The engine's timers must not keep the process alive: one of 10 s is left running after a migration on
  // PostgreSQL, and the CLI goes on to its command after setting up a new database, then exits.
  const imports = Object.fromEntries(
    Object.entries(glue).map(([name, value]) => [name, name.startsWith("__wbg_setTimeout_") ? unrefTimeout : value]),
  );
  const { instance } = await WebAssembly.instantiate(bytes, { "./schema_engine_bg.js": imports as never });
  glue.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  const log = (line: string) => void (process.env.DEBUG ? console.error(line) : undefined);
  boundFactory = bindMigrationAwareSqlAdapterFactory(adapterFactory(url));
  return glue.SchemaEngine.new({ datamodels: [[SCHEMA_PATH, schemaFor(provider)]] }, log, boundFactory);
}

/** Frees the engine and closes the connections it opened, so the process can go on using the database. */
export async function closeEngine(engine: SchemaEngine): Promise<void> {
  engine.free();
  for (const connection of openConnections.splice(0)) await connection.dispose();
}

/** The engine's error as one readable message: the driver's own words for "External error id#N", no Rust backtrace. */
export function engineMessage(err: unknown, url: string): string {
  let msg = err instanceof Error ? err.message : err && typeof err === "object" && "message" in err ? String(err.message) : String(err);
  msg = msg.replace(/External error id#(\d+)/g, (whole, id: string) => {
    const cause = boundFactory?.errorRegistry.consumeError(Number(id))?.error as { message?: string; kind?: string } | undefined;
    return cause ? (cause.message ?? JSON.stringify(cause)) : whole;
  });
  // SQLITE_BUSY reaches the engine as a "SocketTimeout" it cannot even name.
  if (url.startsWith("file:") && /SocketTimeout|database is locked/.test(msg)) {
    return "the database is in use (web server, worker, CLI?): stop them while migrations are applied";
  }
  return msg.replace(/\n\s+0: [\s\S]*$/, "");
}
