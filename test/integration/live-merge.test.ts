import path from "node:path";
import { describe, expect, it } from "vitest";
import { MiB, seedChain, visibleBlocks, SEED_LAYERS } from "@/lib/demo/seed";
import { activeChain, inspectLive, nodeNamed } from "@/lib/live/inspect";
import { planDelete } from "@/lib/ops/plan-delete";
import { planMergeDown } from "@/lib/ops/plan-merge-down";
import { planMergeUp } from "@/lib/ops/plan-merge-up";
import { planFlatten, planSnapshot } from "@/lib/ops/plan-simple";
import { readQcow2Header } from "@/lib/qcow2/header";
import { withoutLayers } from "../support/canopy-env";
import { expectLayerContent, parentsOf, seedContent } from "../support/layer-data";
import { imageMismatches, unitsFromBlocks, withWrites } from "../support/live-content";
import { startLiveDisk, type LiveDisk } from "../support/live-disk";

/**
 * Merges on a running disk while the guest writes: merge down (intermediate and active commit), merge up,
 * delete of a middle layer, flatten. Jobs are throttled (speed) so the guest's writes overlap them. After
 * each: the guest sees exactly what it wrote over the merged state, every other layer reads as before, and
 * the tree has the planned shape.
 */

const SPEED = 4 * MiB;

/** Runs the plan while the writer writes; returns the results and the time window of the run. */
async function runWhileWriting(live: LiveDisk, plan: Parameters<LiveDisk["runPlan"]>[0], speed = SPEED) {
  const writer = await live.startWriter();
  await writer.moreWrites(20);
  const from = performance.now();
  const results = await live.runPlan(plan, { speed });
  const to = performance.now();
  await writer.moreWrites(20);
  await live.stopAll();
  expect(writer.writesBetween(from, to).length, "the guest kept writing during the operation").toBeGreaterThan(5);
  expect(writer.writes.filter((w) => !w.ok)).toEqual([]);
  return { results, writes: writer.writes };
}

const file = (live: LiveDisk, disk: string, layer: string) => path.join(live.root, disk, `${layer}.qcow2`);
const seedUnits = (layer: string, layers = SEED_LAYERS) => unitsFromBlocks(visibleBlocks(seedChain(layer, layers)));
const pick = (content: Record<string, number[]>, names: string[]) =>
  Object.fromEntries(Object.entries(content).filter(([n]) => names.includes(n)));

