import path from "node:path";
import { scanStorageRoot } from "../inventory/scan";
import { canonical, type LiveStepContext, type Routing } from "./context";
import { refused } from "./errors";
import { childrenOf, type LiveNode } from "./inspect";

/**
 * The sibling rule, checked online just before a commit starts. Committing into a base that anything else
 * reads changes that reader's data, and QEMU does not stop it even when the reader is open in the same
 * process (qemu.md). The planner already checked the files; this is the last look, at what is open now:
 * - open nodes: every node whose backing is the base or a merged node, except the next one up the chain
 *   being merged (and top's own child, which is repointed at the base);
 * - exports and devices rooted at the base or a merged node (other than the active root for an active commit);
 * - files: every layer under the root whose backing file is the base or a merged layer, except those same
 *   chain members (a branch nobody has open).
 *
 * `mergedTopFirst` is top and every node below it down to the base, base excluded.
 */
export async function assertSiblingRuleOnline(
  ctx: LiveStepContext,
  r: Routing,
  mergedTopFirst: LiveNode[],
  base: LiveNode,
  topChild: LiveNode | undefined,
): Promise<void> {
  const guarded = [...mergedTopFirst, base];
  /** The one child each guarded node may have: the next one up the chain. */
  const allowedChild = new Map<string, string | undefined>(
    guarded.map((n, i) => [n.name, i === 0 ? topChild?.name : guarded[i - 1]!.name]),
  );
  const dependents = new Set<string>();
  const via = new Set<string>();

  for (const node of guarded) {
    for (const child of childrenOf(r.view, node.name)) {
      if (child.name === allowedChild.get(node.name)) continue;
      dependents.add(r.describe(child.name));
      via.add(r.describe(node.name));
    }
    for (const root of r.view.roots) {
      if (root.node !== node.name || root.node === r.view.active) continue;
      dependents.add(`${root.kind} ${root.id}`);
      via.add(r.describe(node.name));
    }
  }

  // Branches in the files that nobody has open.
  const scan = await scanStorageRoot(ctx.root);
  const fileOfNode = new Map<string, string>();
  for (const n of r.view.nodes) fileOfNode.set(n.name, await canonical(n.file));
  const guardedFiles = new Map<string, { node: LiveNode; allowedFile: string | undefined }>();
  for (const node of guarded) {
    const allowed = allowedChild.get(node.name);
    guardedFiles.set(fileOfNode.get(node.name)!, { node, allowedFile: allowed ? fileOfNode.get(allowed) : undefined });
  }
  for (const disk of scan.disks) {
    const byName = new Map(disk.layers.map((l) => [l.name, l]));
    for (const layer of disk.layers) {
      const parent = layer.parent ? byName.get(layer.parent) : undefined;
      if (!parent) continue;
      const guard = guardedFiles.get(path.join(scan.root, parent.file));
      if (!guard) continue;
      const file = path.join(scan.root, layer.file);
      if (file === guard.allowedFile) continue;
      dependents.add(disk.name === ctx.disk ? layer.name : `${disk.name}/${layer.name}`);
      via.add(r.describe(guard.node.name));
    }
  }

  if (dependents.size === 0) return;
  const names = [...dependents].sort();
  const top = r.describe(mergedTopFirst[0]!.name);
  throw refused(
    `sibling rule: ${names.join(", ")} also ${names.length > 1 ? "depend" : "depends"} on ${[...via].sort().join(", ")}; ` +
      `merging ${top} down into ${r.describe(base.name)} would silently change ${names.length > 1 ? "their" : "its"} data. Nothing was changed`,
    names,
  );
}
