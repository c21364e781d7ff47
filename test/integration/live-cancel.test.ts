import path from "node:path";
import { describe, expect, it } from "vitest";
import { seedChain, visibleBlocks, SEED_LAYERS } from "@/lib/demo/seed";
import type { LiveStepContext } from "@/lib/live/context";
import { LiveStepCancelled } from "@/lib/live/errors";
import { executeLiveStep } from "@/lib/live/execute-live";
import { activeChain, inspectLive } from "@/lib/live/inspect";
import type { PlanStep } from "@/lib/ops/types";
import type { JobProgress } from "@/lib/qmp/jobs";
import { withoutLayers } from "../support/canopy-env";
import { expectLayerContent, parentsOf, seedContent } from "../support/layer-data";
import { eitherOf, imageMismatches, unitsFromBlocks, withWrites } from "../support/live-content";
import { startLiveDisk, type LiveDisk } from "../support/live-disk";

/**
 * Cancelling live jobs through the AbortSignal, in each state, while the guest writes: an intermediate commit
 * mid-copy, an active commit while it copies and at READY (no pivot), a pull mid-copy. Afterwards the chain
 * is as it was, no job is left in QEMU, the guest sees every write, and every layer reads as before, except
 * the base of a commit, which may hold part of the merged data (each block either its old or its new content).
 */

const SLOW = 256 * 1024;
const file = (live: LiveDisk, layer: string) => path.join(live.root, "vm-1", `${layer}.qcow2`);
const seedUnits = (layer: string, layers = SEED_LAYERS) => unitsFromBlocks(visibleBlocks(seedChain(layer, layers)));
const pick = (content: Record<string, number[]>, names: string[]) =>
  Object.fromEntries(Object.entries(content).filter(([n]) => names.includes(n)));
const EVERY_WRITE_MAYBE = { from: -Infinity, to: Infinity };

/** Runs `step` and aborts it when `when` says so; returns the rejection and the statuses seen. */
async function cancelWhen(live: LiveDisk, step: PlanStep, when: (p: JobProgress) => boolean, extra: Partial<LiveStepContext> = {}) {
  const abort = new AbortController();
  const seen: JobProgress[] = [];
  const started = performance.now();
  const error = await executeLiveStep(
    step,
    await live.ctx({
      signal: abort.signal,
      speed: SLOW,
      onJobProgress: (p) => {
        seen.push(p);
        if (when(p)) abort.abort();
      },
      ...extra,
    }),
  ).then(
    () => undefined,
    (err: unknown) => err,
  );
  return { error, seen, ms: performance.now() - started };
}

async function expectNothingLeftInQemu(live: LiveDisk, chain: string[]) {
  const view = await inspectLive(live.qmp, { exportId: live.daemon.exportId });
  expect(view.jobs).toEqual([]);
  expect(activeChain(view).map((n) => n.name)).toEqual(chain);
}

