import { stat } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { SeedLayer } from "@/lib/demo/seed";
import * as img from "@/lib/qemu/img";
import { scanDisk } from "@/lib/inventory/scan";
import { makeCanopyEnv, type CanopyEnv } from "../support/canopy-env";
import { expectLayerContent, parentsOf, seedContent } from "../support/layer-data";
import { openRawDb } from "../support/raw-db";
import { waitFor } from "../support/wait-for";
import { backingNameNow, killWhenBackingChanges, randomDelay } from "../support/kill-at";
import { BRANCHED, COMMIT_LEAKS_AFTER, CRASH_SIZE, LINEAR } from "../support/crash-seeds";

/**
 * Every step that changes a header, killed (SIGKILL of the worker's process group, its qemu-img with it) at the
 * instant the header changes on disk, and at random instants; then the next worker takes the job over. For
 * merge up, delete of a middle layer (pulled into its two children), flatten and merge down: the job must end
 * succeeded, the tree must be the planned one, every remaining layer must read exactly as before the
 * operation (so nothing that still held unique data was deleted), and qemu-img check must find every remaining
 * layer clean (no leaked clusters left by the kill).
 */
const SIZE = CRASH_SIZE;

interface Operation {
  layers: SeedLayer[];
  args: string[];
  /** The layer whose header the operation rewrites (the pull's top, or the child a merge down repoints). */
  watch: string;
  parentsAfter: Record<string, string | null>;
  /** Every layer left, with what it must read as, from the layers' content before the operation. */
  contentAfter(before: Record<string, number[]>): Record<string, number[]>;
  /** Kills at random instants land in [0, span) ms after the first step started: about the operation's length. */
  randomSpanMs: number;
}

const OPERATIONS: Record<string, Operation> = {
  "merge up of B1..B2 into B3": {
    layers: LINEAR,
    args: ["merge-up", "big", "--top", "B3", "--base", "B0"],
    watch: "B3",
    parentsAfter: { B0: null, B3: "B0" },
    contentAfter: (b) => ({ B0: b.B0!, B3: b.B3! }),
    randomSpanMs: 1500,
  },
  "delete of the middle layer B1 (pulled into B2 and X)": {
    layers: BRANCHED,
    args: ["delete", "big", "B1"],
    watch: "B2",
    parentsAfter: { B0: null, B2: "B0", B3: "B2", X: "B0" },
    contentAfter: (b) => ({ B0: b.B0!, B2: b.B2!, B3: b.B3!, X: b.X! }),
    randomSpanMs: 2000,
  },
  "flatten of B3": {
    layers: LINEAR,
    args: ["flatten", "big"],
    watch: "B3",
    parentsAfter: { B0: null, B1: "B0", B2: "B1", B3: null },
    contentAfter: (b) => ({ B0: b.B0!, B1: b.B1!, B2: b.B2!, B3: b.B3! }),
    randomSpanMs: 1500,
  },
  "merge down of B1..B2 into B0": {
    layers: LINEAR,
    args: ["merge-down", "big", "--top", "B2", "--base", "B0"],
    watch: "B3",
    parentsAfter: { B0: null, B3: "B0" },
    contentAfter: (b) => ({ B0: b.B2!, B3: b.B3! }),
    randomSpanMs: 1200,
  },
};

type Kill = { at: "header" } | { at: "random" };

