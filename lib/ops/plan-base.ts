import type { DiskState, OperationKind, Plan } from "./types";

export function emptyPlan(state: DiskState, operation: OperationKind, params: Plan["params"]): Plan {
  return {
    operation,
    disk: state.name,
    params,
    summary: "",
    steps: [],
    changes: [],
    deletes: [],
    creates: [],
    bytesToMove: 0,
    activeBefore: state.active,
    activeAfter: state.active,
    notes: [],
    refused: null,
  };
}
