import "server-only";
import { CanopyError, isCanopyError } from "@/lib/errors";
import type { Plan } from "@/lib/ops/types";
import { jobErrorMessage } from "../error-gate";
import { getDb } from "../db";
import { startHeartbeat } from "../jobs/job-heartbeat";
import { createLockedJob } from "../jobs/create-job";
import { recordAuditEvent } from "../audit-events";

/**
 * Backup-side jobs (backup, verify, restore): the same Job / DiskLock rows as the tree operations, so the jobs
 * page, the polling API, cancel and "one job per disk" work for them unchanged, but one engine call instead of
 * a plan of steps. A task is repeatable as a whole (the engine discards an unfinished backup or restore), so a
 * worker that finds one orphaned simply runs it again.
 */

export const TASK_KINDS = ["backup", "verify", "restore"] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

export function isTaskKind(kind: string): kind is TaskKind {
  return (TASK_KINDS as readonly string[]).includes(kind);
}

export interface TaskContext {
  jobId: string;
  signal: AbortSignal;
  setStage(stage: string): void;
  onProgress(done: number, total: number): void;
}

export type TaskExecutor = (disk: string, params: Record<string, unknown>, ctx: TaskContext) => Promise<Record<string, unknown>>;

/** The plan-shaped record stored in Job.plan: the job views and the audit log read `summary` from it. */
export interface TaskPlan extends Plan {
  task: TaskKind;
  result: Record<string, unknown> | null;
}

function taskPlan(kind: TaskKind, disk: string, params: Record<string, unknown>, summary: string): TaskPlan {
  return {
    operation: kind as unknown as Plan["operation"],
    task: kind,
    disk,
    params: params as Plan["params"],
    summary,
    steps: [],
    changes: [],
    deletes: [],
    creates: [],
    bytesToMove: 0,
    activeBefore: null,
    activeAfter: null,
    notes: [],
    refused: null,
    result: null,
  };
}

export async function createTaskJob(input: {
  kind: TaskKind;
  disk: string;
  params: Record<string, unknown>;
  summary: string;
  requestedBy: string;
  claimNow: boolean;
}): Promise<string> {
  const db = getDb();
  const row = await db.disk.findUnique({ where: { name: input.disk } });
  const plan = taskPlan(input.kind, input.disk, input.params, input.summary);
  const now = new Date();
  const data = {
    diskId: row?.id ?? null,
    kind: input.kind,
    state: input.claimNow ? "running" : "queued",
    params: JSON.stringify(input.params),
    plan: JSON.stringify(plan),
    requestedBy: input.requestedBy,
    ...(input.claimNow ? { workerPid: process.pid, startedAt: now, heartbeatAt: now } : {}),
  };
  if (!row) return (await db.job.create({ data })).id; // the disk's record is gone (restore of an old backup)
  return createLockedJob(input.disk, row.id, (tx) => tx.job.create({ data }));
}


const PROGRESS_WRITE_MS = 250;

export interface TaskOutcome {
  state: "succeeded" | "failed" | "cancelled";
  error: string | null;
  result: Record<string, unknown> | null;
}

export async function runTaskJob(jobId: string, executors: Record<TaskKind, TaskExecutor>): Promise<TaskOutcome> {
  const db = getDb();
  const job = await db.job.findUniqueOrThrow({ where: { id: jobId } });
  const plan = JSON.parse(job.plan ?? "{}") as TaskPlan;
  const kind = job.kind as TaskKind;
  const now = new Date();
  await db.job.update({
    where: { id: jobId },
    data: { state: "running", workerPid: process.pid, startedAt: job.startedAt ?? now, heartbeatAt: now, progressDone: 0n },
  });
  const heartbeat = startHeartbeat(jobId);
  let lastWrite = 0;
  // The bytes of the task's largest stage (a backup's copy, a restore's convert, a verify's reading): what the
  // finished job's bar shows. Kept here because the throttled writes below may skip a short job's every update.
  let largestTotal = 0;
  const ctx: TaskContext = {
    jobId,
    signal: heartbeat.signal,
    setStage: (stage) => {
      lastWrite = 0;
      void db.job.update({ where: { id: jobId }, data: { stage, progressDone: 0n, progressTotal: 0n } }).catch(() => undefined);
    },
    onProgress: (done, total) => {
      largestTotal = Math.max(largestTotal, total);
      if (Date.now() - lastWrite < PROGRESS_WRITE_MS) return;
      lastWrite = Date.now();
      void db.job
        .update({ where: { id: jobId }, data: { progressDone: BigInt(Math.round(done)), progressTotal: BigInt(Math.round(total)) } })
        .catch(() => undefined);
    },
  };
  let outcome: TaskOutcome;
  try {
    if (job.cancelRequested) throw new CanopyError("failed", "cancelled before it started");
    const executor = executors[kind];
    if (!executor) throw new Error(`no executor for job kind ${job.kind}`);
    const result = await executor(plan.disk, JSON.parse(job.params) as Record<string, unknown>, ctx);
    outcome = { state: "succeeded", error: null, result };
  } catch (err) {
    const details = isCanopyError(err) ? (err.details ?? null) : null;
    // A cancel given while the job's process was dead is seen here, at the start (see cancelJob).
    outcome = heartbeat.signal.aborted || job.cancelRequested
      ? { state: "cancelled", error: "cancelled", result: details }
      : { state: "failed", error: errorMessage(err, `job ${jobId}`), result: details };
  } finally {
    heartbeat.stop();
  }
  plan.result = outcome.result;
  if (typeof outcome.result?.jobSummary === "string") plan.summary = outcome.result.jobSummary;
  const row = await db.job.update({
    where: { id: jobId },
    data: {
      state: outcome.state,
      error: outcome.error,
      endedAt: new Date(),
      stage: null,
      plan: JSON.stringify(plan),
      ...(outcome.state === "succeeded" ? { progressDone: BigInt(Math.round(largestTotal)), progressTotal: BigInt(Math.round(largestTotal)) } : {}),
    },
  });
  await db.diskLock.deleteMany({ where: { jobId } });
  await recordAuditEvent({
    actor: row.requestedBy,
    action: kind,
    diskId: row.diskId,
    detail: { jobId, outcome: outcome.state, error: outcome.error, summary: plan.summary, disk: plan.disk, result: outcome.result },
  });
  return outcome;
}

/** What a user is shown of a task's error: through the error gate (the detail of an internal one is logged). */
export function errorMessage(err: unknown, where = "a backup task"): string {
  return jobErrorMessage(err, where);
}
