import { CanopyError } from "../errors";
import { requireHealthy, requireLayer, treeOf } from "./checks";
import { emptyPlan } from "./plan-base";
import type { DiskState, MeasureLayer, Plan } from "./types";

/**
 * Delete one layer. A leaf that is not active is simply removed. A layer in the middle is never dropped on its
 * own: it is merged down into its parent when the sibling rule allows (parent not a template, not protected,
 * with this layer as its only child, and this layer with one child), otherwise pulled into each child.
 */
export async function planDelete(state: DiskState, layer: string, measure: MeasureLayer): Promise<Plan> {
  requireLayer(state, layer);
  const tree = treeOf(state);
  const node = tree.get(layer)!;
  const plan = emptyPlan(state, "delete", { layer });
  plan.summary = `Delete ${layer}`;
  if (node.template) {
    plan.refused = { reason: `${layer} is a shared template; other disks may use it`, dependents: [], alternative: null };
    return plan;
  }
  if (state.protected.has(layer)) {
    plan.refused = {
      reason: `${layer} is protected`,
      dependents: [],
      alternative: { operation: "unprotect", params: { layer }, summary: `Unprotect ${layer} first` },
    };
    return plan;
  }
  if (layer === state.active) {
    plan.refused = {
      reason: `${layer} is the active layer (the disk writes to it); revert to another snapshot first`,
      dependents: [],
      alternative: null,
    };
    return plan;
  }
  const children = tree.children(layer).map((c) => c.name);
  if (children.length === 0) {
    plan.steps.push({ kind: "delete-file", layer });
    plan.deletes.push(layer);
    plan.notes.push(`${layer} is a branch tip that nothing depends on: its file is removed`);
    return plan;
  }
  requireHealthy(state, children);

  const parent = tree.parentOf(layer);
  const bytes = await measure(layer);
  const downBlocked = !parent
    ? `${layer} has no parent to merge into`
    : parent.template
      ? `its parent ${parent.name} is a shared template`
      : state.protected.has(parent.name)
        ? `its parent ${parent.name} is protected`
        : tree.children(parent.name).length > 1
          ? `its parent ${parent.name} has other children (${tree
              .children(parent.name)
              .filter((c) => c.name !== layer)
              .map((c) => c.name)
              .join(", ")})`
          : children.length > 1
            ? `${layer} has ${children.length} children (${children.join(", ")})`
            : null;

  if (parent && !downBlocked) {
    const child = children[0]!;
    plan.steps.push(
      { kind: "commit", top: layer, base: parent.name, bytes },
      { kind: "repoint", layer: child, from: layer, backing: parent.name },
      { kind: "delete-file", layer },
    );
    plan.changes.push(parent.name, child);
    plan.deletes.push(layer);
    plan.bytesToMove = bytes;
    plan.notes.push(
      `merged down into ${parent.name}: the sibling rule allows it (${parent.name} has no other child), and it moves the data once; ${parent.name} then holds ${layer}'s state`,
    );
    return plan;
  }

  for (const child of children) {
    plan.steps.push({ kind: "pull", layer: child, from: layer, backing: parent?.name ?? null, bytes });
    plan.changes.push(child);
  }
  plan.steps.push({ kind: "delete-file", layer });
  plan.deletes.push(layer);
  plan.bytesToMove = bytes * children.length;
  plan.notes.push(
    `pulled into ${children.join(" and ")} instead of merging down: ${downBlocked}; every other layer keeps its data`,
  );
  if (!parent) plan.notes.push(`${children.join(", ")} become standalone images (${layer} was a root)`);
  return plan;
}

export function assertNotRefused(plan: Plan): void {
  if (plan.refused) {
    throw new CanopyError("refused", `${plan.summary} refused: ${plan.refused.reason}`, { plan });
  }
}
