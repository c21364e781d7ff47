// The database layer end to end: migrate a fresh database with scripts/db-migrate.ts (a SQLite file, or a
// PostgreSQL database in the PostgreSQL pass), then write and read through the generated client exactly as the
// server does (server/db.ts).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { sqlitePath } from "@/server/db-config";
import { openRawDb } from "../support/raw-db";
import { freshDatabaseUrl, onPostgres } from "../support/test-database";
import { makeTempDir } from "../support/tmp";

// server/db.ts starts with `import "server-only"`, which resolves to an empty module only under the
// react-server condition. vitest.config.ts sets resolve.conditions, which Vite applies to the client
// environment only (ssr.resolve.conditions would reach tests), so stand in for it here.
vi.mock("server-only", () => ({}));

const REPO = path.resolve(import.meta.dirname, "../..");
const MIGRATIONS = fs
  .readdirSync(path.join(REPO, onPostgres ? "prisma/migrations-postgresql" : "prisma/migrations"), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

type DbModule = typeof import("@/server/db");
let dbModule: DbModule;
let dbUrl: string;
let env: NodeJS.ProcessEnv;

function script(name: string, ...args: string[]): string {
  const tsx = path.join(REPO, "node_modules/tsx/dist/cli.mjs");
  return execFileSync(process.execPath, [tsx, path.join(REPO, "scripts", name), ...args], {
    cwd: REPO,
    env,
    encoding: "utf8",
    timeout: 120_000,
  });
}

async function migrationRows(): Promise<{ migration_name: string; finished_at: unknown }[]> {
  const raw = await openRawDb(dbUrl, { readonly: true });
  try {
    return await raw.all("SELECT migration_name, finished_at FROM _prisma_migrations ORDER BY started_at, migration_name");
  } finally {
    await raw.close();
  }
}

beforeAll(async () => {
  // For SQLite, a folder that does not exist yet: deploy must create it.
  dbUrl = await freshDatabaseUrl(path.join(await makeTempDir("canopy-db-"), "nested"));
  env = { ...process.env, DATABASE_URL: dbUrl };
  // Every migration of the provider's folder, in order, the first being the initial one.
  expect(script("db-migrate.ts", "deploy")).toMatch(/^Applied \d{14}_init(, \d{14}_\w+)* to /);
  script("db-generate.ts"); // the client is git-ignored; a no-op when already up to date
  process.env.DATABASE_URL = env.DATABASE_URL;
  dbModule = await import("@/server/db");
});

afterAll(async () => {
  await dbModule?.closeDb();
});

describe("database", () => {
  it("records every migration, in order, as finished", async () => {
    const rows = await migrationRows();
    expect(rows.map((r) => r.migration_name)).toEqual([...MIGRATIONS].sort());
    expect(rows[0]?.migration_name).toMatch(/_init$/);
    expect(rows.every((r) => r.finished_at !== null)).toBe(true);
  });

  it.skipIf(onPostgres)("creates the SQLite file in WAL mode", () => {
    const raw = new Database(sqlitePath(dbUrl), { readonly: true });
    try {
      expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
    } finally {
      raw.close();
    }
  });

  it("stores a disk with layers and a job with steps, and reads them back", async () => {
    const db = dbModule.getDb();
    const seen = new Date("2025-01-02T03:04:05.678Z");
    const huge = 2n ** 60n; // beyond Number.MAX_SAFE_INTEGER: BigInt must survive the round trip
    const disk = await db.disk.create({
      data: {
        name: "vm1",
        folder: "vm1",
        activeLayer: "snap1",
        scannedAt: seen,
        layers: {
          create: [
            {
              name: "base",
              file: "vm1/base.qcow2",
              template: true,
              version: 3,
              virtualSize: 10n * 2n ** 30n,
              clusterSize: 65536,
              fileSize: huge,
              dirty: false,
              corrupt: false,
              seenAt: seen,
            },
            {
              name: "snap1",
              file: "vm1/snap1.qcow2",
              parent: "base",
              backingFile: "base.qcow2",
              backingFormat: "qcow2",
              template: false,
              version: 3,
              virtualSize: 10n * 2n ** 30n,
              clusterSize: 65536,
              fileSize: 200_704n,
              dirty: true,
              corrupt: false,
              bitmaps: JSON.stringify([{ name: "b0", granularity: 65536 }]),
              description: "after install",
              seenAt: seen,
            },
          ],
        },
      },
    });
    await db.job.create({
      data: {
        diskId: disk.id,
        kind: "merge",
        state: "running",
        params: JSON.stringify({ layer: "snap1" }),
        progressTotal: huge,
        workerPid: 4242,
        steps: {
          create: [
            { index: 0, name: "check", state: "done", detail: "{}" },
            { index: 1, name: "commit", state: "running" },
          ],
        },
      },
    });

    const back = await db.disk.findUniqueOrThrow({
      where: { name: "vm1" },
      include: { layers: { orderBy: { name: "asc" } }, jobs: { include: { steps: { orderBy: { index: "asc" } } } } },
    });
    expect(back).toMatchObject({ status: "stopped", problems: "[]", activeLayer: "snap1", scannedAt: seen });
    expect(back.layers.map((l) => [l.name, l.parent, l.backingFormat, l.fileSize, l.dirty, l.protected])).toEqual([
      ["base", null, null, huge, false, false],
      ["snap1", "base", "qcow2", 200_704n, true, false],
    ]);
    expect(back.layers[0]?.bitmaps).toBe("[]");
    expect(JSON.parse(back.layers[1]!.bitmaps)).toEqual([{ name: "b0", granularity: 65536 }]);
    const job = back.jobs[0]!;
    expect(job).toMatchObject({ kind: "merge", requestedBy: "cli", cancelRequested: false, progressDone: 0n });
    expect(job.progressTotal).toBe(huge);
    expect(job.steps.map((s) => [s.index, s.name, s.state])).toEqual([
      [0, "check", "done"],
      [1, "commit", "running"],
    ]);
  });

  it("enforces unique layer names per disk and cascades deletes", async () => {
    const db = dbModule.getDb();
    const disk = await db.disk.findUniqueOrThrow({ where: { name: "vm1" } });
    await expect(
      db.layer.create({
        data: {
          diskId: disk.id,
          name: "base",
          file: "x",
          template: false,
          version: 3,
          virtualSize: 1n,
          clusterSize: 512,
          fileSize: 1n,
          dirty: false,
          corrupt: false,
          seenAt: new Date(),
        },
      }),
    ).rejects.toMatchObject({ code: "P2002" });

    await db.auditEvent.create({ data: { diskId: disk.id, actor: "test", action: "scan", detail: "{}" } });
    await db.disk.delete({ where: { id: disk.id } });
    expect(await db.layer.count()).toBe(0);
    // Jobs and audit events are history: they outlive the disk record.
    expect((await db.job.findFirstOrThrow()).diskId).toBeNull();
    expect((await db.auditEvent.findFirstOrThrow()).diskId).toBeNull();
    expect(await db.jobStep.count()).toBe(2);
  });

  it("treats a second deploy as a no-op", async () => {
    const before = onPostgres ? 0 : fs.statSync(sqlitePath(dbUrl)).size;
    expect(script("db-migrate.ts", "deploy")).toMatch(/^No pending migrations for /);
    expect(await migrationRows()).toHaveLength(MIGRATIONS.length);
    if (!onPostgres) expect(fs.statSync(sqlitePath(dbUrl)).size).toBe(before);
  });
});

describe("a transaction that meets another writer", () => {
  it("is run again when its read is made stale by a write from another connection, and then succeeds", async () => {
    const { writeTransaction, isWriteConflict } = await import("@/server/db-retry");
    const db = dbModule.getDb();
    await db.setting.upsert({ where: { key: "t.counter" }, create: { key: "t.counter", value: "0" }, update: { value: "0" } });
    // A second connection, as the worker or the CLI would hold: it writes between this transaction's read and
    // its write (first attempt only). SQLite refuses the stale write at once (SQLITE_BUSY); PostgreSQL, asked
    // for SERIALIZABLE, with a serialization failure. At READ COMMITTED it would let it through: "1", not "11".
    const other = await openRawDb(dbUrl);
    const errors: unknown[] = [];
    let attempts = 0;
    try {
      const value = await writeTransaction(db, async (tx) => {
        attempts++;
        try {
          const row = await tx.setting.findUniqueOrThrow({ where: { key: "t.counter" } });
          if (attempts === 1) await other.run(`UPDATE "Setting" SET value = '10' WHERE key = 't.counter'`);
          const next = String(Number(row.value) + 1);
          await tx.setting.update({ where: { key: "t.counter" }, data: { value: next } });
          return next;
        } catch (err) {
          errors.push(err);
          throw err;
        }
      });
      expect(attempts).toBe(2);
      expect(errors).toHaveLength(1);
      expect(isWriteConflict(errors[0])).toBe(true);
      // The second attempt read the other writer's value, so no update was lost.
      expect(value).toBe("11");
      expect((await db.setting.findUniqueOrThrow({ where: { key: "t.counter" } })).value).toBe("11");
    } finally {
      await other.close();
    }
    expect(isWriteConflict(new Error("unique constraint failed"))).toBe(false);
  });
});

describe("one job per disk", () => {
  it("gives a disk to one of several jobs asked for at once; the others are told it is busy and leave no row", async () => {
    const { createLockedJob } = await import("@/server/jobs/create-job");
    const db = dbModule.getDb();
    const disk = await db.disk.create({ data: { name: "race", folder: "race", scannedAt: new Date() } });
    const ask = () =>
      createLockedJob("race", disk.id, (tx) =>
        tx.job.create({ data: { diskId: disk.id, kind: "snapshot", state: "queued", params: "{}" } }),
      );
    const results = await Promise.allSettled([ask(), ask(), ask(), ask()]);
    const won = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    expect(won).toHaveLength(1);
    const refused = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    expect(refused).toHaveLength(3);
    for (const err of refused) expect(err).toMatchObject({ code: "busy", details: { jobId: won[0] } });
    expect((await db.job.findMany({ where: { diskId: disk.id } })).map((j) => j.id)).toEqual(won);
    expect(await db.diskLock.findUnique({ where: { diskId: disk.id } })).toMatchObject({ jobId: won[0] });
  });
});
