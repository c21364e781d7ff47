// A storage root with a disk of 5,000 layers and one with a chain 1,000 deep, beside the seed's disks: each scan
// records them all (in statements of bounded size, on SQLite and PostgreSQL), and a disk that cannot be recorded
// is shown as such while the others are recorded all the same.
import { copyFile, mkdir, open, rename, rm } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { run } from "@/lib/proc/run";
import { adoptCanopyEnv, makeCanopyEnv, type CanopyEnv } from "../support/canopy-env";
import { layerName, writeLayerTree } from "../support/layer-tree-files";
import { waitFor } from "../support/wait-for";

vi.mock("server-only", () => ({}));

const WIDE = 5_000;
const DEEP = 1_000;

let c: CanopyEnv;
let sync: typeof import("@/server/sync-inventory");
let disks: typeof import("@/server/disks");
let db: typeof import("@/server/db");

beforeAll(async () => {
  c = await makeCanopyEnv();
  adoptCanopyEnv(c);
  sync = await import("@/server/sync-inventory");
  disks = await import("@/server/disks");
  db = await import("@/server/db");
  // "wide": a binary tree of 5,000 layers (2,500 branch tips); "deep": one chain of 1,000.
  await writeLayerTree(path.join(c.root, "wide"), WIDE, (i) => (i - 1) >> 1, "W");
  await writeLayerTree(path.join(c.root, "deep"), DEEP, (i) => i - 1, "D");
});

/** A new snapshot on vm-2's active layer D2, made by qemu-img as another tool would. */
async function snapshotVm2(name: string, backing: string) {
  const file = path.join(c.root, "vm-2", `${name}.qcow2`);
  await run("qemu-img", ["create", "-q", "-f", "qcow2", "-b", `${backing}.qcow2`, "-F", "qcow2", file], { timeoutMs: 60_000 });
}

/** Overwrites the header's virtual size: 2^64-1 bytes is more than either database's 64-bit integer holds. */
async function setVirtualSize(file: string, size: bigint) {
  const fh = await open(file, "r+");
  try {
    const field = Buffer.alloc(8);
    field.writeBigUInt64BE(size);
    await fh.write(field, 0, 8, 24);
  } finally {
    await fh.close();
  }
}

