import type { LayerInfo } from "../inventory/types";
import { LayerTree } from "./model";

/**
 * Which leaf is active is Canopy's own record: the jobs that change it write it (the set-active step of a
 * snapshot, a revert or a merge, and make-active), and a scan only fills it in when it is missing or no
 * longer fits what is on disk. The rule a scan follows, in this order:
 * - while a job holds the disk, or when a job on the disk ended after the scan began reading its files
 *   (`jobTouchedDisk`), the recorded layer is kept as it is, whatever the scan read. The job may be between
 *   its steps (a snapshot's overlay made, its set-active step still to come), and files read before a job
 *   ended are older than the record it left. Choosing then recorded a layer the VM did not write to, which
 *   the rules below then kept (issue 11). The job records the disk itself when it ends;
 * - the recorded leaf, while it is still a leaf of the disk: a newer leaf elsewhere does not displace it;
 * - if something was stacked on it outside Canopy, the newest leaf above it (the chain moved on);
 * - otherwise (new disk, or the recorded layer is gone) the most recently modified leaf, since that is the
 *   one a VM wrote to last.
 */
export function chooseActiveLeaf(
  layers: readonly Pick<LayerInfo, "name" | "parent" | "template" | "modifiedAt">[],
  recorded: string | null,
  { jobTouchedDisk = false }: { jobTouchedDisk?: boolean } = {},
): string | null {
  if (jobTouchedDisk) return recorded;
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
