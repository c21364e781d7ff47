import type { LayerInfo } from "../inventory/types";
import { LayerTree } from "./model";

/**
 * Which leaf is active is Canopy's own record. This decides it when the record is missing or no longer fits
 * what is on disk:
 * - the recorded leaf, while it is still a leaf;
 * - if something was stacked on it outside Canopy, the newest leaf above it (the chain moved on);
 * - otherwise (new disk, or the recorded layer is gone) the most recently modified leaf, since that is the
 *   one a VM wrote to last.
 */
export function chooseActiveLeaf(
  layers: readonly Pick<LayerInfo, "name" | "parent" | "template" | "modifiedAt">[],
  recorded: string | null,
): string | null {
  const tree = new LayerTree(layers);
  const newest = (candidates: typeof layers) =>
    [...candidates].sort((a, b) => b.modifiedAt.localeCompare(a.modifiedAt) || a.name.localeCompare(b.name))[0]
      ?.name ?? null;
  if (recorded && tree.has(recorded)) {
    if (tree.isLeaf(recorded)) return recorded;
    const above = tree.descendants(recorded).filter((l) => tree.isLeaf(l.name));
    if (above.length) return newest(above);
  }
  return newest(tree.leaves());
}
