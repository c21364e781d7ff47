import { mkdir, readdir, utimes } from "node:fs/promises";
import path from "node:path";
import * as img from "../qemu/img";
import { writePatterns, type PatternRange } from "../qemu/io";
import { TEMPLATES_FOLDER } from "../inventory/scan";

/**
 * The demo storage root, which is also the seed example the tests use: a template `Base`; disk `vm-1` with
 * Base <- VM1 <- 1A <- 1B <- 1C (active) and a second branch 1A <- 1X; disk `vm-2` with a linear chain.
 * Every layer writes its own byte pattern to its own blocks (and overwrites a few of its parent's), so the
 * guest-visible content of every layer is known exactly and anyone can see where data lives.
 */

export const MiB = 1024 * 1024;
export const SEED_VIRTUAL_SIZE = 64 * MiB;

export interface SeedLayer {
  /** Folder under the root: a disk name, or `templates`. */
  folder: string;
  name: string;
  /** Parent layer's name (looked up among the layers listed before this one), or null. */
  parent: string | null;
  writes: PatternRange[];
}

export const w = (pattern: number, startMiB: number, lengthMiB: number): PatternRange => ({
  pattern,
  offset: startMiB * MiB,
  length: lengthMiB * MiB,
});

/** Listed parents first; within vm-1 the active 1C is created last so it is the newest leaf. */
export const SEED_LAYERS: SeedLayer[] = [
  { folder: TEMPLATES_FOLDER, name: "Base", parent: null, writes: [w(0x0b, 0, 8)] },
  { folder: "vm-1", name: "VM1", parent: "Base", writes: [w(0x01, 8, 4), w(0x10, 0, 1)] },
  { folder: "vm-1", name: "1A", parent: "VM1", writes: [w(0x1a, 12, 2), w(0xa1, 1, 1)] },
  { folder: "vm-1", name: "1B", parent: "1A", writes: [w(0x1b, 14, 2), w(0xb1, 8, 1)] },
  { folder: "vm-1", name: "1X", parent: "1A", writes: [w(0x5a, 20, 2), w(0xa5, 12, 1)] },
  { folder: "vm-1", name: "1C", parent: "1B", writes: [w(0x1c, 16, 2), w(0xc1, 14, 1)] },
  { folder: "vm-2", name: "D0", parent: null, writes: [w(0xd0, 0, 16)] },
  { folder: "vm-2", name: "D1", parent: "D0", writes: [w(0xd1, 4, 2)] },
  { folder: "vm-2", name: "D2", parent: "D1", writes: [w(0xd2, 5, 3)] },
];

export const SEED_ACTIVE: Record<string, string> = { "vm-1": "1C", "vm-2": "D2" };

export function seedLayerFile(root: string, layer: Pick<SeedLayer, "folder" | "name">): string {
  return path.join(root, layer.folder, `${layer.name}.qcow2`);
}

/** True when the root holds nothing yet (missing or an empty folder): the only case the seed writes into. */
export async function isEmptyRoot(root: string): Promise<boolean> {
  const entries = await readdir(root).catch(() => [] as string[]);
  return entries.filter((e) => !e.startsWith(".")).length === 0;
}

export async function createSeedRoot(
  root: string,
  layers: SeedLayer[] = SEED_LAYERS,
  size = SEED_VIRTUAL_SIZE,
): Promise<void> {
  const byName = new Map(layers.map((l) => [l.name, l]));
  let tick = Date.now() / 1000 - layers.length * 60;
  for (const layer of layers) {
    const file = seedLayerFile(root, layer);
    await mkdir(path.dirname(file), { recursive: true });
    const parent = layer.parent ? byName.get(layer.parent) : undefined;
    if (layer.parent && !parent) throw new Error(`seed: ${layer.name}'s parent ${layer.parent} is not listed`);
    // Backing names are stored relative to the overlay's folder so the root can be moved or copied.
    const backing = parent ? path.relative(path.dirname(file), seedLayerFile(root, parent)) : undefined;
    await img.create(file, backing ? { backing, backingFormat: "qcow2" } : { size });
    await writePatterns(file, layer.writes);
    // Distinct, ordered modification times: the newest leaf is what a newly found disk takes as active.
    tick += 60;
    await utimes(file, tick, tick);
  }
}

/**
 * The byte every MiB block reads as, for a chain given top first: the topmost layer that wrote a block wins,
 * and never-written blocks read as zero.
 */
export function visibleBlocks(chainTopFirst: Pick<SeedLayer, "writes">[], size = SEED_VIRTUAL_SIZE): number[] {
  const blocks = new Array<number>(size / MiB).fill(0);
  for (const layer of [...chainTopFirst].reverse()) {
    for (const r of layer.writes) {
      for (let b = r.offset / MiB; b < (r.offset + r.length) / MiB; b++) blocks[b] = r.pattern;
    }
  }
  return blocks;
}

/** Turns per-block bytes into the fewest ranges, for one qemu-io read each. */
export function blocksToRanges(blocks: number[]): PatternRange[] {
  const ranges: PatternRange[] = [];
  blocks.forEach((pattern, i) => {
    const last = ranges[ranges.length - 1];
    if (last && last.pattern === pattern && last.offset + last.length === i * MiB) last.length += MiB;
    else ranges.push({ pattern, offset: i * MiB, length: MiB });
  });
  return ranges;
}

/** The chain of a seed layer, top first. */
export function seedChain(name: string, layers: SeedLayer[] = SEED_LAYERS): SeedLayer[] {
  const byName = new Map(layers.map((l) => [l.name, l]));
  const chain: SeedLayer[] = [];
  for (let cur = byName.get(name); cur; cur = cur.parent ? byName.get(cur.parent) : undefined) chain.push(cur);
  return chain;
}
