import { describe, expect, it } from "vitest";
import { createSeedRoot, SEED_LAYERS, seedChain, seedLayerFile, visibleBlocks, blocksToRanges } from "@/lib/demo/seed";
import { readPatternsMatch } from "@/lib/qemu/io";
import { makeTempDir } from "../support/tmp";

describe("the seed root", () => {
  it("gives every layer exactly the guest-visible content its chain implies", async () => {
    const root = await makeTempDir("canopy-seed-");
    await createSeedRoot(root);
    for (const layer of SEED_LAYERS) {
      const expected = blocksToRanges(visibleBlocks(seedChain(layer.name)));
      expect(await readPatternsMatch(seedLayerFile(root, layer), expected), layer.name).toBe(true);
    }
    // The check can fail: 1C does not read as its parent 1B.
    const wrong = blocksToRanges(visibleBlocks(seedChain("1B")));
    expect(await readPatternsMatch(seedLayerFile(root, { folder: "vm-1", name: "1C" }), wrong)).toBe(false);
  });
});
