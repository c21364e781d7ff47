// The backups overview read for real: a seeded storage root, a migrated database, backups made by the CLI with
// real QEMU, then the two cases the mirror alone would miss (a database that has not read the repository yet, a
// disk whose folder is gone).
import { readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adoptCanopyEnv, makeCanopyEnv, type CanopyEnv } from "../support/canopy-env";

/** The space the layer files in a disk's folder take on disk: their allocated blocks, as du counts them. */
async function filesBytes(folder: string): Promise<number> {
  const files = (await readdir(folder)).filter((f) => f.endsWith(".qcow2"));
  const sizes = await Promise.all(files.map(async (f) => (await stat(path.join(folder, f))).blocks * 512));
  return sizes.reduce((n, size) => n + size, 0);
}

describe("the backups overview", () => {
  let env: CanopyEnv;
  let db: typeof import("@/server/db");
  let load: typeof import("@/server/backups/overview").loadBackupsOverview;

  beforeAll(async () => {
    env = await makeCanopyEnv();
    adoptCanopyEnv(env);
    db = await import("@/server/db");
    load = (await import("@/server/backups/overview")).loadBackupsOverview;
  }, 120_000);

  afterAll(async () => {
    await db?.closeDb();
  });

  const row = async (disk: string) => (await load()).rows.find((r) => r.disk === disk);

  it("before any backup: every disk is listed without one", async () => {
    const overview = await load();
    expect(overview.rows.map((r) => r.disk)).toEqual(["vm-1", "vm-2"]);
    expect(overview.rows.every((r) => r.last === null && r.backups === 0)).toBe(true);
    expect(overview.summary).toMatchObject({ disks: 2, withoutBackup: 2, failedVerifies: 0, storedBytes: 0 });
    // The space a disk uses is its own layers' files as they are on disk (vm-1's template is shared, not its own).
    const used = { "vm-1": await filesBytes(path.join(env.root, "vm-1")), "vm-2": await filesBytes(path.join(env.root, "vm-2")) };
    expect(overview.rows.map((r) => [r.disk, r.usedBytes])).toEqual(Object.entries(used));
    expect(overview.summary.usedBytes).toBe(used["vm-1"] + used["vm-2"]);
  });

  it("after a full and an incremental: the newest, its chain's count, the sizes the manifests record", async () => {
    expect((await env.cli("backup", "vm-1", "--json")).code).toBe(0);
    expect((await env.cli("backup", "vm-1", "--json")).code).toBe(0);
    const listed = (await env.cli("backups", "vm-1", "--json")).json as { backups: Array<{ fileSize: number }> };
    const vm1 = await row("vm-1");
    expect(vm1).toMatchObject({ status: "stopped", backups: 2, chains: 1, failedVerifies: 0, maxIncrementals: 63 });
    expect(vm1!.last).toMatchObject({ kind: "incremental", seq: 1, chainIncrementals: 1, verifyStatus: "ok" });
    expect(vm1!.storedBytes).toBe(listed.backups.reduce((n, b) => n + b.fileSize, 0));
    expect((await load()).summary).toMatchObject({ withoutBackup: 1, storedBytes: vm1!.storedBytes });
  }, 240_000);

  it("a database that has not read the repository yet reads it here", async () => {
    await db.getDb().backup.deleteMany({});
    expect(await row("vm-1")).toMatchObject({ backups: 2, last: { kind: "incremental" } });
  });

  it("a disk whose folder is gone stays listed while it has backups, without a schedule", async () => {
    await rm(path.join(env.root, "vm-1"), { recursive: true });
    expect((await env.cli("scan", "--json")).code).toBe(0);
    expect(await row("vm-1")).toMatchObject({ status: "gone", usedBytes: null, next: null, backups: 2 });
    expect((await load()).summary).toMatchObject({ disks: 1, withoutBackup: 1 });
  });
});
