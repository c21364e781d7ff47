import { CanopyError } from "../errors";
import { QmpError } from "../qmp/errors";
import { BlockJob, runBlockJob, type BlockJobStart, type JobProgress, type JobResult } from "../qmp/jobs";
import { callOptions, type LiveStepContext } from "./context";
import { LiveStepCancelled } from "./errors";
import { jobNamed, type LiveView } from "./inspect";

/**
 * Runs one block job for a step, to its end, with the step context's progress, speed and cancellation. The
 * outcome becomes the step's: completed returns, cancelled throws LiveStepCancelled, failed throws a
 * CanopyError with QEMU's own words. A job that reaches READY (an active commit) is completed (pivot) unless
 * the signal fired first; `beforePivot` runs at READY, just before job-complete.
 */
export interface FollowJobOptions {
  /** What the job does, for messages: "commit of 1B into VM1". */
  what: string;
  /** What the files hold if the job stops midway, for a cancelled job's message. */
  stateIfStopped: string;
  beforePivot?: () => Promise<void>;
}

export async function runStepJob(ctx: LiveStepContext, start: BlockJobStart, options: FollowJobOptions): Promise<JobResult> {
  const tracking = {
    signal: ctx.signal,
    pollIntervalMs: ctx.pollIntervalMs,
    callTimeoutMs: ctx.callTimeoutMs,
    onProgress: (p: JobProgress) => reportProgress(ctx, p),
  };
  let result;
  try {
    result = await runBlockJob(ctx.qmp, start, tracking);
  } catch (err) {
    if (err instanceof QmpError) {
      throw new CanopyError("failed", `${options.what}: QEMU refused to start the job: ${err.desc}`);
    }
    throw err;
  }
  if (result.outcome === "ready") result = await pivotUnlessCancelled(ctx, result.job, options);
  return settle(ctx, result, options);
}

/** Follows a job that is already running (after a worker restart), with the same outcome rules. */
export async function attachStepJob(ctx: LiveStepContext, jobId: string, options: FollowJobOptions): Promise<JobResult> {
  const job = await BlockJob.attach(ctx.qmp, jobId, {
    signal: ctx.signal,
    pollIntervalMs: ctx.pollIntervalMs,
    callTimeoutMs: ctx.callTimeoutMs,
    onProgress: (p) => reportProgress(ctx, p),
  });
  let result: JobResult;
  if (await job.whenReady()) {
    result = await pivotUnlessCancelled(ctx, job, options);
  } else {
    result = await job.done;
  }
  return settle(ctx, result, options);
}

/** At READY: the hook, then job-complete (the pivot), or job-cancel if the signal fired meanwhile. */
async function pivotUnlessCancelled(ctx: LiveStepContext, job: BlockJob, options: FollowJobOptions): Promise<JobResult> {
  if (!ctx.signal?.aborted && options.beforePivot) {
    try {
      await options.beforePivot();
    } catch (err) {
      // Never leave a job waiting at READY with nobody to complete or cancel it.
      await job.cancel().catch(() => undefined);
      throw err;
    }
  }
  // Checked again: a cancel while the hook ran must still not pivot.
  return ctx.signal?.aborted ? job.cancel() : job.complete();
}

function settle(ctx: LiveStepContext, result: JobResult, options: FollowJobOptions): JobResult {
  // job-complete racing a cancel makes QEMU refuse the pivot; the job then ends as "failed". It was cancelled.
  if (result.outcome === "cancelled" || (result.outcome === "failed" && ctx.signal?.aborted)) {
    throw new LiveStepCancelled(options.what, options.stateIfStopped);
  }
  if (result.outcome === "failed") {
    throw new CanopyError("failed", `${options.what} failed in QEMU: ${result.error.desc}. ${options.stateIfStopped}`);
  }
  return result;
}

function reportProgress(ctx: LiveStepContext, p: JobProgress): void {
  ctx.onJobProgress?.(p);
  if (p.total > 0) ctx.onProgress?.(Math.min(1, p.current / p.total));
}

/**
 * A job of the same id left by an earlier run: a concluded one is dismissed (its end was never read, and it
 * holds its id); one that still runs means another process is following it, or should be: refuse.
 */
export async function clearLeftoverJob(ctx: LiveStepContext, view: LiveView, jobId: string): Promise<void> {
  const job = jobNamed(view, jobId);
  if (!job) return;
  if (job.status === "concluded") {
    await ctx.qmp.execute("job-dismiss", { id: jobId }, callOptions(ctx)).catch(() => undefined);
    return;
  }
  throw new CanopyError(
    "busy",
    `block job ${jobId} is still ${job.status} in QEMU (left by an earlier run): recover it (recoverLiveStep) instead of starting it again`,
  );
}
