import type { PlanStep } from "./types";

/** One line per step, for job stages, --dry-run output and the confirmation dialog. */
export function describeStep(step: PlanStep): string {
  switch (step.kind) {
    case "create-overlay":
      return `create ${step.layer} on ${step.backing}`;
    case "commit":
      return `commit ${step.top} down into ${step.base}`;
    case "repoint":
      return `point ${step.layer} at ${step.backing ?? "nothing"} (header only)`;
    case "pull":
      return step.backing ? `pull into ${step.layer}, then back it by ${step.backing}` : `pull everything into ${step.layer}`;
    case "delete-file":
      return `delete ${step.layer}`;
    case "set-active":
      return `make ${step.layer} the active layer`;
    case "switch-active":
      return step.from ? `make ${step.layer} the active layer instead of ${step.from}` : `make ${step.layer} the active layer`;
    case "set-protected":
      return `${step.value ? "protect" : "unprotect"} ${step.layer}`;
    case "set-description":
      return `describe ${step.layer}`;
  }
}
