import type { PlanStep } from "../ops/types";
import { nodeNameFor } from "./node-names";

/**
 * The block job id of a step, derived from the step alone so that a restarted worker finds the job its
 * predecessor started (recover.ts). One job per disk runs at a time, so kind and layer are unique enough; a
 * caller that wants its own ids passes ctx.jobId to both executeLiveStep and recoverLiveStep.
 */
export function liveJobId(step: PlanStep, prefix = "canopy"): string {
  const layer = step.kind === "commit" ? step.top : "layer" in step ? step.layer : "";
  return `${prefix}-${step.kind}-${nodeNameFor(layer)}`;
}
