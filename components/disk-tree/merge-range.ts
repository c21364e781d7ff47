import type { DiskTreeView } from "@/lib/inventory/views";
import { LayerTree } from "@/lib/tree/model";

/**
 * A merge range picked on the graph: two layers on one chain. `base` is the lower one (the ancestor), `top`
 * the upper one; `between` are the layers strictly between them, top's parent first.
 */
export interface MergeRange {
  top: string;
  base: string;
  between: string[];
}

export type MergeKind = "merge-down" | "merge-up";

export type RangePick = { ok: true; range: MergeRange } | { ok: false; reason: string };

/** Orders two picked layers into a range, whichever was picked first; refuses layers on different branches. */
export function pickRange(tree: DiskTreeView, a: string, b: string): RangePick {
  if (a === b) return { ok: false, reason: `Pick a second layer: ${a} is already one end of the range.` };
  const model = new LayerTree(tree.layers);
  let top: string;
  let base: string;
  if (model.isAncestor(a, b)) [base, top] = [a, b];
  else if (model.isAncestor(b, a)) [base, top] = [b, a];
  else {
    return {
      ok: false,
      reason: `${a} and ${b} are on different branches. A merge range runs along one chain: pick a layer and one of its ancestors.`,
    };
  }
  const chain = model.chain(top).map((l) => l.name);
  return { ok: true, range: { top, base, between: chain.slice(1, chain.indexOf(base)) } };
}

/** Layers whose data moves somewhere else (and which are then deleted, when nothing else needs them). */
export function mergedLayers(range: MergeRange, kind: MergeKind): string[] {
  return kind === "merge-down" ? [range.top, ...range.between] : range.between;
}

/** The layer that receives the data. */
export function mergeTarget(range: MergeRange, kind: MergeKind): string {
  return kind === "merge-down" ? range.base : range.top;
}

/** "1A", "1A and 1B", "1A, 1B and 1C": bottom-up, the way the chain reads on the graph. */
export function listNames(topFirst: readonly string[]): string {
  const names = [...topFirst].reverse();
  if (names.length <= 1) return names[0] ?? "nothing";
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}
