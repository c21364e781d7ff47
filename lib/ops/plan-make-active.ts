import { requireHealthy, requireLayer, treeOf } from "./checks";
import { emptyPlan } from "./plan-base";
import type { Alternative, DiskState, Plan } from "./types";

/**
 * Make-active corrects which leaf the VM writes to, when Canopy's record of it is wrong (a scan that raced a job
 * could record the wrong one: issue 11) or the admin wants to carry on from another branch tip as it is. No file
 * changes: the record moves from the active layer to `layer`, and what the old active layer holds stays on its
 * own branch. Only a branch tip of this disk qualifies (writing into a layer others are backed by would change
 * what they read), and not while the disk runs: its QEMU keeps writing to the layer it has open.
 */
export function planMakeActive(state: DiskState, layer: string): Plan {
  requireLayer(state, layer);
  const tree = treeOf(state);
  const active = state.active;
  const plan = emptyPlan(state, "make-active", { layer });
  plan.summary = active
    ? `Make ${layer} the active layer: the VM's writes go to ${layer} from now on, no longer to ${active}`
    : `Make ${layer} the active layer: the VM's writes go to ${layer} from now on`;
  const refuse = (reason: string, dependents: string[] = [], alternative: Alternative | null = null): Plan => {
    plan.refused = { reason, dependents, alternative };
    return plan;
  };

  if (layer === active) return refuse(`${layer} is the active layer already`);
  if (tree.get(layer)?.template) {
    return refuse(`${layer} is a shared template (a read-only base): the VM never writes to it`, [], revertTo(layer));
  }
  const above = tree.descendants(layer).map((l) => l.name).sort();
  if (above.length) {
    return refuse(
      `${layer} is not a branch tip: ${above.join(", ")} ${above.length > 1 ? "are" : "is"} stacked on it, and writing to ${layer} would change what ${above.length > 1 ? "they read" : "it reads"}`,
      above,
      revertTo(layer),
    );
  }
  if (state.running) {
    return refuse(
      `disk ${state.name} is running: its QEMU process writes to ${active ?? "the layer it has open"} until it is stopped; stop it first ("canopy stop ${state.name}"), then make ${layer} active`,
    );
  }
  requireHealthy(state, [layer]);

  plan.steps.push({ kind: "switch-active", layer, from: active });
  plan.activeAfter = layer;
  if (active) {
    const fork = forkOf(state, layer, active);
    plan.notes.push(
      `the writes ${active} received${fork ? ` since the two branches parted at ${fork}` : ""} stay on its branch: ${layer} does not see them, and ${active} keeps them as a branch tip`,
    );
  }
  plan.notes.push("no data is copied and no file changes: only the record of the active layer moves");
  return plan;
}

/** The safe way to write on top of a layer that cannot become active itself: a new branch tip on it. */
function revertTo(layer: string): Alternative {
  return { operation: "revert", params: { snapshot: layer }, summary: `Revert to ${layer}: a new active layer on it, which leaves ${layer} as it is` };
}

/** The newest layer both chains read (where the branches part), or null when they share none. */
function forkOf(state: DiskState, a: string, b: string): string | null {
  const tree = treeOf(state);
  const below = new Set(tree.chain(b).map((l) => l.name));
  return tree.chain(a).find((l) => below.has(l.name))?.name ?? null;
}
