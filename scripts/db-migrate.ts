// Apply or create Prisma migrations without Prisma's native schema engine, which cannot be
// downloaded here: Prisma's WebAssembly schema engine talks to the database through the same
// driver adapters the app uses (see /work/shared/notes/stack.md).
//
//   npx tsx scripts/db-migrate.ts deploy        apply pending migrations to DATABASE_URL
//   npx tsx scripts/db-migrate.ts new <name>    write a migration from the schema changes
import "dotenv/config";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import Database from "better-sqlite3";
import pg from "pg";
import { parseIntoClientConfig } from "pg-connection-string";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlMigrationAwareDriverAdapterFactory,
} from "@prisma/driver-adapter-utils";
import type { MigrationList, SchemaEngine } from "@prisma/schema-engine-wasm/schema_engine_bg";
import { databaseUrl, providerOf, redact, sqlitePath, type DbProvider } from "../server/db-config";
import { SCHEMA_PATH, fail, migrationsDir, schemaFor } from "./db-schema";

const NO_FILTER = { externalTables: [], externalEnums: [] };

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

function adapterFactory(url: string): SqlMigrationAwareDriverAdapterFactory {
  return providerOf(url) === "sqlite" ? sqliteFactory(url) : pgFactory(url);
}

type BoundFactory = ReturnType<typeof bindMigrationAwareSqlAdapterFactory>;
// Driver errors reach us as "External error id#N"; the bound factory keeps the originals.
let boundFactory: BoundFactory | undefined;

async function loadEngine(provider: DbProvider, url: string): Promise<SchemaEngine> {
  const require = createRequire(import.meta.url);
  const gluePath = require.resolve("@prisma/schema-engine-wasm/schema_engine_bg");
  const glue = (await import("@prisma/schema-engine-wasm/schema_engine_bg")) as typeof import("@prisma/schema-engine-wasm/schema_engine_bg");
  const bytes = fs.readFileSync(path.join(path.dirname(gluePath), "schema_engine_bg.wasm"));
  // The engine reports Rust panics through this global before throwing.
  const g = globalThis as { PRISMA_WASM_PANIC_REGISTRY?: { set_message(m: string): void } };
  g.PRISMA_WASM_PANIC_REGISTRY ??= { set_message: (m) => console.error(`schema engine panic: ${m}`) };
  const { instance } = await WebAssembly.instantiate(bytes, { "./schema_engine_bg.js": glue as never });
  glue.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  const log = (line: string) => void (process.env.DEBUG ? console.error(line) : undefined);
  boundFactory = bindMigrationAwareSqlAdapterFactory(adapterFactory(url));
  return glue.SchemaEngine.new({ datamodels: [[SCHEMA_PATH, schemaFor(provider)]] }, log, boundFactory);
}

