import type { Problem } from "@/lib/inventory/types";
import type { DiskTreeView, LayerView } from "@/lib/inventory/views";

/**
 * What a layer is to the admin, in the order the marks take precedence: the active leaf (what the VM runs
 * on), a template (shared read-only base outside the disk's folder), another leaf (the tip of a branch that
 * is not running), or an inner layer of a chain.
 */
export type LayerRole = "active" | "template" | "tip" | "inner";

export function layerRole(layer: LayerView, activeLayer: string | null): LayerRole {
  if (layer.name === activeLayer) return "active";
  if (layer.template) return "template";
  if (layer.children.length === 0) return "tip";
  return "inner";
}

export const ROLE_LABEL: Record<LayerRole, string> = {
  active: "Active",
  template: "Template",
  tip: "Branch tip",
  inner: "Layer",
};

/** Names from the active leaf up to its root: the chain QEMU reads through for the running VM. */
export function activeChain(tree: DiskTreeView): Set<string> {
  const byName = new Map(tree.layers.map((l) => [l.name, l]));
  const chain = new Set<string>();
  let cur = tree.activeLayer ? byName.get(tree.activeLayer) : undefined;
  while (cur && !chain.has(cur.name)) {
    chain.add(cur.name);
    cur = cur.parent ? byName.get(cur.parent) : undefined;
  }
  return chain;
}

/** Problems keyed by the layer they are about; disk-wide ones (no layer) are left to the list above the graph. */
export function problemsByLayer(problems: readonly Problem[]): Map<string, Problem[]> {
  const map = new Map<string, Problem[]>();
  for (const p of problems) {
    if (!p.layer) continue;
    const list = map.get(p.layer) ?? [];
    list.push(p);
    map.set(p.layer, list);
  }
  return map;
}

/** Leaves of the disk's own layers, i.e. branches; templates always have a child here, so never count. */
export function branchCount(tree: DiskTreeView): number {
  return tree.layers.filter((l) => !l.template && l.children.length === 0).length;
}
