import "server-only";
import { CanopyError } from "@/lib/errors";
import type { Alternative, Plan } from "@/lib/ops/types";
import { getDb } from "../db";
import { createJob } from "../jobs/create-job";
import { diskBusyError } from "../jobs/disk-holder";
import { runJob } from "../jobs/run-job";
import { treeExecutor } from "./tree-executor";
import { loadDiskState } from "./disk-state";
import { planOperation, type OperationRequest } from "./plan-operation";

export interface OperationResult {
  plan: Plan;
  dryRun: boolean;
  job: { id: string; state: string; error: string | null } | null;
  /** A dry run's plan while a job holds the disk: that job changes the tree before any new one could. */
  busy?: { jobId: string; message: string };
}

/**
 * Plan an operation on a disk and, unless it is a dry run, run it as a job in this process (the CLI's way), or
 * queue it for the worker (`background`, the dashboard's way). A refused plan throws with the reason and the safe
 * alternative; a disk another job holds is refused before planning (see disk-holder.ts); a dry run plans and says so.
 */
export async function runOperation(
  disk: string,
  request: OperationRequest,
  opts: { dryRun: boolean; requestedBy: string; background?: boolean },
): Promise<OperationResult> {
  const busy = await diskBusyError(disk);
  if (busy && !opts.dryRun) throw busy;
  const plan = await planOperation(await loadDiskState(disk), request);
  if (opts.dryRun) {
    return { plan, dryRun: true, job: null, ...(busy ? { busy: { jobId: String(busy.details?.jobId), message: busy.message } } : {}) };
  }
  refuseIfNeeded(plan);
  if (opts.background) {
    const jobId = await createJob({ disk, plan, requestedBy: opts.requestedBy, claimNow: false });
    return { plan, dryRun: false, job: { id: jobId, state: "queued", error: null } };
  }
  const jobId = await createJob({ disk, plan, requestedBy: opts.requestedBy, claimNow: true });
  await runJob(jobId, treeExecutor);
  const job = await getDb().job.findUniqueOrThrow({ where: { id: jobId } });
  if (job.state !== "succeeded") {
    throw new CanopyError("failed", `${plan.summary}: job ${job.id} ${job.state}${job.error ? `: ${job.error}` : ""}`, {
      plan,
      jobId,
    });
  }
  return { plan, dryRun: false, job: { id: job.id, state: job.state, error: job.error } };
}

export function refuseIfNeeded(plan: Plan): void {
  if (!plan.refused) return;
  const alt = plan.refused.alternative;
  throw new CanopyError(
    "refused",
    `${plan.summary} refused: ${plan.refused.reason}${alt ? `. Safe alternative: ${alt.summary} (${cliHint(plan.disk, alt)})` : ""}`,
    { plan },
  );
}

/** The alternative as a command line the admin can paste. */
export function cliHint(disk: string, alt: Alternative): string {
  const p = alt.params;
  switch (alt.operation) {
    case "merge-up":
      return `canopy merge-up ${disk} --top ${p.top} --base ${p.base}`;
    case "merge-down":
      return `canopy merge-down ${disk} --top ${p.top} --base ${p.base}`;
    case "unprotect":
      return `canopy unprotect ${disk} ${p.layer}`;
    case "revert":
      return `canopy revert ${disk} ${p.snapshot}`;
    default:
      return `canopy ${alt.operation} ${disk}`;
  }
}
