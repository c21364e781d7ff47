import { describe, expect, it } from "vitest";
import { w, type SeedLayer, MiB } from "@/lib/demo/seed";
import { makeCanopyEnv } from "../support/canopy-env";
import { expectLayerContent, parentsOf, seedContent } from "../support/layer-data";
import { openRawDb } from "../support/raw-db";
import { waitFor } from "../support/wait-for";

/**
 * A worker killed (SIGKILL, with its qemu-img) in the middle of a merge, then started again: the job must
 * finish, the tree must be the planned one, and every remaining layer must read exactly as it should.
 * The layers are large enough (hundreds of MiB) that the kill lands inside the copy.
 */
const SIZE = 1024 * MiB;
const BIG: SeedLayer[] = [
  { folder: "big", name: "B0", parent: null, writes: [w(0x10, 0, 128)] },
  { folder: "big", name: "B1", parent: "B0", writes: [w(0x11, 128, 224), w(0x12, 0, 32)] },
  { folder: "big", name: "B2", parent: "B1", writes: [w(0x13, 352, 224), w(0x14, 64, 32)] },
  { folder: "big", name: "B3", parent: "B2", writes: [w(0x15, 600, 8), w(0x16, 140, 4)] },
];

async function killMidStepThenRecover(args: string[], stepKind: string) {
  const c = await makeCanopyEnv(BIG, SIZE);
  const queued = await c.cli(...args, "--background", "--json");
  expect(queued.code, queued.stdout + queued.stderr).toBe(0);
  const jobId: string = queued.json.job.id;
  const db = await openRawDb(c.env.DATABASE_URL!, { readonly: true });
  const stepState = () =>
    db.get<{ state: string }>('SELECT state FROM "JobStep" WHERE "jobId" = ? AND name = ? ORDER BY "index" LIMIT 1', jobId, stepKind);
  const jobRow = async () => (await db.get<{ state: string; error: string | null }>('SELECT state, error FROM "Job" WHERE id = ?', jobId))!;

  const worker = c.startWorker();
  await waitFor(`${stepKind} to start`, async () => (await stepState())?.state === "running");
  await new Promise((r) => setTimeout(r, 150)); // inside the copy
  worker.kill("SIGKILL");
  await worker.exited;
  expect((await stepState())?.state).toBe("running"); // it really died mid-step
  expect((await jobRow()).state).toBe("running");

  const again = c.startWorker();
  try {
    const final = await waitFor("the job to end", async () => {
      const j = await jobRow();
      return ["succeeded", "failed", "cancelled"].includes(j.state) ? j : null;
    }, 120_000);
    expect(final).toEqual({ state: "succeeded", error: null });
  } finally {
    again.kill("SIGTERM");
    await again.exited;
    await db.close();
  }
  return c;
}

describe("a worker killed mid-merge is resumed by the next one", () => {
  it("merge down (commit) of B1..B2 into B0", async () => {
    const before = seedContent(BIG, SIZE);
    const c = await killMidStepThenRecover(["merge-down", "big", "--top", "B2", "--base", "B0"], "commit");
    expect(await parentsOf(c.root, "big")).toEqual({ B0: null, B3: "B0" });
    await expectLayerContent(c.root, "big", { B3: before.B3!, B0: before.B2! }, { exactly: true });
  }, 180_000);

  it("merge up (pull) of B1..B2 into B3", async () => {
    const before = seedContent(BIG, SIZE);
    const c = await killMidStepThenRecover(["merge-up", "big", "--top", "B3", "--base", "B0"], "pull");
    expect(await parentsOf(c.root, "big")).toEqual({ B0: null, B3: "B0" });
    await expectLayerContent(c.root, "big", { B3: before.B3!, B0: before.B0! }, { exactly: true });
  }, 180_000);
});

describe("a cancelled merge leaves every snapshot readable", () => {
  it("cancel during the commit: the chain is intact and the active layer reads as before", async () => {
    const before = seedContent(BIG, SIZE);
    const c = await makeCanopyEnv(BIG, SIZE);
    const queued = await c.cli("merge-down", "big", "--top", "B2", "--base", "B0", "--background", "--json");
    const jobId: string = queued.json.job.id;
    // Writable: the cancel request is written the way cancelJob() writes it, because the CLI's start-up
    // (about a second) is longer than the copy; the CLI path itself is tested on a queued job.
    const db = await openRawDb(c.env.DATABASE_URL!);
    const step = async () => (await db.get<{ state: string }>(`SELECT state FROM "JobStep" WHERE "jobId" = ? AND name = 'commit'`, jobId))!;
    const job = async () => (await db.get<{ state: string; error: string | null }>('SELECT state, error FROM "Job" WHERE id = ?', jobId))!;
    const worker = c.startWorker();
    try {
      await waitFor("the commit to start", async () => (await step()).state === "running");
      await db.run('UPDATE "Job" SET "cancelRequested" = true WHERE id = ?', jobId);
      await waitFor("the job to stop", async () => (await job()).state !== "running");
      expect((await job()).state).toBe("cancelled");
      expect((await job()).error).toMatch(/commit of B2 into B0 had started: B0, B1 now hold part of the merged data/);
      // Stopped inside the copy (the qemu-img was killed), or just after it if the copy won the race; no later
      // step (repoint, deletes) ran either way.
      expect(["failed", "done"]).toContain((await step()).state);
      const later = await db.all<{ state: string }>(`SELECT state FROM "JobStep" WHERE "jobId" = ? AND name != 'commit' ORDER BY "index"`, jobId);
      expect(later.map((s) => s.state)).toEqual(["pending", "pending", "pending"]);
    } finally {
      worker.kill("SIGTERM");
      await worker.exited;
      await db.close();
    }
    // Nothing was repointed or deleted; the top of the merge (B2) and the active layer above it read exactly as
    // before. (B0 and B1 hold part of the merged data, as the job said.)
    expect(await parentsOf(c.root, "big")).toEqual({ B0: null, B1: "B0", B2: "B1", B3: "B2" });
    await expectLayerContent(c.root, "big", { B3: before.B3!, B2: before.B2! });
    // The disk is free again.
    const again = await c.cli("merge-down", "big", "--top", "B2", "--base", "B0");
    expect(again.code, again.stdout + again.stderr).toBe(0);
    await expectLayerContent(c.root, "big", { B3: before.B3!, B0: before.B2! }, { exactly: true });
  }, 180_000);
});