describe("inventory at any size", () => {
  it("records a disk of 5,000 layers and a chain 1,000 deep, and the seed's disks in the same scan", async () => {
    // Real qcow2 files: QEMU opens the deepest layer through its whole chain.
    await run("qemu-img", ["check", "-q", path.join(c.root, "deep", `${layerName("D", DEEP - 1)}.qcow2`)], { timeoutMs: 60_000 });
    await snapshotVm2("D3", "D2");

    let started = performance.now();
    const first = await sync.scanAndRecord(c.root);
    const firstMs = performance.now() - started;
    expect(first.unrecorded).toEqual([]);

    const listed = await disks.listDisks();
    const summaryOf = (name: string) => listed.find((d) => d.name === name)!;
    const wide = summaryOf("wide");
    expect(wide.layerCount).toBe(WIDE);
    expect(wide.branchCount).toBe(WIDE / 2);
    expect(wide.problems).toEqual([]);
    const deep = summaryOf("deep");
    expect(deep.layerCount).toBe(DEEP);
    expect(deep.activeLayer).toBe(layerName("D", DEEP - 1));
    expect(deep.depth).toBe(DEEP);
    // The normal disk beside them: the snapshot stacked on its active layer is recorded, and becomes active.
    const vm2 = summaryOf("vm-2");
    expect(vm2.layerCount).toBe(4);
    expect(vm2.activeLayer).toBe("D3");
    // New rows are written in bulk, not by Prisma: its own filters still find them by their times (SQLite
    // compares times as text, so they must be in its form), here the time of the scan that wrote them.
    const wideRow = await db.getDb().disk.findUniqueOrThrow({ where: { name: "wide" } });
    expect(await db.getDb().layer.count({ where: { diskId: wideRow.id, seenAt: wideRow.scannedAt } })).toBe(WIDE);

    // A rescan records what changed, here and there: a branch tip of "wide" removed and one added, a layer of
    // "deep" whose size changed, and another snapshot on vm-2.
    await rm(path.join(c.root, "wide", `${layerName("W", WIDE - 1)}.qcow2`));
    await copyFile(path.join(c.root, "wide", `${layerName("W", 1)}.qcow2`), path.join(c.root, "wide", "extra.qcow2"));
    await setVirtualSize(path.join(c.root, "deep", `${layerName("D", 7)}.qcow2`), 32n << 20n);
    await snapshotVm2("D4", "D3");

    started = performance.now();
    const second = await sync.scanAndRecord(c.root);
    const secondMs = performance.now() - started;
    expect(second.unrecorded).toEqual([]);
    const wideTree = (await disks.getDiskTree("wide"))!;
    expect(wideTree.layers).toHaveLength(WIDE);
    expect(wideTree.layers.some((l) => l.name === layerName("W", WIDE - 1))).toBe(false);
    expect(wideTree.layers.find((l) => l.name === "extra")?.parent).toBe(layerName("W", 0));
    const deepTree = (await disks.getDiskTree("deep"))!;
    expect(deepTree.layers.find((l) => l.name === layerName("D", 7))?.virtualSize).toBe(32 << 20);
    expect(deepTree.layers.find((l) => l.name === layerName("D", 8))?.virtualSize).toBe(16 << 20);
    expect((await disks.getDiskTree("vm-2"))!.activeLayer).toBe("D4");
    // A rescan that finds everything as it is recorded writes no layer: each keeps the time it was last
    // written, and only the disks' time of the scan moves on.
    const lastWritten = async () => (await db.getDb().layer.aggregate({ _max: { seenAt: true } }))._max.seenAt;
    const writtenBefore = await lastWritten();
    started = performance.now();
    const third = await sync.scanAndRecord(c.root);
    const thirdMs = performance.now() - started;
    expect(third.unrecorded).toEqual([]);
    expect(await lastWritten()).toEqual(writtenBefore);
    const wideAfter = await db.getDb().disk.findUniqueOrThrow({ where: { name: "wide" } });
    expect(wideAfter.scannedAt.getTime()).toBeGreaterThan(wideRow.scannedAt.getTime());
    expect((await disks.getDiskTree("wide"))!.layers).toHaveLength(WIDE);
    console.log(
      `scan and record of ${WIDE + DEEP + 10} layers: first ${Math.round(firstMs)} ms (headers ${first.durationMs} ms), ` +
        `rescan ${Math.round(secondMs)} ms (headers ${second.durationMs} ms), ` +
        `rescan with nothing changed ${Math.round(thirdMs)} ms (headers ${third.durationMs} ms)`,
    );
    // The next tests need the seed's disks only: every scan would read these 6,000 headers again.
    await rm(path.join(c.root, "wide"), { recursive: true });
    await rm(path.join(c.root, "deep"), { recursive: true });
  }, 180_000); // about 30 s on an idle machine; the margin is for a loaded one

  it("shows a disk that cannot be recorded on that disk, and records the others in the same scan", async () => {
    const damaged = path.join(c.root, "vm-1", "1B.qcow2");
    await setVirtualSize(damaged, (1n << 64n) - 1n);
    await snapshotVm2("D5", "D4");
    // A new disk whose one layer claims as much: its first record fails too (new rows take another way in).
    const damagedNew = path.join(c.root, "vm-3", "N0.qcow2");
    await mkdir(path.dirname(damagedNew));
    await run("qemu-img", ["create", "-q", "-f", "qcow2", damagedNew, "16M"], { timeoutMs: 60_000 });
    await setVirtualSize(damagedNew, (1n << 64n) - 1n);

    const scan = await sync.scanAndRecord(c.root);
    expect(scan.unrecorded.map((u) => u.disk)).toEqual(["vm-1", "vm-3"]);
    expect(scan.unrecorded[1]!.message).toMatch(/virtualSize 18446744073709551616 does not fit a 64-bit integer/);
    const vm3 = (await disks.getDiskTree("vm-3"))!;
    expect(vm3.problems.map((p) => p.code)).toEqual(["not-recorded"]);
    expect(vm3.layers).toEqual([]);
    const vm1 = (await disks.getDiskTree("vm-1"))!;
    expect(vm1.problems.map((p) => p.code)).toEqual(["not-recorded"]);
    expect(vm1.problems[0]!.message).toMatch(/could not be recorded/);
    // Its last record stays as it was: the layer still shows the size it had then.
    expect(vm1.layers.map((l) => l.name).sort()).toEqual(["1A", "1B", "1C", "1X", "Base", "VM1"]);
    expect(vm1.layers.find((l) => l.name === "1B")?.virtualSize).toBe(64 << 20);
    // The disk beside it is recorded in the same scan, and the big disks' removal too.
    expect((await disks.getDiskTree("vm-2"))!.activeLayer).toBe("D5");
    expect((await disks.listDisks()).map((d) => d.name)).toEqual(["vm-1", "vm-2", "vm-3"]);

    // Once the files are readable again, the next scan records the disks and the problem goes.
    await setVirtualSize(damaged, 64n << 20n);
    await setVirtualSize(damagedNew, 16n << 20n);
    expect((await sync.scanAndRecord(c.root)).unrecorded).toEqual([]);
    expect((await disks.getDiskTree("vm-1"))!.problems).toEqual([]);
    expect((await disks.getDiskTree("vm-3"))!).toMatchObject({ problems: [], layers: [expect.objectContaining({ name: "N0", virtualSize: 16 << 20 })] });
    await rm(path.dirname(damagedNew), { recursive: true });
  });

  it("the worker still checks running disks' daemons when the scan fails", async () => {
    // vm-1 recorded as running on a daemon that is gone (its run folder holds none), and a storage root that
    // cannot be read at all, so the whole scan fails on every round.
    const runDir = path.join(c.dir, "run", "gone");
    await mkdir(runDir, { recursive: true });
    await db.getDb().disk.update({ where: { name: "vm-1" }, data: { status: "running", runDir, qmpSocket: path.join(runDir, "qmp.sock") } });
    const hidden = `${c.root}.away`;
    await rename(c.root, hidden);
    const worker = c.startWorker();
    try {
      await waitFor("vm-1 recorded as stopped", async () => {
        const row = await db.getDb().disk.findUnique({ where: { name: "vm-1" } });
        return row?.status === "stopped" && row.runDir === null;
      }, 30_000); // within the test's time, so that a failure still stops the worker and puts the root back
    } finally {
      worker.kill();
      await worker.exited;
      await rename(hidden, c.root);
    }
  });
});
