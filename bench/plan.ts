import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { MiB } from "@/lib/demo/seed";
import { scanDisk } from "@/lib/inventory/scan";
import { planFlatten } from "@/lib/ops/plan-simple";
import { planMergeDown } from "@/lib/ops/plan-merge-down";
import type { DiskState } from "@/lib/ops/types";
import { run } from "@/lib/proc/run";
import * as img from "@/lib/qemu/img";
import { measureWith, readThroughWith } from "@/server/ops/plan-operation";

/**
 * Planning on a 1,000-deep chain: a flatten of the top layer and a merge down of its upper 500 layers, measured
 * from the qcow2 tables (what plans use now) against the qemu-img way (one `qemu-img map` of the whole chain
 * for the flatten; one `qemu-img map` per merged layer, all started at once, for the merge), in the same run.
 * Each layer holds a few 64 KiB clusters at scattered offsets of a 1 GiB disk, some of them zeroed. The tables
 * are read synchronously in short slices: the longest the event loop waited during those plans is printed too.
 */
const DEPTH = 1000;
const MERGED = 500;
const ROUNDS = 3;
const SIZE = 1024 * MiB;
const CLUSTER = 64 * 1024;
const name = (i: number) => `l${String(i).padStart(4, "0")}`;

const dir = await mkdtemp(path.join(tmpdir(), "canopy-bench-plan-"));
const root = path.join(dir, "storage");
const folder = path.join(root, "bench");
await mkdir(folder, { recursive: true });

/** A fixed pseudo-random sequence, so every run builds the same chain. */
let seed = 0x2545f491;
const random = (n: number) => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
};

try {
  const built = performance.now();
  for (let i = 0; i < DEPTH; i++) {
    const file = path.join(folder, `${name(i)}.qcow2`);
    // -u: qemu-img does not open the chain below, which at this depth would take seconds per layer.
    const backing = i === 0 ? [] : ["-u", "-b", `${name(i - 1)}.qcow2`, "-F", "qcow2"];
    await run("qemu-img", ["create", "-q", "-f", "qcow2", ...backing, file, String(SIZE)], { timeoutMs: 30_000 });
  }
  // Writes go to each layer alone (backing: null), 100 layers per qemu-io, for the same reason.
  for (let first = 0; first < DEPTH; first += 100) {
    const args: string[] = [];
    for (let i = first; i < Math.min(DEPTH, first + 100); i++) {
      const only = { driver: "qcow2", file: { driver: "file", filename: path.join(folder, `${name(i)}.qcow2`) }, backing: null };
      args.push("-c", `open json:${JSON.stringify(only)}`);
      for (let w = 0; w < 3; w++) {
        args.push("-c", `write -P ${1 + (i % 250)} ${random(SIZE / CLUSTER) * CLUSTER} ${CLUSTER * (1 + random(3))}`);
      }
      if (i % 4 === 0) args.push("-c", `write -z ${random(SIZE / CLUSTER) * CLUSTER} ${CLUSTER}`);
      args.push("-c", "close");
    }
    await run("qemu-io", args, { timeoutMs: 120_000 });
  }
  console.log(`built a ${DEPTH}-deep chain in ${((performance.now() - built) / 1000).toFixed(1)} s`);

  const inventory = await scanDisk(root, "bench");
  const top = name(DEPTH - 1);
  const state: DiskState = { name: "bench", layers: inventory.layers, active: top, protected: new Set(), problems: inventory.problems };
  const files = new Map(state.layers.map((l) => [l.name, path.join(root, l.file)]));
  const qemuImgReadThrough = (layer: string) => img.backingDataBytes(files.get(layer)!, { shareLocks: true });
  const qemuImgLayer = (layer: string) => img.layerDataBytes(files.get(layer)!, { shareLocks: true });

  const timed = async (fn: () => Promise<{ bytesToMove: number }>) => {
    const t = performance.now();
    const plan = await fn();
    return { ms: performance.now() - t, bytes: plan.bytesToMove };
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const base = name(DEPTH - 1 - MERGED);
  // The longest gap between the ticks of a 1 ms timer while a plan reads the tables: how long the event loop waited.
  let longestWait = 0;
  const watched = async <T>(fn: () => Promise<T>) => {
    let last = performance.now();
    const tick = setInterval(() => {
      const now = performance.now();
      longestWait = Math.max(longestWait, now - last);
      last = now;
    }, 1);
    try {
      return await fn();
    } finally {
      clearInterval(tick);
    }
  };
  const runs = {
    flattenTables: () => watched(() => timed(() => planFlatten(state, readThroughWith(state, root)))),
    flattenQemuImg: () => timed(() => planFlatten(state, qemuImgReadThrough)),
    mergeTables: () => watched(() => timed(() => planMergeDown(state, top, base, measureWith(state, root)))),
    mergeQemuImg: () => timed(() => planMergeDown(state, top, base, qemuImgLayer)),
  };
  const times: Record<string, number[]> = {};
  const bytes: Record<string, number> = {};
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate the order, so neither side always finds the other's reads in the page cache.
    const order = Object.keys(runs) as (keyof typeof runs)[];
    for (const key of r % 2 ? order.reverse() : order) {
      const { ms, bytes: b } = await runs[key]();
      (times[key] ??= []).push(ms);
      if (bytes[key] !== undefined && bytes[key] !== b) throw new Error(`${key} measured ${b} bytes, before ${bytes[key]}`);
      bytes[key] = b;
    }
  }
  if (bytes.flattenTables !== bytes.flattenQemuImg || bytes.mergeTables !== bytes.mergeQemuImg) {
    throw new Error(`the figures differ: ${JSON.stringify(bytes)}`);
  }
  const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])) as Record<keyof typeof runs, number>;
  const line = (what: string, tables: number, qemuImg: number, figure: number) =>
    console.log(`  ${what}: tables ${tables.toFixed(0)} ms, qemu-img ${qemuImg.toFixed(0)} ms, ratio ${(tables / qemuImg).toFixed(3)}x (${(figure / MiB).toFixed(1)} MiB, same figure)`);
  console.log(`planning on a ${DEPTH}-deep chain, median of ${ROUNDS}:`);
  line(`flatten of ${top}`, m.flattenTables, m.flattenQemuImg, bytes.flattenTables!);
  line(`merge down of ${MERGED} layers`, m.mergeTables, m.mergeQemuImg, bytes.mergeTables!);
  console.log(`  longest event-loop wait while the tables were read: ${longestWait.toFixed(1)} ms`);
  console.log(`  goal: flatten planning under 1 s: ${m.flattenTables < 1000 ? "met" : "NOT met"} (${m.flattenTables.toFixed(0)} ms)`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
