import { execFileSync } from "node:child_process";
import path from "node:path";
import { freshDatabaseUrl } from "./test-database";
import { makeTempDir } from "./tmp";

const REPO = path.resolve(import.meta.dirname, "../..");

/**
 * A fresh, migrated database for this test file (SQLite, or PostgreSQL in the PostgreSQL pass), made the way
 * scripts/db-migrate.ts makes every one, and DATABASE_URL pointed at it (server/db.ts opens whatever the
 * variable names). Call before importing anything that reads the database. Returns the URL.
 */
export async function useTempDatabase(): Promise<string> {
  const env = { ...process.env, DATABASE_URL: await freshDatabaseUrl(await makeTempDir("canopy-auth-")) };
  const tsx = path.join(REPO, "node_modules/tsx/dist/cli.mjs");
  for (const args of [["db-migrate.ts", "deploy"], ["db-generate.ts"]]) {
    execFileSync(process.execPath, [tsx, path.join(REPO, "scripts", args[0]!), ...args.slice(1)], {
      cwd: REPO,
      env,
      encoding: "utf8",
      timeout: 120_000,
    });
  }
  process.env.DATABASE_URL = env.DATABASE_URL;
  return env.DATABASE_URL;
}
