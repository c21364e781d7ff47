import path from "node:path";
import { describe, expect, it } from "vitest";
import { seedChain, visibleBlocks, SEED_LAYERS, type SeedLayer } from "@/lib/demo/seed";
import { stopDaemonForDisk } from "@/lib/live/daemon-for-disk";
import { LiveConnectionLost } from "@/lib/live/errors";
import { executeLiveStep } from "@/lib/live/execute-live";
import { scanStorageRoot } from "@/lib/inventory/scan";
import type { PlanStep } from "@/lib/ops/types";
import { run } from "@/lib/proc/run";
import * as img from "@/lib/qemu/img";
import { withoutLayers } from "../support/canopy-env";
import { expectLayerContent, parentsOf, seedContent } from "../support/layer-data";
import { eitherOf, imageMismatches, unitsFromBlocks, withWrites } from "../support/live-content";
import { startLiveDisk, type LiveDisk } from "../support/live-disk";

/**
 * The QEMU process killed (SIGKILL) in the middle of a live job while the guest writes: the step fails with a
 * clear error saying the process is gone, the guest's writer sees its writes fail, and the files are left a
 * consistent tree: the scan finds no problem, qemu-img check finds no corruption, every layer reads through
 * its whole chain, and the layers that cannot have changed read exactly as before.
 */

const SLOW = 256 * 1024;
const EVERY_WRITE_MAYBE = { from: -Infinity, to: Infinity };
const seedUnits = (layer: string, layers: SeedLayer[] = SEED_LAYERS) => unitsFromBlocks(visibleBlocks(seedChain(layer, layers)));

async function killMidJob(live: LiveDisk, step: PlanStep) {
  const writer = await live.startWriter();
  await writer.moreWrites(10);
  let killed = false;
  const error = await executeLiveStep(
    step,
    await live.ctx({
      speed: SLOW,
      onJobProgress: (p) => {
        if (!killed && p.status === "running" && p.current > 0) {
          killed = true;
          process.kill(live.daemon.pid, "SIGKILL");
        }
      },
    }),
  ).catch((e: unknown) => e);
  expect(killed).toBe(true);
  expect(error).toBeInstanceOf(LiveConnectionLost);
  expect((error as LiveConnectionLost).processGone).toBe(true);
  expect((error as Error).message).toMatch(/went away \(it exited or was killed/);
  // The guest's next writes hit a dead export.
  await writer.moreWrites(3);
  await writer.stop();
  expect(writer.failedCount, "the guest saw its writes fail").toBeGreaterThan(0);
  expect(await stopDaemonForDisk(live.daemon)).toEqual({ how: "not-running" });
  return writer.writes;
}

async function expectConsistentTree(live: LiveDisk) {
  const scan = await scanStorageRoot(live.root);
  for (const disk of scan.disks) expect(disk.problems, disk.name).toEqual([]);
  for (const layer of scan.disks.find((d) => d.name === "vm-1")!.layers) {
    const file = path.join(live.root, layer.file);
    const check = await img.check(file);
    expect(check.corruptions, `${layer.name}: ${JSON.stringify(check.raw)}`).toBe(0);
    // Every block of the layer, through its whole chain.
    const read = await run("qemu-io", ["-f", "qcow2", "-r", "-c", `read 0 ${layer.virtualSize}`, file], { timeoutMs: 30_000 });
    expect(read.stdout, layer.name).toMatch(/^read \d+\/\d+ bytes/m);
  }
}

describe("the QEMU process killed mid-job", () => {
  it("during an intermediate commit: a clear error, and a consistent tree in which 1B and 1C read as before", async () => {
    const layers = withoutLayers(["1X"]);
    const live = await startLiveDisk({ layers });
    const writes = await killMidJob(live, { kind: "commit", top: "1B", base: "VM1", bytes: 0 });
    await expectConsistentTree(live);
    expect(await parentsOf(live.root, "vm-1")).toEqual({ Base: null, VM1: "Base", "1A": "VM1", "1B": "1A", "1C": "1B" });
    await expectLayerContent(live.root, "vm-1", Object.fromEntries(Object.entries(seedContent(layers)).filter(([n]) => ["Base", "1B"].includes(n))));
    // Written without a flush before a kill -9: a write may or may not have reached the file.
    const file = (n: string) => path.join(live.root, "vm-1", `${n}.qcow2`);
    expect(await imageMismatches(file("1C"), withWrites(seedUnits("1C", layers), writes, EVERY_WRITE_MAYBE))).toEqual([]);
    expect(await imageMismatches(file("VM1"), eitherOf(seedUnits("VM1", layers), seedUnits("1B", layers)))).toEqual([]);
  }, 90_000);

  it("during an active commit: a clear error, and a consistent tree in which 1C is whole", async () => {
    const live = await startLiveDisk();
    const writes = await killMidJob(live, { kind: "commit", top: "1C", base: "1B", bytes: 0 });
    expect(live.activeLog).toEqual([]);
    await expectConsistentTree(live);
    const file = (n: string) => path.join(live.root, "vm-1", `${n}.qcow2`);
    expect(await imageMismatches(file("1C"), withWrites(seedUnits("1C"), writes, EVERY_WRITE_MAYBE))).toEqual([]);
    expect(await imageMismatches(file("1B"), eitherOf(seedUnits("1B"), withWrites(seedUnits("1C"), writes, EVERY_WRITE_MAYBE)))).toEqual([]);
    await expectLayerContent(live.root, "vm-1", Object.fromEntries(Object.entries(seedContent()).filter(([n]) => ["Base", "VM1", "1A", "1X"].includes(n))));
  }, 90_000);

  it("during a pull: a clear error, and every layer reads as before", async () => {
    const live = await startLiveDisk();
    const writes = await killMidJob(live, { kind: "pull", layer: "1C", from: "1B", backing: "1A", bytes: 0 });
    await expectConsistentTree(live);
    const file = (n: string) => path.join(live.root, "vm-1", `${n}.qcow2`);
    expect(await imageMismatches(file("1C"), withWrites(seedUnits("1C"), writes, EVERY_WRITE_MAYBE))).toEqual([]);
    await expectLayerContent(live.root, "vm-1", Object.fromEntries(Object.entries(seedContent(SEED_LAYERS, undefined, "vm-1")).filter(([n]) => n !== "1C")));
  }, 90_000);
});