async function killThenRecover(op: Operation, kill: Kill, label: string) {
  const before = seedContent(op.layers, SIZE);
  const c = await makeCanopyEnv(op.layers, SIZE);
  const queued = await c.cli(...op.args, "--background", "--json");
  expect(queued.code, queued.stdout + queued.stderr).toBe(0);
  const jobId: string = queued.json.job.id;
  const db = await openRawDb(c.env.DATABASE_URL!, { readonly: true });
  const job = async () => (await db.get<{ state: string; error: string | null }>('SELECT state, error FROM "Job" WHERE id = ?', jobId))!;
  const steps = () => db.all<{ name: string; state: string }>('SELECT name, state FROM "JobStep" WHERE "jobId" = ? ORDER BY "index"', jobId);
  try {
    const watched = layerPath(c, op.watch);
    const headerBefore = backingNameNow(watched);
    const worker = c.startWorker();
    if (kill.at === "header") {
      killWhenBackingChanges(watched, headerBefore, () => worker.kill("SIGKILL"));
    } else {
      await waitFor("the first step to start", async () => (await steps()).some((s) => s.state !== "pending"));
      await new Promise((r) => setTimeout(r, randomDelay(label, op.randomSpanMs)));
      worker.kill("SIGKILL");
    }
    await worker.exited;
    const atKill = await steps();
    if (kill.at === "random") console.log(`${label}: steps when killed: ${atKill.map((s) => `${s.name} ${s.state}`).join(", ")}`);
    if (kill.at === "header") {
      // The kill really landed inside the job, with the header already rewritten.
      expect((await job()).state).toBe("running");
      expect(backingNameNow(watched)).not.toBe(headerBefore);
    }

    const again = c.startWorker();
    try {
      const final = await waitFor("the job to end", async () => {
        const j = await job();
        return ["succeeded", "failed", "cancelled"].includes(j.state) ? j : null;
      }, 120_000);
      expect(final, `steps when killed: ${JSON.stringify(atKill)}`).toEqual({ state: "succeeded", error: null });
    } finally {
      again.kill("SIGTERM");
      await again.exited;
    }
    expect(await parentsOf(c.root, "big")).toEqual(op.parentsAfter);
    await expectLayerContent(c.root, "big", op.contentAfter(before), { exactly: true });
    for (const layer of (await scanDisk(c.root, "big")).layers) {
      const check = await img.check(path.join(c.root, layer.file));
      expect({ layer: layer.name, corruptions: check.corruptions, leaks: check.leaks }).toEqual({ layer: layer.name, corruptions: 0, leaks: 0 });
    }
    return { c, jobId, atKill };
  } finally {
    await db.close();
  }
}

function layerPath(c: CanopyEnv, layer: string): string {
  return path.join(c.root, "big", `${layer}.qcow2`);
}

for (const [name, op] of Object.entries(OPERATIONS)) {
  describe(`a worker killed during the ${name} loses nothing`, () => {
    it("killed the instant the header changes", async () => {
      await killThenRecover(op, { at: "header" }, name);
    }, 240_000);

    for (const round of [1, 2]) {
      it(`killed at a random instant (${round})`, async () => {
        await killThenRecover(op, { at: "random" }, `${name}, round ${round}`);
      }, 240_000);
    }
  });
}

describe("a commit killed inside its copy", () => {
  it("leaves leaked clusters in the base, which the resumed job frees and records", async () => {
    const op = OPERATIONS["merge down of B1..B2 into B0"]!;
    const before = seedContent(op.layers, SIZE);
    const c = await makeCanopyEnv(op.layers, SIZE);
    const queued = await c.cli(...op.args, "--background", "--json");
    const jobId: string = queued.json.job.id;
    const db = await openRawDb(c.env.DATABASE_URL!, { readonly: true });
    const job = async () => (await db.get<{ state: string; error: string | null }>('SELECT state, error FROM "Job" WHERE id = ?', jobId))!;
    try {
      const base = layerPath(c, "B0");
      const sizeBefore = (await stat(base)).size;
      const worker = c.startWorker();
      // Killed while the commit copies B2's data (see COMMIT_LEAKS_AFTER).
      await waitFor("the commit to write into B0", async () => (await stat(base)).size > sizeBefore + COMMIT_LEAKS_AFTER, 120_000);
      worker.kill("SIGKILL");
      await worker.exited;
      expect((await job()).state).toBe("running");
      const leaked = await img.check(base);
      expect(leaked.corruptions).toBe(0);
      expect(leaked.leaks).toBeGreaterThan(0);

      const again = c.startWorker();
      try {
        await waitFor("the job to end", async () => ((await job()).state === "running" ? null : true), 120_000);
      } finally {
        again.kill("SIGTERM");
        await again.exited;
      }
      expect(await job()).toEqual({ state: "succeeded", error: null });
      const audit = await db.get<{ detail: string }>('SELECT detail FROM "AuditEvent" WHERE detail LIKE ?', `%${jobId}%`);
      expect(JSON.parse(audit!.detail).notes).toContain(`freed ${leaked.leaks} leaked clusters in B0 left by the interrupted step`);
      const after = await img.check(base);
      expect({ corruptions: after.corruptions, leaks: after.leaks }).toEqual({ corruptions: 0, leaks: 0 });
      expect(await parentsOf(c.root, "big")).toEqual(op.parentsAfter);
      await expectLayerContent(c.root, "big", op.contentAfter(before), { exactly: true });
    } finally {
      await db.close();
    }
  }, 240_000);
});