describe("cancelling live jobs", () => {
  it("an intermediate commit mid-copy: stops at once; 1B and above read as before, VM1 and 1A hold part of it", async () => {
    const layers = withoutLayers(["1X"]);
    const live = await startLiveDisk({ layers });
    const writer = await live.startWriter();
    await writer.moreWrites(10);
    const { error, seen, ms } = await cancelWhen(
      live,
      { kind: "commit", top: "1B", base: "VM1", bytes: 0 },
      (p) => p.status === "running" && p.current > 0,
    );
    expect(error).toBeInstanceOf(LiveStepCancelled);
    expect((error as Error).message).toMatch(/VM1.*may hold part of the merged data/);
    const last = seen.at(-1)!;
    expect(last.current).toBeLessThan(last.total);
    expect(ms).toBeLessThan(15_000);
    await writer.moreWrites(10);
    await expectNothingLeftInQemu(live, ["L1C", "L1B", "L1A", "VM1", "Base"]);
    await live.stopAll();
    expect(writer.writes.filter((w) => !w.ok)).toEqual([]);
    expect(await parentsOf(live.root, "vm-1")).toEqual({ Base: null, VM1: "Base", "1A": "VM1", "1B": "1A", "1C": "1B" });
    expect(await imageMismatches(file(live, "1C"), withWrites(seedUnits("1C", layers), writer.writes))).toEqual([]);
    await expectLayerContent(live.root, "vm-1", pick(seedContent(layers), ["Base", "1B"]));
    expect(await imageMismatches(file(live, "VM1"), eitherOf(seedUnits("VM1", layers), seedUnits("1B", layers)))).toEqual([]);
    expect(await imageMismatches(file(live, "1A"), eitherOf(seedUnits("1A", layers), seedUnits("1B", layers)))).toEqual([]);
  }, 90_000);

  it("an active commit at READY: no pivot, 1C stays active and whole", async () => {
    const live = await startLiveDisk();
    const writer = await live.startWriter();
    await writer.moreWrites(10);
    const { error, seen } = await cancelWhen(live, { kind: "commit", top: "1C", base: "1B", bytes: 0 }, (p) => p.status === "ready", {
      speed: 0,
    });
    expect(error).toBeInstanceOf(LiveStepCancelled);
    expect((error as Error).message).toMatch(/no pivot happened/);
    expect(seen.map((p) => p.status)).toContain("ready");
    expect(live.activeLog).toEqual([]);
    await writer.moreWrites(10);
    await expectNothingLeftInQemu(live, ["L1C", "L1B", "L1A", "VM1", "Base"]);
    await live.stopAll();
    expect(writer.writes.filter((w) => !w.ok)).toEqual([]);
    expect(await imageMismatches(file(live, "1C"), withWrites(seedUnits("1C"), writer.writes))).toEqual([]);
    // 1B took a copy of 1C's data (and of the guest's writes while mirrored) before the cancel.
    const base = eitherOf(seedUnits("1B"), withWrites(seedUnits("1C"), writer.writes, EVERY_WRITE_MAYBE));
    expect(await imageMismatches(file(live, "1B"), base)).toEqual([]);
    await expectLayerContent(live.root, "vm-1", pick(seedContent(), ["Base", "VM1", "1A", "1X"]));
  }, 90_000);

  it("an active commit while it still copies: no pivot", async () => {
    const live = await startLiveDisk();
    const writer = await live.startWriter();
    await writer.moreWrites(10);
    const { error, seen } = await cancelWhen(
      live,
      { kind: "commit", top: "1C", base: "1B", bytes: 0 },
      (p) => p.status === "running" && p.current > 0,
    );
    expect(error).toBeInstanceOf(LiveStepCancelled);
    expect(seen.map((p) => p.status)).not.toContain("ready");
    await writer.moreWrites(10);
    await expectNothingLeftInQemu(live, ["L1C", "L1B", "L1A", "VM1", "Base"]);
    await live.stopAll();
    expect(writer.writes.filter((w) => !w.ok)).toEqual([]);
    expect(await imageMismatches(file(live, "1C"), withWrites(seedUnits("1C"), writer.writes))).toEqual([]);
    const base = eitherOf(seedUnits("1B"), withWrites(seedUnits("1C"), writer.writes, EVERY_WRITE_MAYBE));
    expect(await imageMismatches(file(live, "1B"), base)).toEqual([]);
    await expectLayerContent(live.root, "vm-1", pick(seedContent(), ["Base", "VM1", "1A", "1X"]));
  }, 90_000);

  it("a pull mid-copy: the chain is unchanged and every layer reads as before", async () => {
    const live = await startLiveDisk();
    const writer = await live.startWriter();
    await writer.moreWrites(10);
    const { error } = await cancelWhen(
      live,
      { kind: "pull", layer: "1C", from: "1B", backing: "1A", bytes: 0 },
      (p) => p.status === "running" && p.current > 0,
    );
    expect(error).toBeInstanceOf(LiveStepCancelled);
    await writer.moreWrites(10);
    await expectNothingLeftInQemu(live, ["L1C", "L1B", "L1A", "VM1", "Base"]);
    await live.stopAll();
    expect(writer.writes.filter((w) => !w.ok)).toEqual([]);
    expect((await parentsOf(live.root, "vm-1"))["1C"]).toBe("1B");
    expect(await imageMismatches(file(live, "1C"), withWrites(seedUnits("1C"), writer.writes))).toEqual([]);
    await expectLayerContent(live.root, "vm-1", pick(seedContent(), ["Base", "VM1", "1A", "1B", "1X"]));
  }, 90_000);
});
