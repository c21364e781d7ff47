// Where the schema and the migrations are, and what they say. Shared by scripts/db-*.ts and the CLI's first-use
// set-up, so deliberately free of "server-only": plain tsx scripts import it.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { MigrationList } from "@prisma/schema-engine-wasm/schema_engine_bg";
import type { DbProvider } from "../db-config";

const PRISMA_DIR = path.resolve(import.meta.dirname, "..", "..", "prisma");
export const SCHEMA_PATH = path.join(PRISMA_DIR, "schema.prisma");

/**
 * Migration SQL is provider-specific (SQLite's DATETIME is not PostgreSQL's TIMESTAMP),
 * so each provider keeps its own history; SQLite, the default, uses Prisma's usual folder.
 */
export function migrationsDir(provider: DbProvider): string {
  return path.join(PRISMA_DIR, provider === "sqlite" ? "migrations" : "migrations-postgresql");
}

/** The schema text for `provider`: the file says sqlite, so PostgreSQL gets a rewritten copy. */
export function schemaFor(provider: DbProvider): string {
  const text = fs.readFileSync(SCHEMA_PATH, "utf8");
  if (provider === "sqlite") return text;
  const rewritten = text.replace(
    /(datasource\s+\w+\s*\{[^}]*?provider\s*=\s*)"sqlite"/,
    `$1"${provider}"`,
  );
  if (rewritten === text) throw new Error(`${SCHEMA_PATH}: no 'provider = "sqlite"' in the datasource block`);
  return rewritten;
}

/** The provider's migrations as the schema engine takes them, oldest first. */
export function readMigrations(provider: DbProvider): MigrationList {
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

/** A row of `_prisma_migrations`, the table in which the engine records what it applied. */
export interface AppliedMigration {
  name: string;
  checksum: string;
  finished: boolean;
}

/**
 * The local migrations not recorded as finished with the same checksum (the engine's own test), and those
 * recorded as failed. A migration applied by a newer checkout and unknown here is no concern of this one.
 */
export function notApplied(migrations: MigrationList, applied: AppliedMigration[]): string[] {
  const done = new Map(applied.filter((r) => r.finished).map((r) => [r.name, r.checksum]));
  const failed = applied.filter((r) => !r.finished).map((r) => r.name);
  const missing = migrations.migrationDirectories
    .filter(({ path: name, migrationFile: { content } }) => {
      if (content.tag !== "ok") return true;
      return done.get(name) !== crypto.createHash("sha256").update(content.value).digest("hex");
    })
    .map((m) => m.path);
  return [...new Set([...failed, ...missing])];
}
