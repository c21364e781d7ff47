// The race issue 11 found: the worker's scan ran while a job was changing a disk's layers, recorded a wrong
// active layer, and the record then stayed wrong. Both ways it happened, replayed in order on real qcow2 files,
// with the job's own code (plan, lock, steps, the CLI's cancel) and the scan's own recording.
import { spawnSync } from "node:child_process";
import { utimes } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scanDisk, scanStorageRoot } from "@/lib/inventory/scan";
import { executeStep } from "@/lib/ops/execute";
import { adoptCanopyEnv, makeCanopyEnv, type CanopyEnv } from "../support/canopy-env";
import { expectLayerContent, parentsOf, seedContent } from "../support/layer-data";

describe("a scan while a job changes the active layer", () => {
  let env: CanopyEnv;
  let db: typeof import("@/server/db");
  let sync: typeof import("@/server/sync-inventory");
  const activeOf = async (disk: string) =>
    (await db.getDb().disk.findUniqueOrThrow({ where: { name: disk }, select: { activeLayer: true } })).activeLayer;

  beforeAll(async () => {
    env = await makeCanopyEnv();
    adoptCanopyEnv(env);
    db = await import("@/server/db");
    sync = await import("@/server/sync-inventory");
  }, 120_000);

  afterAll(async () => {
    await db?.closeDb();
  });

  it("a scan while a snapshot job's overlay is made but not yet active keeps 1C; cancelled there, 1C stays active", async () => {
    const { loadDiskState } = await import("@/server/ops/disk-state");
    const { planOperation } = await import("@/server/ops/plan-operation");
    const { createJob } = await import("@/server/jobs/create-job");
    const { stepEffects } = await import("@/server/ops/step-effects");
    const plan = await planOperation(await loadDiskState("vm-1"), { operation: "snapshot", name: "S1" });
    expect(plan.steps.map((s) => s.kind)).toEqual(["create-overlay", "set-description", "set-active"]);
    const jobId = await createJob({ disk: "vm-1", plan, requestedBy: "test", claimNow: true });

    // The job's first step, run as the job runner runs it: S1 now exists on 1C, and the VM still writes to 1C.
    await db.getDb().jobStep.updateMany({ where: { jobId, index: 0 }, data: { state: "running" } });
    const files = new Map((await scanDisk(env.root, "vm-1")).layers.map((l) => [l.name, path.join(env.root, l.file)]));
    await executeStep(plan.steps[0]!, { root: env.root, disk: "vm-1", files, effects: stepEffects(env.root, "vm-1") });
    expect((await parentsOf(env.root, "vm-1")).S1).toBe("1C");
    // The process running it dies there, before it marks the step done (its pid is gone, its heartbeat stale).
    const gonePid = spawnSync("true").pid;
    await db.getDb().job.update({ where: { id: jobId }, data: { workerPid: gonePid, heartbeatAt: new Date(0) } });
    // The other branch tip was written last (the scan's choice for a disk without a usable record).
    const now = Date.now() / 1000;
    await utimes(path.join(env.root, "vm-1/1X.qcow2"), now, now);

    // The worker's scan comes now. 1C is no longer a leaf; S1 is, but no step has made it active.
    await sync.scanAndRecord(env.root);
    expect(await activeOf("vm-1")).toBe("1C");

    // Cancelled: the step is settled (the unused overlay removed) and the job ends without its set-active step.
    const cancelled = await env.cli("cancel", jobId, "--json");
    expect(cancelled.json, cancelled.stdout + cancelled.stderr).toMatchObject({ id: jobId, state: "cancelled" });
    expect(await parentsOf(env.root, "vm-1")).not.toHaveProperty("S1");
    expect(await activeOf("vm-1")).toBe("1C");
    await sync.scanAndRecord(env.root);
    expect(await activeOf("vm-1")).toBe("1C");
    await expectLayerContent(env.root, "vm-1", seedContent(undefined, undefined, "vm-1"), { exactly: true });
  });

  it("a scan that read the disk before a revert ran, and records after the revert ended, keeps the revert's layer", async () => {
    const readAt = new Date();
    const stale = await scanStorageRoot(env.root);
    expect(stale.disks.find((d) => d.name === "vm-2")?.leaves).toEqual(["D2"]);

    const revert = await env.cli("revert", "vm-2", "D1", "--name", "D1-2", "--json");
    expect(revert.code, revert.stdout + revert.stderr).toBe(0);
    expect(await activeOf("vm-2")).toBe("D1-2");

    // The scan records what it read before the revert: no D1-2 there.
    await sync.recordScan(stale, readAt);
    expect(await activeOf("vm-2")).toBe("D1-2");
    // The next scan sees D1-2 and keeps it: the recorded layer is a leaf of the disk.
    await sync.scanAndRecord(env.root);
    expect(await activeOf("vm-2")).toBe("D1-2");
    await expectLayerContent(env.root, "vm-2", { "D1-2": seedContent()["D1"]!, D2: seedContent()["D2"]! });
  });
});
