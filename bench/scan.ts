import { cp, mkdtemp, rm, mkdir, stat } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { scanStorageRoot } from "@/lib/inventory/scan";
import { run } from "@/lib/proc/run";
import * as img from "@/lib/qemu/img";

/**
 * Scanning and recording at scale, in one run on the same files.
 *
 * 1. The header reader against one `qemu-img info` per file: 1,000 qcow2 images, 100 disks of 10-layer chains
 *    (copies of one chain: the backing names are relative, so every copy is a disk of its own). Goal: 50x.
 * 2. Scanning and recording 1,000 disks of 10 layers (10,000 layers) into a new SQLite database set up as the
 *    app sets one up, against the scan alone: the first record, then a rescan with nothing changed. Goal: the
 *    recording adds at most one scan's time. The rescan's writes are counted as the rows it changed.
 *
 * Medians of ROUNDS rounds; each round measures the things it compares back to back, so load hits them alike.
 * Each round records into a database of its own, so every first record is a first.
 */
const LAYERS = 10;
const READER_DISKS = 100;
const RECORD_DISKS = 1_000;
const ROUNDS = 5;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(0)} ms`;
const load = () => loadavg().map((x) => x.toFixed(1)).join(" ");

async function timed(work: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await work();
  return performance.now() - t;
}

/** `disks` copies of one 10-layer chain (8 GiB virtual, default clusters), added to what the root holds. */
async function addDisks(root: string, disks: number): Promise<void> {
  const first = path.join(root, "disk-0000");
  if (!(await stat(first).catch(() => null))) {
    await mkdir(first);
    for (let i = 0; i < LAYERS; i++) {
      const file = path.join(first, `L${i}.qcow2`);
      await img.create(file, i === 0 ? { size: 8 << 30 } : { backing: `L${i - 1}.qcow2`, backingFormat: "qcow2" });
    }
  }
  for (let d = 1; d < disks; d++) {
    const folder = path.join(root, `disk-${String(d).padStart(4, "0")}`);
    if (!(await stat(folder).catch(() => null))) await cp(first, folder, { recursive: true });
  }
}

async function qemuImgInfoEach(root: string, files: string[]): Promise<void> {
  // As many at once as there are cores, which is how a careful per-file tool would run.
  let next = 0;
  const worker = async () => {
    while (next < files.length) await img.info(path.join(root, files[next++]!));
  };
  await Promise.all(Array.from({ length: cpus().length }, worker));
}

async function layerCount(root: string): Promise<number> {
  return (await scanStorageRoot(root)).disks.reduce((n, d) => n + d.layers.length, 0);
}

async function readerAgainstQemuImg(root: string): Promise<void> {
  // The first scan also brings the files into the page cache, where both sides then find them.
  const files = (await scanStorageRoot(root)).disks.flatMap((d) => d.layers.map((l) => l.file));
  if (files.length !== READER_DISKS * LAYERS) throw new Error(`expected ${READER_DISKS * LAYERS} layers, scanned ${files.length}`);
  const reader: number[] = [];
  const qemu: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    reader.push(await timed(() => scanStorageRoot(root)));
    qemu.push(await timed(() => qemuImgInfoEach(root, files)));
  }
  const [a, b] = [median(reader), median(qemu)];
  console.log(`1. scan of ${files.length} qcow2 images (${READER_DISKS} disks x ${LAYERS} layers), median of ${ROUNDS}, load ${load()}:`);
  console.log(`  header reader (scanStorageRoot): ${ms(a)} (rounds: ${reader.map(ms).join(", ")})`);
  console.log(`  qemu-img info per file (${cpus().length} at a time): ${ms(b)}`);
  console.log(`  ratio: header reader is ${(b / a).toFixed(1)}x faster (goal: at least 50x)`);
}

/**
 * A new SQLite database with every migration applied, as the tests make theirs (test/support/canopy-env.ts): a
 * file in its own folder, set up by `scripts/db-migrate.ts deploy` in a process of its own (Prisma's schema
 * engine cannot run in a process that has loaded the client).
 */
async function freshDatabase(dir: string): Promise<string> {
  const url = `file:${path.join(dir, "canopy.db")}`;
  const env = { ...process.env, DATABASE_URL: url };
  const repo = path.resolve(import.meta.dirname, "..");
  await run(process.execPath, [...process.execArgv, "scripts/db-migrate.ts", "deploy"], { cwd: repo, env, timeoutMs: 120_000 });
  return url;
}

/** Rows inserted, updated or deleted so far through the app's connection (SQLite's total_changes()). */
async function rowsWritten(): Promise<number> {
  const { getDb } = await import("@/server/db");
  const [row] = await getDb().$queryRawUnsafe<Array<{ n: number | bigint }>>("SELECT total_changes() AS n");
  return Number(row!.n);
}

async function scanAndRecordAgainstScan(root: string, work: string): Promise<void> {
  const layers = await layerCount(root);
  if (layers !== RECORD_DISKS * LAYERS) throw new Error(`expected ${RECORD_DISKS * LAYERS} layers, scanned ${layers}`);
  const scan: number[] = [];
  const first: number[] = [];
  const rescan: number[] = [];
  const rescanRows: number[] = [];
  let cold = "";
  // Round 0 is the first in the process: Prisma compiles its first queries and V8 the code. It is shown but
  // left out of the medians, like the worker's first scan after it starts.
  for (let r = 0; r <= ROUNDS; r++) {
    const dir = path.join(work, `db-${r}`);
    await mkdir(dir);
    process.env.DATABASE_URL = await freshDatabase(dir);
    const { scanAndRecord } = await import("@/server/sync-inventory");
    const { closeDb } = await import("@/server/db");
    const s = await timed(() => scanStorageRoot(root));
    const f = await timed(() => scanAndRecord(root));
    const before = await rowsWritten();
    const again = await timed(() => scanAndRecord(root));
    const written = (await rowsWritten()) - before;
    await closeDb();
    if (r === 0) {
      cold = `scan ${ms(s)}, scan + first record ${ms(f)}, rescan + record ${ms(again)}`;
      continue;
    }
    scan.push(s);
    first.push(f);
    rescan.push(again);
    rescanRows.push(written);
  }
  const [s, f, again] = [median(scan), median(first), median(rescan)];
  // Each round's recording against that round's scan, measured back to back: steadier under a varying load.
  const over = (totals: number[]) => {
    const ratios = totals.map((t, r) => (t - scan[r]!) / scan[r]!);
    return `${median(ratios).toFixed(2)}x the scan (rounds: ${ratios.map((x) => x.toFixed(2)).join(", ")})`;
  };
  console.log(`2. scan and record of ${layers} layers (${RECORD_DISKS} disks x ${LAYERS}), new SQLite database, median of ${ROUNDS}, load ${load()}:`);
  console.log(`  first round in the process, not counted: ${cold}`);
  console.log(`  scan alone: ${ms(s)} (rounds: ${scan.map(ms).join(", ")})`);
  console.log(`  scan + first record: ${ms(f)} (rounds: ${first.map(ms).join(", ")})`);
  console.log(`    recording adds ${over(first)} (goal: at most 1x)`);
  console.log(`  rescan + record, nothing changed: ${ms(again)} (rounds: ${rescan.map(ms).join(", ")})`);
  console.log(`    recording adds ${over(rescan)} (goal: at most 1x)`);
  console.log(`  rows the rescan wrote: ${median(rescanRows)} (the disks' time of the scan)`);
}

const work = await mkdtemp(path.join(tmpdir(), "canopy-bench-scan-"));
try {
  const root = path.join(work, "storage");
  await mkdir(root);
  await addDisks(root, READER_DISKS);
  await readerAgainstQemuImg(root);
  await addDisks(root, RECORD_DISKS);
  await scanAndRecordAgainstScan(root, work);
} finally {
  await rm(work, { recursive: true, force: true });
}
