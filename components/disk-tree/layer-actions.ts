import type { DiskTreeView, LayerView } from "@/lib/inventory/views";
import type { OperationIntent } from "@/components/actions/OperationDialog";

/** One button in a layer's panel: what it opens, and a sentence for its tooltip. */
export interface LayerAction {
  id: "snapshot" | "flatten" | "revert" | "make-active" | "merge-down" | "merge-up" | "range" | "delete" | "protect" | "unprotect";
  label: string;
  hint: string;
  /** "range" starts picking a merge range on the graph instead of opening a dialog. */
  intent: OperationIntent | "range";
  danger?: boolean;
  /** Why the action is off here (shown beside it); the planner would refuse it for the same reason. */
  unavailable?: string;
}

/**
 * The actions that make sense for a layer, by its place in the tree. Only the obviously impossible ones are
 * left out (and said why); anything the planner may refuse (the sibling rule, protection) is offered, and its
 * dialog explains the refusal and the safe alternative.
 */
export function layerActions(tree: DiskTreeView, layer: LayerView): { actions: LayerAction[]; notes: string[] } {
  const actions: LayerAction[] = [];
  const notes: string[] = [];
  const name = layer.name;
  const isActive = name === tree.activeLayer;
  const parent = layer.parent;
  const onlyChild = layer.children.length === 1 ? layer.children[0] : undefined;

  if (isActive) {
    actions.push({
      id: "snapshot",
      label: "Take snapshot…",
      hint: `Freeze ${name} as it is now; the VM writes to a new layer on top of it`,
      intent: { snapshotOf: name },
    });
    if (parent) {
      actions.push({
        id: "flatten",
        label: "Flatten…",
        hint: `Copy everything ${name} reads from its backing chain into it, so it stands alone`,
        intent: { request: { operation: "flatten" } },
      });
    }
  } else {
    actions.push({
      id: "revert",
      label: "Revert to here…",
      hint: `Put a new active layer on ${name}${tree.activeLayer ? `; ${tree.activeLayer} stays as the tip of its own branch` : ""}`,
      intent: { request: { operation: "revert", snapshot: name } },
    });
    if (!layer.template && layer.children.length === 0) actions.push(makeActive(tree, name));
  }

  if (layer.template) {
    notes.push(`${name} is a shared template: Canopy never changes, merges or deletes it.`);
  } else {
    if (parent) {
      actions.push({
        id: "merge-down",
        label: `Merge down into ${parent}…`,
        hint: `Commit ${name}'s data into its parent ${parent}, then delete ${name}`,
        intent: { request: { operation: "merge-down", top: name, base: parent } },
      });
    }
    if (parent && onlyChild) {
      actions.push({
        id: "merge-up",
        label: `Merge up into ${onlyChild}…`,
        hint: `Pull ${name}'s data into its child ${onlyChild}, which is then backed by ${parent}`,
        intent: { request: { operation: "merge-up", top: onlyChild, base: parent } },
      });
    }
  }

  if (parent || layer.children.length > 0) {
    actions.push({
      id: "range",
      label: "Pick merge range…",
      hint: `Pick the other end of a range on ${name}'s chain, then merge it down or up (or Shift+click a second layer)`,
      intent: "range",
    });
  }

  if (!layer.template) {
    actions.push(
      layer.protected
        ? { id: "unprotect", label: "Unprotect…", hint: `Allow ${name} to be deleted or merged away again`, intent: { request: { operation: "unprotect", layer: name } } }
        : { id: "protect", label: "Protect…", hint: `Refuse any delete or merge that would remove ${name}`, intent: { request: { operation: "protect", layer: name } } },
    );
    if (isActive) {
      notes.push(`${name} is the active layer (the VM writes to it), so it cannot be deleted: revert to another layer first.`);
    } else {
      actions.push({
        id: "delete",
        label: "Delete…",
        hint:
          layer.children.length === 0
            ? `Remove the branch tip ${name} and its file`
            : `Move ${name}'s data into its parent or children (the plan says which), then remove it`,
        intent: { request: { operation: "delete", layer: name } },
        danger: true,
      });
    }
  }
  return { actions, notes };
}

/** A branch tip that is not active can take the VM's writes instead, once the disk is stopped. */
function makeActive(tree: DiskTreeView, name: string): LayerAction {
  const active = tree.activeLayer;
  return {
    id: "make-active",
    label: "Make active…",
    hint: `Send the VM's writes to ${name} from now on${active ? ` instead of ${active}, which keeps what it holds` : ""}`,
    intent: { request: { operation: "make-active", layer: name } },
    ...(tree.status === "running"
      ? {
          unavailable: `Make active is off while ${tree.name} runs: its QEMU process writes to ${active ?? "the layer it has open"} until it is stopped. Stop the disk first.`,
        }
      : {}),
  };
}