describe("live merge down", () => {
  it("intermediate: commits 1A..1B into VM1 under the running 1C; QEMU repoints 1C; merged layers closed and deleted", async () => {
    const layers = withoutLayers(["1X"]);
    const live = await startLiveDisk({ layers });
    const plan = await planMergeDown(await live.state(), "1B", "VM1", live.measure);
    expect(plan.refused).toBeNull();
    expect(plan.steps.map((s) => s.kind)).toEqual(["commit", "repoint", "delete-file", "delete-file"]);
    const viewBefore = await inspectLive(live.qmp);
    expect(viewBefore.active).toBe("L1C");

    const { results, writes } = await runWhileWriting(live, plan);
    expect(results.map((r) => r.mode)).toEqual(["live", "no-op", "offline", "offline"]);
    expect(live.activeLog).toEqual([]);
    expect(await parentsOf(live.root, "vm-1")).toEqual({ Base: null, VM1: "Base", "1C": "VM1" });
    expect(await readQcow2Header(file(live, "vm-1", "1C"))).toMatchObject({ backingFile: "VM1.qcow2", backingFormat: "qcow2" });
    // VM1 now holds what 1B showed; the guest sees its writes over that.
    await expectLayerContent(live.root, "vm-1", { ...pick(seedContent(layers), ["Base"]), VM1: visibleBlocks(seedChain("1B", layers)) });
    expect(await imageMismatches(file(live, "vm-1", "1C"), withWrites(seedUnits("1C", layers), writes))).toEqual([]);
  }, 90_000);

  it("after a live snapshot, merges the frozen 1C down into 1B; 1C's bitmap history moves to the running 1D's bitmap", async () => {
    const layers = withoutLayers(["1X"]);
    const live = await startLiveDisk({ layers });
    await live.qmp.execute("block-dirty-bitmap-add", { node: "L1C", name: "backup0", persistent: true });
    const writer = await live.startWriter();
    await writer.moreWrites(30);
    await live.runPlan(planSnapshot(await live.state(), "1D", null));
    await writer.moreWrites(30);
    const plan = await planMergeDown(await live.state(), "1C", "1B", live.measure);
    expect(plan.steps.map((s) => s.kind)).toEqual(["commit", "repoint", "delete-file"]);
    const results = await live.runPlan(plan, { speed: SPEED });
    expect(results.flatMap((r) => r.notes).filter((n) => /bitmap/.test(n))).toEqual([]);
    await writer.moreWrites(20);
    const view = await inspectLive(live.qmp, { exportId: live.daemon.exportId });
    expect(activeChain(view).map((n) => n.name)).toEqual(["L1D", "L1B", "L1A", "VM1", "Base"]);
    const bitmap = nodeNamed(view, "L1D")!.bitmaps.find((b) => b.name === "backup0");
    const granules = new Set(writer.writes.filter((w) => w.ok).map((w) => Math.floor(w.offset / 65536))).size * 65536;
    expect(bitmap, "writes before the snapshot (1C's history) and after it").toMatchObject({ recording: true });
    expect(bitmap!.count).toBeGreaterThanOrEqual(granules);
    await live.stopAll();
    expect(writer.writes.filter((w) => !w.ok)).toEqual([]);
    expect(await parentsOf(live.root, "vm-1")).toEqual({ Base: null, VM1: "Base", "1A": "VM1", "1B": "1A", "1D": "1B" });
    expect(await imageMismatches(file(live, "vm-1", "1D"), withWrites(seedUnits("1C", layers), writer.writes))).toEqual([]);
    await expectLayerContent(live.root, "vm-1", pick(seedContent(layers), ["Base", "VM1", "1A"]));
  }, 90_000);

  it("active: commits 1C into 1B, pivots, the guest writes into 1B; the bitmap keeps tracking across the pivot", async () => {
    const live = await startLiveDisk();
    await live.qmp.execute("block-dirty-bitmap-add", { node: "L1C", name: "backup0", persistent: true });
    const plan = await planMergeDown(await live.state(), "1C", "1B", live.measure);
    expect(plan.steps.map((s) => s.kind)).toEqual(["commit", "delete-file", "set-active"]);
    const progress: string[] = [];
    const writer = await live.startWriter();
    await writer.moreWrites(20);
    const from = performance.now();
    const results = await live.runPlan(plan, { speed: 4 * MiB, onJobProgress: (p) => progress.push(p.status) });
    const to = performance.now();
    await writer.moreWrites(20);
    expect(results[0]).toMatchObject({ mode: "live", activeLayer: "1B" });
    expect(progress).toEqual(expect.arrayContaining(["running", "ready"]));
    expect(live.activeLog).toEqual(["1B", "1B"]);
    const view = await inspectLive(live.qmp, { exportId: live.daemon.exportId });
    expect(activeChain(view).map((n) => n.name)).toEqual(["L1B", "L1A", "VM1", "Base"]);
    expect(nodeNamed(view, "L1C")).toBeUndefined();
    const bitmap = nodeNamed(view, "L1B")!.bitmaps.find((b) => b.name === "backup0");
    expect(bitmap).toMatchObject({ recording: true, persistent: true });
    const granules = new Set(writer.writes.filter((w) => w.ok).map((w) => Math.floor(w.offset / 65536))).size * 65536;
    expect(bitmap!.count, "every write since the bitmap was made, before and after the pivot").toBeGreaterThanOrEqual(granules);

    await live.stopAll();
    expect(writer.writesBetween(from, to).length).toBeGreaterThan(5);
    expect(writer.writes.filter((w) => !w.ok)).toEqual([]);
    expect(await parentsOf(live.root, "vm-1")).toEqual({ Base: null, VM1: "Base", "1A": "VM1", "1B": "1A", "1X": "1A" });
    expect(await imageMismatches(file(live, "vm-1", "1B"), withWrites(seedUnits("1C"), writer.writes))).toEqual([]);
    await expectLayerContent(live.root, "vm-1", pick(seedContent(), ["Base", "VM1", "1A", "1X"]));
  }, 90_000);
});

