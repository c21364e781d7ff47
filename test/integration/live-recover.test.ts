import path from "node:path";
import { describe, expect, it } from "vitest";
import { MiB, seedChain, visibleBlocks, SEED_LAYERS, type SeedLayer } from "@/lib/demo/seed";
import { LiveConnectionLost } from "@/lib/live/errors";
import { executeLiveStep } from "@/lib/live/execute-live";
import { activeChain, inspectLive, nodeNamed } from "@/lib/live/inspect";
import { liveJobId } from "@/lib/live/job-id";
import { recoverLiveJob, type StepState } from "@/lib/live/recover";
import { planMergeDown } from "@/lib/ops/plan-merge-down";
import { planMergeUp } from "@/lib/ops/plan-merge-up";
import type { Plan } from "@/lib/ops/types";
import { QmpClient } from "@/lib/qmp/client";
import { withoutLayers } from "../support/canopy-env";
import { expectLayerContent, parentsOf, seedContent } from "../support/layer-data";
import { imageMismatches, unitsFromBlocks, withWrites } from "../support/live-content";
import { startLiveDisk, type LiveDisk } from "../support/live-disk";

/**
 * A worker that dies during a live job (its QMP connection drops; QEMU and the job live on) and the next one
 * picking the job up with recoverLiveJob while the guest writes: re-attaching to a job that still runs (also
 * at READY), accepting a job that concluded unwatched, closing nodes it left, re-running a step that never
 * started. Then the remaining steps run, and the result must be exactly that of an uninterrupted run.
 */

const seedUnits = (layer: string, layers: SeedLayer[] = SEED_LAYERS) => unitsFromBlocks(visibleBlocks(seedChain(layer, layers)));
const states = (plan: Plan, running: number): StepState[] => plan.steps.map((_, i) => (i < running ? "done" : i === running ? "running" : "pending"));

/** Starts step `index` and drops the QMP connection (the worker dies) when `when` says so. */
async function dieDuring(live: LiveDisk, plan: Plan, index: number, when: (status: string, current: number) => boolean, speed: number) {
  let died = false;
  const error = await executeLiveStep(
    plan.steps[index]!,
    await live.ctx({
      speed,
      onJobProgress: (p) => {
        if (!died && when(p.status, p.current)) {
          died = true;
          live.qmp.close();
        }
      },
    }),
  ).catch((e: unknown) => e);
  expect(died).toBe(true);
  expect(error).toBeInstanceOf(LiveConnectionLost);
  expect((error as LiveConnectionLost).processGone).toBe(false);
  // The next worker connects afresh.
  live.qmp = await QmpClient.connect(live.daemon.qmpSocket, { timeoutMs: 5_000, defaultTimeoutMs: 20_000 });
}

async function finishPlan(live: LiveDisk, plan: Plan, from: number) {
  for (const step of plan.steps.slice(from)) await executeLiveStep(step, await live.ctx());
}

async function expectMergedDownIntoVM1(live: LiveDisk, layers: SeedLayer[]) {
  const writer = live.writer!;
  await writer.moreWrites(10);
  const view = await inspectLive(live.qmp);
  expect(view.jobs).toEqual([]);
  expect(view.nodes.map((n) => n.name).sort()).toEqual(["Base", "L1C", "VM1"]);
  await live.stopAll();
  expect(writer.writes.filter((w) => !w.ok)).toEqual([]);
  expect(await parentsOf(live.root, "vm-1")).toEqual({ Base: null, VM1: "Base", "1C": "VM1" });
  await expectLayerContent(live.root, "vm-1", { VM1: visibleBlocks(seedChain("1B", layers)) });
  expect(await imageMismatches(path.join(live.root, "vm-1", "1C.qcow2"), withWrites(seedUnits("1C", layers), writer.writes))).toEqual([]);
}

