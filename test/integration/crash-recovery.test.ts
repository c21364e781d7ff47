import { describe, expect, it } from "vitest";
import { w, type SeedLayer, MiB } from "@/lib/demo/seed";
import { makeCanopyEnv } from "../support/canopy-env";
import { expectLayerContent, parentsOf, seedContent } from "../support/layer-data";
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
  const Database = (await import("better-sqlite3")).default;
  const db = new Database(c.env.DATABASE_URL!.replace(/^file:/, ""), { readonly: true });
  const stepState = () =>
    db.prepare("SELECT state FROM JobStep WHERE jobId = ? AND name = ? ORDER BY \"index\" LIMIT 1").get(jobId, stepKind) as
      | { state: string }
      | undefined;
  const jobRow = () => db.prepare("SELECT state, error FROM Job WHERE id = ?").get(jobId) as { state: string; error: string | null };

  const worker = c.startWorker();
  await waitFor(`${stepKind} to start`, async () => stepState()?.state === "running");
  await new Promise((r) => setTimeout(r, 150)); // inside the copy
  worker.kill("SIGKILL");
  await worker.exited;
  expect(stepState()?.state).toBe("running"); // it really died mid-step
  expect(jobRow().state).toBe("running");

  const again = c.startWorker();
  try {
    const final = await waitFor("the job to end", async () => {
      const j = jobRow();
      return ["succeeded", "failed", "cancelled"].includes(j.state) ? j : null;
    }, 120_000);
    expect(final).toEqual({ state: "succeeded", error: null });
  } finally {
    again.kill("SIGTERM");
    await again.exited;
    db.close();
  }
  return c;
}

describe("a worker killed mid-merge is resumed by the next one", () => {
  it("merge down (commit) of B1..B2 into B0", async () => {
    const before = seedContent(BIG, SIZE);
    const c = await killMidStepThenRecover(["merge-down", "big", "--top", "B2", "--base", "B0"], "commit");
    expect(await parentsOf(c.root, "big")).toEqual({ B0: null, B3: "B0" });
    await expectLayerContent(c.root, "big", { B3: before.B3!, B0: before.B2! }, { exactly: true });
  });

  it("merge up (pull) of B1..B2 into B3", async () => {
    const before = seedContent(BIG, SIZE);
    const c = await killMidStepThenRecover(["merge-up", "big", "--top", "B3", "--base", "B0"], "pull");
    expect(await parentsOf(c.root, "big")).toEqual({ B0: null, B3: "B0" });
    await expectLayerContent(c.root, "big", { B3: before.B3!, B0: before.B0! }, { exactly: true });
  });
});

describe("a cancelled merge leaves every snapshot readable", () => {
  it("cancel during the commit: the chain is intact and the active layer reads as before", async () => {
    const before = seedContent(BIG, SIZE);
    const c = await makeCanopyEnv(BIG, SIZE);
    const queued = await c.cli("merge-down", "big", "--top", "B2", "--base", "B0", "--background", "--json");
    const jobId: string = queued.json.job.id;
    const Database = (await import("better-sqlite3")).default;
    // Writable: the cancel request is written the way cancelJob() writes it, because the CLI's start-up
    // (about a second) is longer than the copy; the CLI path itself is tested on a queued job.
    const db = new Database(c.env.DATABASE_URL!.replace(/^file:/, ""), { timeout: 10_000 });
    const step = () => db.prepare("SELECT state FROM JobStep WHERE jobId = ? AND name = 'commit'").get(jobId) as { state: string };
    const job = () => db.prepare("SELECT state, error FROM Job WHERE id = ?").get(jobId) as { state: string; error: string | null };
    const worker = c.startWorker();
    try {
      await waitFor("the commit to start", async () => step().state === "running");
      db.prepare("UPDATE Job SET cancelRequested = 1 WHERE id = ?").run(jobId);
      await waitFor("the job to stop", async () => job().state !== "running");
      expect(job().state).toBe("cancelled");
      expect(job().error).toMatch(/commit of B2 into B0 had started: B0, B1 now hold part of the merged data/);
      // Stopped inside the copy (the qemu-img was killed), or just after it if the copy won the race; no later
      // step (repoint, deletes) ran either way.
      expect(["failed", "done"]).toContain(step().state);
      const later = db.prepare("SELECT state FROM JobStep WHERE jobId = ? AND name != 'commit'").all(jobId) as { state: string }[];
      expect(later.map((s) => s.state)).toEqual(["pending", "pending", "pending"]);
    } finally {
      worker.kill("SIGTERM");
      await worker.exited;
      db.close();
    }
    // Nothing was repointed or deleted; the top of the merge (B2) and the active layer above it read exactly as
    // before. (B0 and B1 hold part of the merged data, as the job said.)
    expect(await parentsOf(c.root, "big")).toEqual({ B0: null, B1: "B0", B2: "B1", B3: "B2" });
    await expectLayerContent(c.root, "big", { B3: before.B3!, B2: before.B2! });
    // The disk is free again.
    expect((await c.cli("merge-down", "big", "--top", "B2", "--base", "B0")).code).toBe(0);
    await expectLayerContent(c.root, "big", { B3: before.B3!, B0: before.B2! }, { exactly: true });
  });
});
