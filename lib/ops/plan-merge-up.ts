import { CanopyError } from "../errors";
import { requireAncestor, requireHealthy, requireLayer, treeOf, sumBytes } from "./checks";
import { emptyPlan } from "./plan-base";
import { describeRange } from "./plan-merge-down";
import type { DiskState, MeasureLayer, Plan } from "./types";

/**
 * Merge up (blockpull) into top from base: every layer strictly between is pulled into top, and top is
 * pointed at base. No other layer's data changes, so this is always allowed. Afterwards an intermediate that
 * nothing else depends on is deleted (unless `keep`), walking down from top and stopping at the first layer
 * another branch still reads, or that is protected.
 */
export async function planMergeUp(
  state: DiskState,
  top: string,
  base: string,
  keep: boolean,
  measure: MeasureLayer,
): Promise<Plan> {
  requireLayer(state, top);
  requireLayer(state, base);
  requireAncestor(state, base, top);
  requireHealthy(state, [top]);
  const tree = treeOf(state);
  const chain = tree.chain(top).map((l) => l.name);
  const between = chain.slice(1, chain.indexOf(base)); // top's parent first
  if (between.length === 0) {
    throw new CanopyError("invalid-input", `nothing to merge: ${base} is already ${top}'s parent`);
  }
  const plan = emptyPlan(state, "merge-up", { top, base, keep });
  const bytes = sumBytes(await Promise.all(between.map(measure)));
  plan.summary = `Merge ${describeRange(between)} up into ${top}, which will be backed by ${base}`;
  plan.steps.push({ kind: "pull", layer: top, from: between[0]!, backing: base, bytes });
  plan.changes.push(top);
  plan.bytesToMove = bytes;

  if (keep) {
    plan.notes.push(`kept as asked: ${between.join(", ")}`);
    return plan;
  }
  let above = top;
  for (const layer of between) {
    const others = tree.children(layer).filter((c) => c.name !== above);
    if (others.length) {
      plan.notes.push(
        `kept ${layer} and below: ${others.map((c) => c.name).join(", ")} still ${others.length > 1 ? "depend" : "depends"} on it`,
      );
      break;
    }
    if (state.protected.has(layer)) {
      plan.notes.push(`kept ${layer}: it is protected`);
      break;
    }
    plan.steps.push({ kind: "delete-file", layer });
    plan.deletes.push(layer);
    above = layer;
  }
  return plan;
}
