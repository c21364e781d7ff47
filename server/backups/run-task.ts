import "server-only";
import type { z } from "zod";
import { CanopyError } from "@/lib/errors";
import { createTaskJob } from "../jobs/create-job";
import { refuseIfDiskHeld } from "../jobs/disk-holder";
import type { JobContext, JobExecutor, JobRun } from "../jobs/executor";
import { isTaskRecord } from "../jobs/job-record";
import { runJob } from "../jobs/run-job";

/**
 * Backup-side jobs (backup, verify, restore): the same Job / DiskLock rows and lifecycle as the tree operations
 * (server/jobs), so the jobs page, the polling API, cancel and "one job per disk" work for them unchanged, but
 * one engine call instead of a plan of steps. Each is repeatable as a whole (the engine discards an unfinished
 * backup or restore), so a worker that finds one orphaned simply runs it again.
 */

export interface TaskResult<R> {
  job: { id: string; state: string; error: string | null };
  result: R | null;
}

/** A backup-side job's executor: its parameters' schema and its engine call; the rest is the same for all. */
export function taskExecutor<S extends z.ZodType, R>(
  schema: S,
  run: (disk: string, params: z.output<S>, ctx: JobContext) => Promise<JobRun<R>>,
): JobExecutor<z.output<S>, R> {
  return {
    progress: "per-stage",
    repeatable: true,
    params(record) {
      if (!isTaskRecord(record)) throw new Error(`a ${record.operation} job is not a backup-side job`);
      return schema.parse(record.params);
    },
    async run(params, ctx) {
      // A cancel given while the job's process was dead is seen here, at the start (see cancelJob).
      if (ctx.cancelRequestedBeforeStart) return { outcome: "cancelled", result: null };
      return run(ctx.disk, params, ctx);
    },
    async settle(_params, _ctx, end) {
      return end.outcome === "cancelled" ? { ...end, error: "cancelled" } : end;
    },
    endRecord(record, end, summary) {
      if (!isTaskRecord(record)) return record;
      return { ...record, summary, result: end.result ?? end.details };
    },
    auditDetail(record, end) {
      return { disk: record.disk, result: end.result ?? end.details };
    },
  };
}

/**
 * Runs a backup-side job in this process (the CLI's way), or queues it for the worker (`background`, the
 * dashboard's and the schedule's way). A disk another job holds is refused before anything is recorded; a job
 * that did not succeed is thrown as a failure with its details.
 */
export async function runTask<P, R>(
  executor: JobExecutor<P, R>,
  kind: string,
  disk: string,
  params: Record<string, unknown>,
  summary: string,
  opts: { requestedBy: string; background?: boolean },
): Promise<TaskResult<R>> {
  await refuseIfDiskHeld(disk);
  const jobId = await createTaskJob({ kind, disk, params, summary, requestedBy: opts.requestedBy, claimNow: !opts.background });
  if (opts.background) return { job: { id: jobId, state: "queued", error: null }, result: null };
  const end = await runJob(jobId, executor);
  if (end.outcome !== "succeeded") {
    throw new CanopyError("failed", `${summary}: job ${jobId} ${end.outcome}${end.error ? `: ${end.error}` : ""}`, {
      jobId,
      ...(end.details ?? {}),
    });
  }
  return { job: { id: jobId, state: end.outcome, error: null }, result: end.result };
}

/** A stage of a backup-side job: its own bar, from zero (a backup's copy, then its check). */
export function startStage(ctx: JobContext, stage: string): void {
  void ctx.setStage(stage, { done: 0, total: 0 }).catch(() => undefined);
}
