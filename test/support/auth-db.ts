import { execFileSync } from "node:child_process";
import path from "node:path";
import { makeTempDir } from "./tmp";

const REPO = path.resolve(import.meta.dirname, "../..");

/**
 * A fresh, migrated SQLite database for this test file, made the way scripts/db-migrate.ts makes every one,
 * and DATABASE_URL pointed at it (server/db.ts opens whatever the variable names). Call before importing
 * anything that reads the database.
 */
export async function useTempDatabase(): Promise<string> {
  const file = path.join(await makeTempDir("canopy-auth-"), "canopy.db");
  const env = { ...process.env, DATABASE_URL: `file:${file}` };
  const tsx = path.join(REPO, "node_modules/tsx/dist/cli.mjs");
  for (const args of [["db-migrate.ts", "deploy"], ["db-generate.ts"]]) {
    execFileSync(process.execPath, [tsx, path.join(REPO, "scripts", args[0]!), ...args.slice(1)], { cwd: REPO, env, encoding: "utf8" });
  }
  process.env.DATABASE_URL = env.DATABASE_URL;
  return file;
}
