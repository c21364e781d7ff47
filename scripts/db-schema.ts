// Schema and migration locations shared by scripts/db-migrate.ts and scripts/db-generate.ts.
import fs from "node:fs";
import path from "node:path";
import type { DbProvider } from "../server/db-config";

export const ROOT = path.resolve(import.meta.dirname, "..");
export const SCHEMA_PATH = path.join(ROOT, "prisma", "schema.prisma");

/**
 * Migration SQL is provider-specific (SQLite's DATETIME is not PostgreSQL's TIMESTAMP),
 * so each provider keeps its own history; SQLite, the default, uses Prisma's usual folder.
 */
export function migrationsDir(provider: DbProvider): string {
  return path.join(ROOT, "prisma", provider === "sqlite" ? "migrations" : "migrations-postgresql");
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

/** Print one line and exit non-zero: these scripts are run by people and by start scripts. */
export function fail(what: string, err: unknown): never {
  const msg = err instanceof Error ? err.message : String(err);
  console.error(`${what}: ${msg.split("\n").filter(Boolean).join(" | ")}`);
  process.exit(1);
}