function readMigrations(provider: DbProvider): MigrationList {
  const baseDir = migrationsDir(provider);
  const lockPath = path.join(baseDir, "migration_lock.toml");
  const dirs = fs.existsSync(baseDir)
    ? fs.readdirSync(baseDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()
    : [];
  return {
    baseDir,
    lockfile: { path: "migration_lock.toml", content: fs.existsSync(lockPath) ? fs.readFileSync(lockPath, "utf8") : null },
    shadowDbInitScript: "",
    migrationDirectories: dirs.map((dir) => {
      const file = path.join(baseDir, dir, "migration.sql");
      const content = fs.existsSync(file)
        ? { tag: "ok" as const, value: fs.readFileSync(file, "utf8") }
        : { tag: "error" as const, value: `${file} is missing` };
      return { path: dir, migrationFile: { path: "migration.sql", content } };
    }),
  };
}

async function deploy(url: string): Promise<void> {
  const provider = providerOf(url);
  const migrations = readMigrations(provider);
  if (migrations.migrationDirectories.length === 0) throw new Error(`no migrations in ${migrations.baseDir}`);
  let file: string | undefined;
  if (provider === "sqlite") {
    file = sqlitePath(url);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const db = new Database(file, { timeout: 10_000 });
    try {
      // WAL lets the web server, the worker and the CLI read while one of them writes. It is a
      // property of the file, so setting it once covers every later connection.
      if (db.pragma("journal_mode", { simple: true }) !== "wal") db.pragma("journal_mode = WAL");
      // The engine locks SQLite exclusively (PRAGMA locking_mode=EXCLUSIVE) and so fails while
      // the app has the file open; when everything is applied already, it is not needed at all.
      if (allApplied(db, migrations)) {
        console.log(`No pending migrations for ${file}`);
        return;
      }
    } finally {
      db.close();
    }
    url = `file:${file}`; // absolute, so the adapter does not depend on the cwd either
  }
  const engine = await loadEngine(provider, url);
  try {
    const { appliedMigrationNames: applied } = await engine.applyMigrations({ migrationsList: migrations, filters: NO_FILTER });
    const where = file ?? redact(url);
    console.log(applied.length ? `Applied ${applied.join(", ")} to ${where}` : `No pending migrations for ${where}`);
  } finally {
    engine.free();
  }
}

/** True when every local migration is recorded as finished with the same checksum and none failed. */
function allApplied(db: Database.Database, migrations: MigrationList): boolean {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'").get();
  if (!table) return false;
  const rows = db
    .prepare("SELECT migration_name AS name, checksum, finished_at AS finished FROM _prisma_migrations WHERE rolled_back_at IS NULL")
    .all() as { name: string; checksum: string; finished: string | null }[];
  if (rows.some((r) => r.finished === null)) return false; // a failed migration: let the engine report it
  const done = new Map(rows.map((r) => [r.name, r.checksum]));
  return migrations.migrationDirectories.every(({ path: name, migrationFile: { content } }) => {
    if (content.tag !== "ok") return false;
    return done.get(name) === crypto.createHash("sha256").update(content.value).digest("hex");
  });
}

async function create(url: string, name: string): Promise<void> {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "");
  if (!slug) throw new Error(`bad migration name "${name}"`);
  const provider = providerOf(url);
  const migrations = readMigrations(provider);
  // SQLite replays the history in memory (the adapter's shadow database), so the real file is
  // not needed; PostgreSQL needs the server and a user allowed to CREATE DATABASE.
  const engine = await loadEngine(provider, provider === "sqlite" ? "file::memory:" : url);
  let sql: string;
  try {
    const result = await engine.diff({
      from: migrations.migrationDirectories.length ? { tag: "migrations", ...migrations } : { tag: "empty" },
      to: { tag: "schemaDatamodel", files: [{ path: SCHEMA_PATH, content: schemaFor(provider) }] },
      script: true,
      exitCode: true, // 2 when there is a difference
      filters: NO_FILTER,
    });
    if (result.exitCode !== 2) {
      console.log(`No schema changes since the last ${provider} migration; nothing written`);
      return;
    }
    sql = result.stdout ?? "";
  } finally {
    engine.free();
  }
  const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
  const dir = path.join(migrations.baseDir, `${stamp}_${slug}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "migration.sql"), sql.endsWith("\n") ? sql : `${sql}\n`);
  const lockPath = path.join(migrations.baseDir, "migration_lock.toml");
  if (!fs.existsSync(lockPath)) {
    fs.writeFileSync(
      lockPath,
      `# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "${provider}"\n`,
    );
  }
  console.log(`Wrote ${path.relative(process.cwd(), path.join(dir, "migration.sql"))}`);
}

/** Swap the engine's "External error id#N" for the driver's own message, and drop its Rust backtrace. */
function engineMessage(err: unknown): string {
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

const [command, name] = process.argv.slice(2);
const url = databaseUrl();
try {
  if (command === "deploy") await deploy(url);
  else if (command === "new" && name) await create(url, name);
  else throw new Error("usage: db-migrate.ts deploy | new <name>");
} catch (err) {
  fail(`db-migrate ${command ?? ""}`.trim(), engineMessage(err));
}
// On PostgreSQL the engine leaves a 10 s timer running (seemingly its lock timeout), which would
// hold the process open; everything is written by now.
process.exit(0);
