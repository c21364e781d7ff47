import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SEED_LAYERS } from "@/lib/demo/seed";
import { sqlitePath } from "@/server/db-config";
import { makeCanopyEnv } from "../support/canopy-env";
import { openRawDb } from "../support/raw-db";
import { onPostgres } from "../support/test-database";

/**
 * What the CLI does with a database before its command: a brand-new one (no SQLite file yet, an empty
 * PostgreSQL database) is set up on first use; one that is behind, or not Canopy's, is refused with the command
 * that sets it up. On SQLite files here, and on PostgreSQL databases in the PostgreSQL pass.
 */
const REPO = path.resolve(import.meta.dirname, "../..");
const MIGRATIONS = fs
  .readdirSync(path.join(REPO, onPostgres ? "prisma/migrations-postgresql" : "prisma/migrations"), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

const newEnv = () => makeCanopyEnv(SEED_LAYERS, undefined, { setUp: false });

async function withRawDb<T>(url: string, fn: (db: Awaited<ReturnType<typeof openRawDb>>) => Promise<T>): Promise<T> {
  const db = await openRawDb(url);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

describe("the CLI's first use of a database", () => {
  it("sets up a brand-new database, says so on stderr, and runs the command", async () => {
    const c = await newEnv();
    if (!onPostgres) expect(fs.existsSync(sqlitePath(c.env.DATABASE_URL!))).toBe(false);

    const first = await c.cli("scan", "--json");
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.json.disks.map((d: { name: string }) => d.name)).toEqual(["vm-1", "vm-2"]);
    expect(first.stderr).toMatch(new RegExp(`^canopy: set up a new database at \\S+ \\(${MIGRATIONS.length} migrations applied\\)\\n$`));
    const rows = await withRawDb(c.env.DATABASE_URL!, (db) =>
      db.all<{ migration_name: string; finished_at: unknown }>("SELECT migration_name, finished_at FROM _prisma_migrations"),
    );
    expect(rows.map((r) => r.migration_name).sort()).toEqual(MIGRATIONS);
    expect(rows.every((r) => r.finished_at !== null)).toBe(true);

    // From then on nothing is said, and an operation runs as on any installation.
    const snapshot = await c.cli("snapshot", "vm-2", "--name", "D3");
    expect(snapshot.code, snapshot.stderr).toBe(0);
    expect(snapshot.stderr).toBe("");
    const jobs = await c.cli("jobs", "--json");
    expect(jobs.json.jobs).toEqual([expect.objectContaining({ kind: "snapshot", disk: "vm-2", state: "succeeded" })]);
  }, 120_000);

  it.skipIf(onPostgres)("takes an empty SQLite file for a new database", async () => {
    const c = await newEnv();
    fs.writeFileSync(sqlitePath(c.env.DATABASE_URL!), "");
    const res = await c.cli("jobs");
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.trim()).toBe("no jobs yet");
    expect(res.stderr).toMatch(/^canopy: set up a new database at /);
  });

  it("refuses a database whose migrations are behind, naming the command, and applies nothing", async () => {
    const c = await makeCanopyEnv(); // migrated by scripts/db-migrate.ts, as npm start does
    const newest = MIGRATIONS.at(-1)!;
    await withRawDb(c.env.DATABASE_URL!, (db) => db.run("DELETE FROM _prisma_migrations WHERE migration_name = ?", newest));

    const res = await c.cli("jobs");
    expect(res.code).toBe(1);
    expect(res.stdout).toBe("");
    expect(res.stderr).toMatch(
      new RegExp(`^canopy: the database at \\S+ is not up to date \\(${newest} not applied\\): run "npm run db:migrate" in Canopy's checkout`),
    );
    const json = await c.cli("scan", "--json");
    expect(json.code).toBe(1);
    expect(json.json.error).toMatchObject({ code: "not-set-up", message: expect.stringContaining('"npm run db:migrate"') });
    const left = await withRawDb(c.env.DATABASE_URL!, (db) => db.all("SELECT 1 FROM _prisma_migrations WHERE migration_name = ?", newest));
    expect(left).toEqual([]);
  }, 120_000);

  it("refuses a database that is not Canopy's, and leaves it as it was", async () => {
    const c = await newEnv();
    await withRawDb(c.env.DATABASE_URL!, (db) => db.run('CREATE TABLE "Inventory" (id INTEGER)'));

    const res = await c.cli("scan");
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^canopy: the database at \S+ is not Canopy's \(it has tables such as Inventory, but no record of Canopy's migrations\): set DATABASE_URL/);
    await withRawDb(c.env.DATABASE_URL!, async (db) => {
      expect(await db.all('SELECT id FROM "Inventory"')).toEqual([]);
      await expect(db.all("SELECT 1 FROM _prisma_migrations")).rejects.toThrow();
    });
  });

  it.runIf(onPostgres)("names the step to take for a PostgreSQL database that does not exist", async () => {
    const c = await newEnv();
    const url = new URL(c.env.DATABASE_URL!);
    url.pathname = "/canopy_test_never_created";
    c.env.DATABASE_URL = url.href;
    const res = await c.cli("jobs");
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^canopy: the database at \S+ does not exist: create it empty \(createdb/);
  });
});
