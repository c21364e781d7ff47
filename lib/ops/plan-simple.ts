import { CanopyError } from "../errors";
import { assertName, MAX_DESCRIPTION_LENGTH } from "../inventory/names";
import { requireHealthy, requireLayer, treeOf } from "./checks";
import { emptyPlan } from "./plan-base";
import type { DiskState, MeasureReadThrough, Plan } from "./types";

/** Snapshot, revert, flatten and protection: operations without a choice of direction. */

function requireActive(state: DiskState): string {
  if (!state.active) {
    throw new CanopyError("invalid-input", `disk "${state.name}" has no active layer (its chain may be broken)`);
  }
  return state.active;
}

function requireNewName(state: DiskState, name: string): void {
  assertName("snapshot", name);
  if (state.layers.some((l) => l.name === name)) {
    throw new CanopyError("invalid-input", `disk "${state.name}" already has a layer named "${name}"`);
  }
  const link = linksByName(state).get(name);
  if (link) throw new CanopyError("refused", `the name "${name}" is taken: ${link}`);
}

/** Names taken by a symbolic link in the disk's folder (reported by the scan; never followed, never replaced). */
function linksByName(state: DiskState): Map<string, string> {
  return new Map(state.problems.filter((p) => p.code === "symlink" && p.layer).map((p) => [p.layer!, p.message]));
}

/**
 * A snapshot freezes the active layer and puts a new empty overlay, named `name`, on it; writes go there from
 * now on. (As libvirt does, the overlay carries the snapshot's name.)
 */
export function planSnapshot(state: DiskState, name: string, description: string | null): Plan {
  const active = requireActive(state);
  requireNewName(state, name);
  if (description && description.length > MAX_DESCRIPTION_LENGTH) {
    throw new CanopyError("invalid-input", `a description is at most ${MAX_DESCRIPTION_LENGTH} characters (this one has ${description.length})`);
  }
  requireHealthy(state, [active]);
  const plan = emptyPlan(state, "snapshot", { name, ...(description ? { description } : {}) });
  plan.summary = `Snapshot ${active}: freeze it and write to a new layer ${name} on top`;
  plan.steps.push(
    // Backups' dirty bitmaps must follow the writes to the new layer.
    { kind: "create-overlay", layer: name, backing: active, handOverBitmaps: true },
    { kind: "set-description", layer: name, description },
    { kind: "set-active", layer: name },
  );
  plan.creates.push(name);
  plan.activeAfter = name;
  return plan;
}

/** The first free `S-2`, `S-3`, ... name for a new branch on S. */
export function branchName(state: DiskState, snapshot: string): string {
  const taken = new Set([...state.layers.map((l) => l.name), ...linksByName(state).keys()]);
  const stem = snapshot.replace(/-\d+$/, "");
  for (let k = 2; ; k++) if (!taken.has(`${stem}-${k}`)) return `${stem}-${k}`;
}

/** A revert puts a new active overlay on S; the old active layer stays as the tip of its own branch. */
export function planRevert(state: DiskState, snapshot: string, name?: string): Plan {
  requireLayer(state, snapshot, "snapshot");
  if (snapshot === state.active) {
    throw new CanopyError("invalid-input", `${snapshot} is the active layer already; there is nothing to revert`);
  }
  const overlay = name ?? branchName(state, snapshot);
  requireNewName(state, overlay);
  requireHealthy(state, [snapshot]);
  const plan = emptyPlan(state, "revert", { snapshot, name: overlay });
  plan.summary = `Revert to ${snapshot}: a new active layer ${overlay} on it`;
  plan.steps.push(
    { kind: "create-overlay", layer: overlay, backing: snapshot },
    { kind: "set-active", layer: overlay },
  );
  plan.creates.push(overlay);
  plan.activeAfter = overlay;
  if (state.active) plan.notes.push(`${state.active} stays as the tip of its own branch`);
  if (state.running) {
    // QEMU keeps writing to the layer it has open: recording the new branch as active would be a lie, and the
    // writes would land on the old branch.
    plan.refused = {
      reason: `disk ${state.name} is running: its QEMU process keeps writing to ${state.active ?? "the layer it has open"} until it is stopped; stop it first ("canopy stop ${state.name}"), then revert to ${snapshot}`,
      dependents: [],
      alternative: null,
    };
  }
  return plan;
}

/**
 * Flatten pulls the whole chain, template included, into the active layer; the other layers stay. The bytes are
 * what the active layer reads from below, measured once for the chain: a measurement per layer below started a
 * process per layer (12.7 s at a depth of 250; at 1,000 the processes timed out) and counted a block overwritten further up more than once.
 */
export async function planFlatten(state: DiskState, readThrough: MeasureReadThrough): Promise<Plan> {
  const active = requireActive(state);
  requireHealthy(state, [active]);
  const below = treeOf(state).chain(active).slice(1).map((l) => l.name);
  if (below.length === 0) throw new CanopyError("invalid-input", `${active} is already a standalone image`);
  const plan = emptyPlan(state, "flatten", {});
  const bytes = await readThrough(active);
  plan.summary = `Flatten ${active}: copy everything it reads from ${below.join(", ")} into it`;
  plan.steps.push({ kind: "pull", layer: active, from: below[0]!, backing: null, bytes });
  plan.changes.push(active);
  plan.bytesToMove = bytes;
  plan.notes.push(`${below.join(", ")} stay as they are; delete them afterwards if nothing else needs them`);
  return plan;
}

export function planProtect(state: DiskState, layer: string, value: boolean): Plan {
  requireLayer(state, layer);
  const plan = emptyPlan(state, value ? "protect" : "unprotect", { layer });
  plan.summary = `${value ? "Protect" : "Unprotect"} ${layer}`;
  if (treeOf(state).get(layer)?.template && value) plan.notes.push(`${layer} is a template: it is never changed anyway`);
  plan.steps.push({ kind: "set-protected", layer, value });
  plan.changes.push(layer);
  return plan;
}
