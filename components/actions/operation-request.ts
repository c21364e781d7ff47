import type { Alternative, Plan } from "@/lib/ops/types";
// Type-only: erased at build time, so the server module never reaches the browser bundle.
import type { OperationRequest } from "@/server/ops/plan-operation";

export type { OperationRequest };

/** What the dialog's title says before the plan arrives: the operation in the admin's words. */
export function requestTitle(r: OperationRequest): string {
  switch (r.operation) {
    case "snapshot":
      return "Take a snapshot";
    case "revert":
      return `Revert to ${r.snapshot}`;
    case "merge-down":
      return `Merge down into ${r.base}`;
    case "merge-up":
      return `Merge up into ${r.top}`;
    case "delete":
      return `Delete ${r.layer}`;
    case "flatten":
      return "Flatten the active layer";
    case "protect":
      return `Protect ${r.layer}`;
    case "unprotect":
      return `Unprotect ${r.layer}`;
    case "make-active":
      return `Make ${r.layer} active`;
  }
}

/** The label of the button that runs the planned operation. */
export function confirmLabel(r: OperationRequest): string {
  switch (r.operation) {
    case "snapshot":
      return "Take snapshot";
    case "revert":
      return "Revert";
    case "merge-down":
      return "Merge down";
    case "merge-up":
      return "Merge up";
    case "delete":
      return "Delete";
    case "flatten":
      return "Flatten";
    case "protect":
      return "Protect";
    case "unprotect":
      return "Unprotect";
    case "make-active":
      return "Make active";
  }
}

/** A plan that deletes layers gets a red confirm button; the rest a neutral one. */
export function isDestructive(plan: Plan): boolean {
  return plan.deletes.length > 0;
}

const str = (v: string | boolean | undefined): string | undefined => (typeof v === "string" ? v : undefined);

/**
 * The planner's alternative (operation + loose params) as a request the actions accept. Returns null for a
 * shape this page does not know, so the dialog shows the summary without a button rather than a broken one.
 */
export function requestFromAlternative(alt: Alternative): OperationRequest | null {
  const p = alt.params;
  switch (alt.operation) {
    case "merge-down": {
      const top = str(p.top);
      const base = str(p.base);
      return top && base ? { operation: "merge-down", top, base } : null;
    }
    case "merge-up": {
      const top = str(p.top);
      const base = str(p.base);
      return top && base ? { operation: "merge-up", top, base, keep: p.keep === true } : null;
    }
    case "delete":
    case "protect":
    case "unprotect":
    case "make-active": {
      const layer = str(p.layer);
      return layer ? { operation: alt.operation, layer } : null;
    }
    case "revert": {
      const snapshot = str(p.snapshot);
      return snapshot ? { operation: "revert", snapshot, name: str(p.name) } : null;
    }
    case "flatten":
      return { operation: "flatten" };
    case "snapshot": {
      const name = str(p.name);
      return name ? { operation: "snapshot", name, description: str(p.description) } : null;
    }
  }
}

/**
 * The request to start once the admin confirms: the planned one, with the name the planner picked pinned (a
 * revert's `S-2`), so the job creates exactly the layer the dialog showed.
 */
export function requestToStart(requested: OperationRequest, plan: Plan): OperationRequest {
  if (requested.operation === "revert" && !requested.name) {
    const name = str(plan.params.name);
    return name ? { ...requested, name } : requested;
  }
  return requested;
}
