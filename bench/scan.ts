import { cp, mkdtemp, rm, mkdir } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import { scanStorageRoot } from "@/lib/inventory/scan";
import * as img from "@/lib/qemu/img";

/**
 * Scanning 1,000 qcow2 images: Canopy's header reader against one `qemu-img info` per file, in the same run on
 * the same files. 100 disks of 10-layer chains (copies of one chain: the backing names are relative, so every
 * copy is a valid disk of its own). Prints medians of 3 rounds and the ratio.
 */
const DISKS = 100;
const LAYERS = 10;
const ROUNDS = 3;

async function makeRoot(): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), "canopy-bench-scan-"));
  const first = path.join(root, "disk-000");
  await mkdir(first);
  for (let i = 0; i < LAYERS; i++) {
    const file = path.join(first, `L${i}.qcow2`);
    await img.create(file, i === 0 ? { size: 8 << 30 } : { backing: `L${i - 1}.qcow2`, backingFormat: "qcow2" });
  }
  for (let d = 1; d < DISKS; d++) await cp(first, path.join(root, `disk-${String(d).padStart(3, "0")}`), { recursive: true });
  return root;
}

async function qemuImgInfoEach(root: string, files: string[]): Promise<void> {
  // As many at once as there are cores, which is how a careful per-file tool would run.
  let next = 0;
  const worker = async () => {
    while (next < files.length) await img.info(path.join(root, files[next++]!));
  };
  await Promise.all(Array.from({ length: cpus().length }, worker));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const root = await makeRoot();
try {
  const first = await scanStorageRoot(root);
  const files = first.disks.flatMap((d) => d.layers.map((l) => l.file));
  if (files.length !== DISKS * LAYERS) throw new Error(`expected ${DISKS * LAYERS} layers, scanned ${files.length}`);
  const reader: number[] = [];
  const qemu: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let t = performance.now();
    await scanStorageRoot(root);
    reader.push(performance.now() - t);
    t = performance.now();
    await qemuImgInfoEach(root, files);
    qemu.push(performance.now() - t);
  }
  const a = median(reader);
  const b = median(qemu);
  console.log(`scan of ${files.length} qcow2 images (${DISKS} disks x ${LAYERS} layers), median of ${ROUNDS}:`);
  console.log(`  header reader (scanStorageRoot): ${a.toFixed(0)} ms`);
  console.log(`  qemu-img info per file (${cpus().length} at a time): ${b.toFixed(0)} ms`);
  console.log(`  ratio: header reader is ${(b / a).toFixed(1)}x faster (goal: at least 20x)`);
} finally {
  await rm(root, { recursive: true, force: true });
}
