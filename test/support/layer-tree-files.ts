import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { run } from "@/lib/proc/run";

/**
 * Many real qcow2 layers quickly: qemu-img makes the root layer and one overlay, and every other layer is a
 * copy of that overlay with its backing name rewritten in the header. Names have a fixed width (`L0000`), so
 * every backing name is as long as the one qemu-img wrote and fits where it wrote it. 512-byte clusters keep
 * each file under 2 KiB. QEMU opens the copies like any overlay it made (`qemu-img check` passes).
 */
export function layerName(prefix: string, index: number): string {
  return `${prefix}${String(index).padStart(4, "0")}`;
}

/** Layer 0 is the root; layer i (i > 0) is backed by layer `parentOf(i)`. */
export async function writeLayerTree(folder: string, count: number, parentOf: (index: number) => number, prefix = "L"): Promise<void> {
  await mkdir(folder, { recursive: true });
  const qemu = { timeoutMs: 60_000 };
  const root = path.join(folder, `${layerName(prefix, 0)}.qcow2`);
  await run("qemu-img", ["create", "-q", "-f", "qcow2", "-o", "cluster_size=512", root, "16M"], qemu);
  const template = path.join(folder, ".overlay.tmp");
  const backingName = `${layerName(prefix, 0)}.qcow2`;
  await run("qemu-img", ["create", "-q", "-f", "qcow2", "-o", "cluster_size=512", "-u", "-b", backingName, "-F", "qcow2", template, "16M"], qemu);
  const overlay = await readFile(template);
  await rm(template);
  const nameAt = Number(overlay.readBigUInt64BE(8));
  if (overlay.readUInt32BE(16) !== backingName.length) throw new Error("unexpected backing name length in the overlay qemu-img made");

  const write = (i: number) => {
    const file = Buffer.from(overlay);
    file.write(`${layerName(prefix, parentOf(i))}.qcow2`, nameAt, "ascii");
    return writeFile(path.join(folder, `${layerName(prefix, i)}.qcow2`), file);
  };
  for (let from = 1; from < count; from += 500) {
    await Promise.all(Array.from({ length: Math.min(500, count - from) }, (_, k) => write(from + k)));
  }
}