describe("recoverLiveJob after the worker died", () => {
  it("re-attaches to an intermediate commit that still runs and follows it to its end", async () => {
    const layers = withoutLayers(["1X"]);
    const live = await startLiveDisk({ layers });
    const plan = await planMergeDown(await live.state(), "1B", "VM1", live.measure);
    await (await live.startWriter()).moreWrites(10);
    await dieDuring(live, plan, 0, (status, current) => status === "running" && current > 0, 256 * 1024);
    expect((await inspectLive(live.qmp)).jobs.map((j) => [j.id, j.status])).toEqual([[liveJobId(plan.steps[0]!), "running"]]);

    const recovery = await recoverLiveJob(plan, states(plan, 0), await live.ctx({ speed: 0 }));
    expect(recovery.stepIndex).toBe(0);
    expect(recovery.decision).toMatchObject({ action: "attach" });
    expect(recovery.result?.mode).toBe("live");
    await finishPlan(live, plan, 1);
    await expectMergedDownIntoVM1(live, layers);
  }, 90_000);

  it("re-attaches to an active commit waiting at READY, completes it (pivot) and records the new active layer", async () => {
    const live = await startLiveDisk();
    const plan = await planMergeDown(await live.state(), "1C", "1B", live.measure);
    const writer = await live.startWriter();
    await writer.moreWrites(10);
    await dieDuring(live, plan, 0, (status) => status === "ready", 0);
    expect((await inspectLive(live.qmp)).jobs.map((j) => j.status)).toEqual(["ready"]);
    expect(live.activeLog).toEqual([]);

    const recovery = await recoverLiveJob(plan, states(plan, 0), await live.ctx());
    expect(recovery.decision).toMatchObject({ action: "attach" });
    expect(recovery.result).toMatchObject({ mode: "live", activeLayer: "1B" });
    expect(live.activeLog).toEqual(["1B"]);
    await finishPlan(live, plan, 1);
    await writer.moreWrites(10);
    const view = await inspectLive(live.qmp, { exportId: live.daemon.exportId });
    expect(activeChain(view).map((n) => n.name)).toEqual(["L1B", "L1A", "VM1", "Base"]);
    await live.stopAll();
    expect(writer.writes.filter((w) => !w.ok)).toEqual([]);
    expect(await imageMismatches(path.join(live.root, "vm-1", "1B.qcow2"), withWrites(seedUnits("1C"), writer.writes))).toEqual([]);
    await expectLayerContent(live.root, "vm-1", Object.fromEntries(Object.entries(seedContent()).filter(([n]) => ["Base", "VM1", "1A", "1X"].includes(n))));
  }, 90_000);

  it("accepts a commit that concluded while nobody watched: dismisses it, closes the merged nodes, marks it done", async () => {
    const layers = withoutLayers(["1X"]);
    const live = await startLiveDisk({ layers });
    const plan = await planMergeDown(await live.state(), "1B", "VM1", live.measure);
    await (await live.startWriter()).moreWrites(10);
    await dieDuring(live, plan, 0, (status, current) => status === "running" && current > 0, 2 * MiB);
    const jobId = liveJobId(plan.steps[0]!);
    for (let i = 0; i < 200 && (await inspectLive(live.qmp)).jobs[0]?.status !== "concluded"; i++) await new Promise((r) => setTimeout(r, 100));
    const before = await inspectLive(live.qmp);
    expect(before.jobs).toEqual([expect.objectContaining({ id: jobId, status: "concluded" })]);
    // The merged nodes are still open: the dead worker never closed them.
    expect(nodeNamed(before, "L1B")).toBeDefined();

    const recovery = await recoverLiveJob(plan, states(plan, 0), await live.ctx());
    expect(recovery.decision).toMatchObject({ action: "done" });
    expect(recovery.decision?.reason).toMatch(/1C reads VM1 directly/);
    await finishPlan(live, plan, 1);
    await expectMergedDownIntoVM1(live, layers);
  }, 90_000);

  it("recognises a pivot that happened just before the worker died, and closes the node left open", async () => {
    const live = await startLiveDisk();
    const plan = await planMergeDown(await live.state(), "1C", "1B", live.measure);
    const writer = await live.startWriter();
    await writer.moreWrites(10);
    // What the dead worker had done: the job started under its id, completed (pivot), never dismissed.
    const jobId = liveJobId(plan.steps[0]!);
    const ready = live.qmp.waitForEvent("BLOCK_JOB_READY", undefined, { timeoutMs: 20_000 });
    await live.qmp.execute("block-commit", { "job-id": jobId, device: "L1C", "base-node": "L1B", "auto-dismiss": false });
    await ready;
    const concluded = live.qmp.waitForEvent("JOB_STATUS_CHANGE", (e) => e.data.status === "concluded", { timeoutMs: 20_000 });
    await live.qmp.execute("job-complete", { id: jobId });
    await concluded;

    const recovery = await recoverLiveJob(plan, states(plan, 0), await live.ctx());
    expect(recovery.decision).toMatchObject({ action: "done", activeLayer: "1B" });
    expect(live.activeLog).toEqual(["1B"]);
    const view = await inspectLive(live.qmp);
    expect(view.jobs).toEqual([]);
    expect(nodeNamed(view, "L1C")).toBeUndefined();
    await finishPlan(live, plan, 1);
    await writer.moreWrites(10);
    await live.stopAll();
    expect(writer.writes.filter((w) => !w.ok)).toEqual([]);
    expect(await parentsOf(live.root, "vm-1")).toEqual({ Base: null, VM1: "Base", "1A": "VM1", "1B": "1A", "1X": "1A" });
    expect(await imageMismatches(path.join(live.root, "vm-1", "1B.qcow2"), withWrites(seedUnits("1C"), writer.writes))).toEqual([]);
  }, 90_000);

  it("re-runs a step whose job never started", async () => {
    const live = await startLiveDisk();
    const plan = await planMergeUp(await live.state(), "1C", "1A", false, live.measure);
    const writer = await live.startWriter();
    await writer.moreWrites(10);
    const recovery = await recoverLiveJob(plan, states(plan, 0), await live.ctx());
    expect(recovery.decision).toMatchObject({ action: "rerun" });
    expect(recovery.result?.mode).toBe("live");
    await finishPlan(live, plan, 1);
    await writer.moreWrites(10);
    await live.stopAll();
    expect(writer.writes.filter((w) => !w.ok)).toEqual([]);
    expect((await parentsOf(live.root, "vm-1"))["1C"]).toBe("1A");
    expect(await imageMismatches(path.join(live.root, "vm-1", "1C.qcow2"), withWrites(seedUnits("1C"), writer.writes))).toEqual([]);
    await expectLayerContent(live.root, "vm-1", Object.fromEntries(Object.entries(seedContent()).filter(([n]) => ["Base", "VM1", "1A", "1X"].includes(n))));
  }, 90_000);
});