describe("live merge up", () => {
  it("pulls 1B into the running 1C, which then reads from 1A; 1B closed and deleted; 1X untouched", async () => {
    const live = await startLiveDisk();
    const plan = await planMergeUp(await live.state(), "1C", "1A", false, live.measure);
    expect(plan.steps.map((s) => s.kind)).toEqual(["pull", "delete-file"]);
    const { results, writes } = await runWhileWriting(live, plan, MiB);
    expect(results.map((r) => r.mode)).toEqual(["live", "offline"]);
    expect(await parentsOf(live.root, "vm-1")).toEqual({ Base: null, VM1: "Base", "1A": "VM1", "1C": "1A", "1X": "1A" });
    expect(await readQcow2Header(file(live, "vm-1", "1C"))).toMatchObject({ backingFile: "1A.qcow2", backingFormat: "qcow2" });
    expect(await imageMismatches(file(live, "vm-1", "1C"), withWrites(seedUnits("1C"), writes))).toEqual([]);
    await expectLayerContent(live.root, "vm-1", pick(seedContent(), ["Base", "VM1", "1A", "1X"]));
  }, 90_000);

  it("flattens the running D2: everything pulled in, no backing left, D0 and D1 as they were", async () => {
    const live = await startLiveDisk({ disk: "vm-2" });
    const plan = await planFlatten(await live.state(), live.readThrough);
    const { results, writes } = await runWhileWriting(live, plan);
    expect(results.map((r) => r.mode)).toEqual(["live"]);
    expect(await readQcow2Header(file(live, "vm-2", "D2"))).toMatchObject({ backingFile: null, backingFormat: null });
    expect(await imageMismatches(file(live, "vm-2", "D2"), withWrites(seedUnits("D2"), writes))).toEqual([]);
    await expectLayerContent(live.root, "vm-2", pick(seedContent(), ["D0", "D1"]));
  }, 90_000);
});

describe("live delete of a middle layer", () => {
  it("merges D1 down into D0 under the running D2 (the sibling rule allows it), then removes D1", async () => {
    const live = await startLiveDisk({ disk: "vm-2" });
    const plan = await planDelete(await live.state(), "D1", live.measure);
    expect(plan.steps.map((s) => s.kind)).toEqual(["commit", "repoint", "delete-file"]);
    const { results, writes } = await runWhileWriting(live, plan, MiB);
    expect(results.map((r) => r.mode)).toEqual(["live", "no-op", "offline"]);
    expect(await parentsOf(live.root, "vm-2")).toEqual({ D0: null, D2: "D0" });
    await expectLayerContent(live.root, "vm-2", { D0: visibleBlocks(seedChain("D1")) });
    expect(await imageMismatches(file(live, "vm-2", "D2"), withWrites(seedUnits("D2"), writes))).toEqual([]);
  }, 90_000);

  it("pulls 1B into the running 1C when its parent 1A has another branch (1X), then removes 1B", async () => {
    const live = await startLiveDisk();
    const plan = await planDelete(await live.state(), "1B", live.measure);
    expect(plan.steps.map((s) => s.kind)).toEqual(["pull", "delete-file"]);
    const { writes } = await runWhileWriting(live, plan, MiB);
    expect(await parentsOf(live.root, "vm-1")).toEqual({ Base: null, VM1: "Base", "1A": "VM1", "1C": "1A", "1X": "1A" });
    expect(await imageMismatches(file(live, "vm-1", "1C"), withWrites(seedUnits("1C"), writes))).toEqual([]);
    await expectLayerContent(live.root, "vm-1", pick(seedContent(), ["Base", "VM1", "1A", "1X"]));
  }, 90_000);

  it("pulls 1A into the running 1B (a layer in the middle of the chain) and into the closed branch 1X, then removes 1A", async () => {
    const live = await startLiveDisk();
    const plan = await planDelete(await live.state(), "1A", live.measure);
    expect(plan.steps).toEqual([
      expect.objectContaining({ kind: "pull", layer: "1B", backing: "VM1" }),
      expect.objectContaining({ kind: "pull", layer: "1X", backing: "VM1" }),
      { kind: "delete-file", layer: "1A" },
    ]);
    const { results, writes } = await runWhileWriting(live, plan, MiB);
    expect(results.map((r) => r.mode)).toEqual(["live", "offline", "offline"]);
    expect(await parentsOf(live.root, "vm-1")).toEqual({ Base: null, VM1: "Base", "1B": "VM1", "1X": "VM1", "1C": "1B" });
    expect(await readQcow2Header(file(live, "vm-1", "1B"))).toMatchObject({ backingFile: "VM1.qcow2", backingFormat: "qcow2" });
    expect(await imageMismatches(file(live, "vm-1", "1C"), withWrites(seedUnits("1C"), writes))).toEqual([]);
    await expectLayerContent(live.root, "vm-1", pick(seedContent(), ["Base", "VM1", "1B", "1X"]));
  }, 90_000);
});
