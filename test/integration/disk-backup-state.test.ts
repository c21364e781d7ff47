// The disk page's backup state, read for real: a seeded storage root, a migrated database, backups made by the
// CLI with real QEMU. Every state a disk can be in is an answer, never a throw.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flipDataByte } from "../support/backup-disk";
import { adoptCanopyEnv, makeCanopyEnv, type CanopyEnv } from "../support/canopy-env";

describe("a disk's backup state (last backup, next run, bitmap health)", () => {
  let env: CanopyEnv;
  let db: typeof import("@/server/db");
  let load: typeof import("@/server/backups/disk-backup-state").loadDiskBackupState;

  beforeAll(async () => {
    env = await makeCanopyEnv();
    adoptCanopyEnv(env);
    db = await import("@/server/db");
    load = (await import("@/server/backups/disk-backup-state")).loadDiskBackupState;
  }, 120_000);

  afterAll(async () => {
    await db?.closeDb();
  });

  const setSchedule = (disk: string, schedule: string | null) =>
    db.getDb().backupPolicy.upsert({ where: { diskName: disk }, create: { diskName: disk, schedule }, update: { schedule } });

  it("before any backup: no last backup, no schedule, the next backup is full (first backup)", async () => {
    expect(await load("vm-1")).toMatchObject({
      disk: "vm-1",
      last: null,
      maxIncrementals: 63,
      next: { state: "none" },
      health: { state: "checked", kind: "full", reason: "first-backup" },
    });
  });

  it("a schedule gives the next run; one stored invalid, or one that never matches, is said, not thrown", async () => {
    const now = new Date(2026, 2, 4, 10, 15); // local time, as cron is
    await setSchedule("vm-1", "0 3 * * *");
    expect((await load("vm-1", now)).next).toEqual({
      state: "scheduled",
      schedule: "0 3 * * *",
      fromOverride: true,
      at: new Date(2026, 2, 5, 3, 0).toISOString(),
    });
    // Validation stops this at `canopy policy`; an older or hand-written row still must not break the page.
    await setSchedule("vm-1", "61 * * * *");
    const invalid = (await load("vm-1", now)).next;
    expect(invalid).toMatchObject({ state: "invalid", schedule: "61 * * * *", fromOverride: true });
    expect(invalid.state === "invalid" && invalid.message).toContain('minute field "61"');
    await setSchedule("vm-1", "0 0 30 2 *");
    expect((await load("vm-1", now)).next).toEqual({ state: "never", schedule: "0 0 30 2 *", fromOverride: true });
    await setSchedule("vm-1", null);
    await setSchedule("*", "*/10 * * * *");
    expect((await load("vm-1", now)).next).toMatchObject({ state: "scheduled", fromOverride: false, at: new Date(2026, 2, 4, 10, 20).toISOString() });
    await setSchedule("*", null);
  });

  it("after a backup: the last one from the Backup table, with its chain's count; the bitmaps allow an incremental", async () => {
    expect((await env.cli("backup", "vm-1", "--json")).code).toBe(0);
    const state = await load("vm-1");
    expect(state.last).toMatchObject({ kind: "full", reason: "first-backup", verifyStatus: "ok", chainIncrementals: 0, verifyProblems: [] });
    expect(state.health).toMatchObject({ state: "checked", kind: "incremental", reason: "incremental" });

    expect((await env.cli("backup", "vm-1", "--json")).code).toBe(0);
    expect((await load("vm-1")).last).toMatchObject({ kind: "incremental", seq: 1, chainIncrementals: 1 });

    // A database that has not read the repository yet (say, a new one over old backups) reads it once here.
    await db.getDb().backup.deleteMany({ where: { disk: "vm-1" } });
    expect((await load("vm-1")).last).toMatchObject({ kind: "incremental", chainIncrementals: 1 });
  }, 240_000);

  it("while a job holds the disk the bitmaps are not read; after, they are", async () => {
    const { startBackup } = await import("@/server/backups/start-backup");
    const { job } = await startBackup("vm-1", { requestedBy: "test", background: true });
    expect((await load("vm-1")).health).toEqual({ state: "busy", jobId: job.id, jobKind: "backup" });
    const { cancelJob } = await import("@/server/jobs/cancel-job");
    const { JOB_EXECUTORS } = await import("@/server/job-kinds/executors");
    await cancelJob(job.id, "test", JOB_EXECUTORS);
    expect((await load("vm-1")).health).toMatchObject({ state: "checked", kind: "incremental" });
  });

  it("an incremental whose full fails verification later is no restore point: the strip says so", async () => {
    // The full goes bad after the incremental was made on it: the incremental's own file still checks out,
    // but a restore of it reads the full too. The next backup is full.
    const backups = (await env.cli("backups", "vm-1", "--json")).json.backups as Array<{ id: string; seq: number; chainId: string; file: string }>;
    const full = backups.find((b) => b.seq === 0)!;
    await flipDataByte(path.join(env.dir, "backups/vm-1", full.chainId, "0000-full.qcow2"));
    expect((await env.cli("verify", full.id, "--json")).json.verify.status).toBe("failed");
    const broken = await load("vm-1");
    expect(broken.last).toMatchObject({ kind: "incremental", seq: 1, verifyStatus: "ok", failedBefore: [0] });
    expect(broken.health).toMatchObject({ state: "checked", kind: "full", reason: "previous-failed-or-unverified" });
  }, 120_000);

  it("a disk the preview cannot reach is an error line with the reason, not a failure", async () => {
    // Recorded as held by a VM whose QMP socket does not answer (a hung VM, a socket deleted by hand).
    const socket = path.join(env.dir, "no-such-vm.sock");
    await db.getDb().disk.update({ where: { name: "vm-1" }, data: { status: "running", qmpSocket: socket } });
    const state = await load("vm-1");
    expect(state.health).toEqual({ state: "failed", message: expect.stringContaining(`its QMP socket ${socket} does not answer`) });
    expect(state.last).toMatchObject({ kind: "incremental" }); // the rest still reads
    await db.getDb().disk.update({ where: { name: "vm-1" }, data: { status: "stopped", qmpSocket: null } });
  });
});
