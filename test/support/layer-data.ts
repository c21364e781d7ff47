import path from "node:path";
import { expect } from "vitest";
import { blocksToRanges, seedChain, visibleBlocks, SEED_LAYERS, type SeedLayer } from "@/lib/demo/seed";
import { scanDisk } from "@/lib/inventory/scan";
import { readPatternsMatch } from "@/lib/qemu/io";

/** What every seed layer reads as, block by block, before any operation. */
export function seedContent(layers: SeedLayer[] = SEED_LAYERS, size?: number, disk?: string): Record<string, number[]> {
  return Object.fromEntries(
    layers
      .filter((l) => !disk || l.folder === disk || (disk === "vm-1" && l.folder === "templates"))
      .map((l) => [l.name, visibleBlocks(seedChain(l.name, layers), size)]),
  );
}

/**
 * Reads back the guest-visible bytes of the named layers of a disk (through their real backing chains, with
 * qemu-io) and checks each against the expected content.
 */
export async function expectLayerContent(
  root: string,
  disk: string,
  expected: Record<string, number[]>,
  opts: { exactly?: boolean } = {},
): Promise<void> {
  const inventory = await scanDisk(root, disk);
  if (opts.exactly) {
    // Every remaining layer is named, so none goes unchecked.
    expect(inventory.layers.map((l) => l.name).sort()).toEqual(Object.keys(expected).sort());
  }
  const files = new Map(inventory.layers.map((l) => [l.name, path.join(root, l.file)]));
  for (const [name, blocks] of Object.entries(expected)) {
    const file = files.get(name);
    expect(file, `layer ${name} should exist in ${disk}`).toBeDefined();
    expect(await readPatternsMatch(file!, blocksToRanges(blocks)), `content of ${disk}/${name}`).toBe(true);
  }
}

export async function parentsOf(root: string, disk: string): Promise<Record<string, string | null>> {
  const inventory = await scanDisk(root, disk);
  return Object.fromEntries(inventory.layers.map((l) => [l.name, l.parent]));
}
