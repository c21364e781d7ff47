import { requireAncestor, requireHealthy, requireLayer, treeOf, branchOf, sumBytes } from "./checks";
import { emptyPlan } from "./plan-base";
import type { Alternative, DiskState, MeasureLayer, Plan } from "./types";

/**
 * Merge down (blockcommit) of top..base: the data of every layer above base up to top goes into base, top's
 * child is pointed at base, and the merged layers are deleted.
 *
 * The sibling rule: committing into a layer that another branch also reads changes that branch's data, and
 * QEMU does not stop it. So base and every merged layer below top must have exactly one child (the next one
 * up the chain), and top at most one. Anything else is refused, naming the dependents, with merge up offered.
 */
export async function planMergeDown(
  state: DiskState,
  top: string,
  base: string,
  measure: MeasureLayer,
): Promise<Plan> {
  requireLayer(state, top, "layer");
  requireLayer(state, base, "layer");
  requireAncestor(state, base, top);
  requireHealthy(state, [top]);
  const tree = treeOf(state);
  const chain = tree.chain(top).map((l) => l.name);
  const merged = chain.slice(0, chain.indexOf(base)); // top first, base excluded
  const topChild = tree.children(top);
  const plan = emptyPlan(state, "merge-down", { top, base });
  plan.summary = `Merge ${describeRange(merged)} down into ${base}`;

  const dependents = new Set<string>();
  for (const [i, layer] of [...merged, base].entries()) {
    const allowed = i === 0 ? null : merged[i - 1]; // the next layer up the chain
    for (const child of tree.children(layer)) {
      if (i === 0 && topChild.length <= 1) continue; // top's single child is rebased onto base
      if (child.name !== allowed) branchOf(tree, child.name).forEach((n) => dependents.add(n));
    }
  }
  const alternative: Alternative | null =
    topChild.length <= 1
      ? {
          operation: "merge-up",
          params: { top: topChild[0]?.name ?? top, base },
          summary: `Merge up into ${topChild[0]?.name ?? top} instead: pull ${describeRange(
            topChild[0] ? merged : merged.slice(1),
          )} into it, leaving ${base} and every other branch untouched`,
        }
      : null;

  if (tree.get(base)?.template) {
    plan.refused = {
      reason: `${base} is a shared template (read-only base); Canopy never writes into it`,
      dependents: [],
      alternative,
    };
    return plan;
  }
  const protectedHit = [base, ...merged].filter((n) => state.protected.has(n));
  if (protectedHit.length) {
    plan.refused = {
      reason: `${protectedHit.join(", ")} ${protectedHit.length > 1 ? "are" : "is"} protected: merging down would ${
        protectedHit.includes(base) ? `change ${base}` : "delete it"
      }`,
      dependents: [],
      alternative: protectedHit.includes(base) ? alternative : null,
    };
    return plan;
  }
  if (dependents.size) {
    const names = [...dependents].sort();
    plan.refused = {
      reason: `sibling rule: ${names.join(", ")} also ${names.length > 1 ? "depend" : "depends"} on ${
        [base, ...merged.slice(1)].filter((l) => tree.children(l).length > 1).join(", ") || top
      }; merging down into ${base} would silently change ${names.length > 1 ? "their" : "its"} data`,
      dependents: names,
      alternative,
    };
    return plan;
  }

  const bytes = sumBytes(await Promise.all(merged.map(measure)));
  plan.steps.push({ kind: "commit", top, base, bytes });
  plan.changes.push(base);
  const child = topChild[0]?.name;
  if (child) {
    plan.steps.push({ kind: "repoint", layer: child, from: top, backing: base });
    plan.changes.push(child);
  }
  for (const layer of merged) plan.steps.push({ kind: "delete-file", layer });
  plan.deletes.push(...merged);
  if (state.active && merged.includes(state.active)) {
    plan.steps.push({ kind: "set-active", layer: base });
    plan.activeAfter = base;
  }
  plan.bytesToMove = bytes;
  if (merged.length > 1) {
    plan.notes.push(
      `if stopped during the copy, ${base} and ${merged.slice(1).join(", ")} keep part of the merged data (${top} and above are never affected); running the merge again finishes it`,
    );
  }
  return plan;
}

export function describeRange(layersTopFirst: string[]): string {
  if (layersTopFirst.length === 0) return "nothing";
  if (layersTopFirst.length === 1) return layersTopFirst[0]!;
  const bottomUp = [...layersTopFirst].reverse();
  return bottomUp.length === 2 ? `${bottomUp[0]} and ${bottomUp[1]}` : `${bottomUp[0]}..${bottomUp[bottomUp.length - 1]}`;
}
