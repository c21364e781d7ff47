import { access } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { seedChain, visibleBlocks } from "@/lib/demo/seed";
import { scanDisk } from "@/lib/inventory/scan";
import { executeLiveStep } from "@/lib/live/execute-live";
import { LiveStepCancelled } from "@/lib/live/errors";
import { activeChain, inspectLive, nodeNamed } from "@/lib/live/inspect";
import { planSnapshot } from "@/lib/ops/plan-simple";
import { readQcow2Header } from "@/lib/qcow2/header";
import * as img from "@/lib/qemu/img";
import { expectLayerContent, seedContent } from "../support/layer-data";
import { imageMismatches, unitsFromBlocks, withWrites } from "../support/live-content";
import { startLiveDisk } from "../support/live-disk";

/** Live snapshot (create-overlay on the active layer) while the guest writes. */

const untouched = (names: string[]) => Object.fromEntries(Object.entries(seedContent()).filter(([n]) => names.includes(n)));

describe("live snapshot", () => {
  it("puts a new overlay on top while the guest writes; bitmaps follow; every write lands exactly once", async () => {
    const live = await startLiveDisk();
    await live.qmp.execute("block-dirty-bitmap-add", { node: "L1C", name: "backup0", persistent: true });
    const writer = await live.startWriter();
    await writer.moreWrites(30);

    const plan = planSnapshot(await live.state(), "1D", null);
    expect(plan.steps.map((s) => s.kind)).toEqual(["create-overlay", "set-description", "set-active"]);
    const from = performance.now();
    const [first] = await live.runPlan(plan);
    const to = performance.now();
    expect(first).toMatchObject({ mode: "live", activeLayer: "1D" });
    // Recorded by the step itself the moment the guest's writes moved, then again by the plan's set-active.
    expect(live.activeLog).toEqual(["1D", "1D"]);
    await writer.moreWrites(30);

    const view = await inspectLive(live.qmp, { exportId: live.daemon.exportId });
    expect(activeChain(view).map((n) => n.name)).toEqual(["L1D", "L1C", "L1B", "L1A", "VM1", "Base"]);
    const [overlayBitmap] = nodeNamed(view, "L1D")!.bitmaps;
    const [oldBitmap] = nodeNamed(view, "L1C")!.bitmaps;
    expect(overlayBitmap).toMatchObject({ name: "backup0", recording: true, persistent: true });
    expect(overlayBitmap!.count).toBeGreaterThan(0);
    expect(oldBitmap).toMatchObject({ name: "backup0", recording: false, persistent: true });
    // Counts are in bytes of dirty granules (64 KiB). The old bitmap holds no write sent after the snapshot;
    // the overlay's holds every write sent after it.
    const granules = (ws: typeof writer.writes) => new Set(ws.map((w) => Math.floor(w.offset / 65536))).size * 65536;
    expect(oldBitmap!.count).toBeLessThanOrEqual(granules(writer.writes.filter((w) => w.startedAt < to)));
    expect(overlayBitmap!.count).toBeGreaterThanOrEqual(granules(writer.writes.filter((w) => w.startedAt > to && w.ok)));

    await live.stopAll();
    const writes = writer.writes;
    expect(writer.writesBetween(from, to).length, "the guest kept writing during the snapshot").toBeGreaterThan(0);
    expect(writes.every((w) => w.ok)).toBe(true);
    const file = (n: string) => path.join(live.root, "vm-1", `${n}.qcow2`);
    expect(await readQcow2Header(file("1D"))).toMatchObject({ backingFile: "1C.qcow2", backingFormat: "qcow2" });
    expect((await scanDisk(live.root, "vm-1")).layers.find((l) => l.name === "1D")?.parent).toBe("1C");
    const seed1C = unitsFromBlocks(visibleBlocks(seedChain("1C")));
    // The guest sees every write; 1C froze at the snapshot (writes in flight then may be on either side).
    expect(await imageMismatches(file("1D"), withWrites(seed1C, writes))).toEqual([]);
    expect(await imageMismatches(file("1C"), withWrites(seed1C, writes, { from, to }))).toEqual([]);
    await expectLayerContent(live.root, "vm-1", untouched(["Base", "VM1", "1A", "1B", "1X"]));
    // The bitmaps were stored in the files on quit: the new one recording (auto), the old one frozen.
    const bitmaps = async (n: string) => (await img.info(file(n)))["format-specific"]?.data.bitmaps ?? [];
    expect((await bitmaps("1D")).map((b) => [b.name, b.flags.includes("auto")])).toEqual([["backup0", true]]);
    expect((await bitmaps("1C")).map((b) => [b.name, b.flags.includes("auto")])).toEqual([["backup0", false]]);
  }, 60_000);

  it("is safe to run again after it succeeded, and does nothing when cancelled before it starts", async () => {
    const live = await startLiveDisk();
    const writer = await live.startWriter();
    const step = { kind: "create-overlay", layer: "1D", backing: "1C" } as const;

    const abort = new AbortController();
    abort.abort();
    await expect(executeLiveStep(step, await live.ctx({ signal: abort.signal }))).rejects.toBeInstanceOf(LiveStepCancelled);
    await expect(access(path.join(live.root, "vm-1", "1D.qcow2"))).rejects.toThrow();
    expect((await inspectLive(live.qmp)).active).toBe("L1C");

    await expect(executeLiveStep(step, await live.ctx())).resolves.toMatchObject({ mode: "live", activeLayer: "1D" });
    await writer.moreWrites(10);
    await expect(executeLiveStep(step, await live.ctx())).resolves.toMatchObject({ mode: "no-op", activeLayer: "1D" });
    expect(activeChain(await inspectLive(live.qmp)).map((n) => n.name)).toEqual(["L1D", "L1C", "L1B", "L1A", "VM1", "Base"]);
    await live.stopAll();
    const seed1C = unitsFromBlocks(visibleBlocks(seedChain("1C")));
    expect(await imageMismatches(path.join(live.root, "vm-1", "1D.qcow2"), withWrites(seed1C, writer.writes))).toEqual([]);
  }, 60_000);

  it("a new branch on a read-only snapshot (a revert's overlay) is made offline; the running chain is not touched", async () => {
    const live = await startLiveDisk();
    const writer = await live.startWriter();
    await writer.moreWrites(10);
    await expect(executeLiveStep({ kind: "create-overlay", layer: "1A-2", backing: "1A" }, await live.ctx())).resolves.toMatchObject({
      mode: "offline",
    });
    // 1X is not open at all (a branch the running disk does not read): the same.
    await expect(executeLiveStep({ kind: "create-overlay", layer: "1X-2", backing: "1X" }, await live.ctx())).resolves.toMatchObject({
      mode: "offline",
    });
    expect(activeChain(await inspectLive(live.qmp)).map((n) => n.name)).toEqual(["L1C", "L1B", "L1A", "VM1", "Base"]);
    await writer.moreWrites(10);
    await live.stopAll();
    expect(await readQcow2Header(path.join(live.root, "vm-1", "1A-2.qcow2"))).toMatchObject({
      backingFile: "1A.qcow2",
      backingFormat: "qcow2",
    });
    await expectLayerContent(live.root, "vm-1", { "1A-2": seedContent()["1A"]!, "1X-2": seedContent()["1X"]! });
  }, 60_000);
});
