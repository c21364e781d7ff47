import "server-only";
import { isCanopyError } from "@/lib/errors";
import { jobErrorMessage } from "../error-gate";
import { getDb } from "../db";
import type { ExecutorTable, JobContext, JobEnd, JobExecutor, JobOutcome } from "./executor";
import { startHeartbeat } from "./job-heartbeat";
import { parseJobRecord, type JobRecord } from "./job-record";

export type { JobOutcome } from "./executor";

/** Progress is written at most this often: a copy reports far more often than the jobs page polls. */
const PROGRESS_WRITE_MS = 250;

/** Runs a job with its kind's executor from the table (the worker's and a cancel's way). */
export async function runAnyJob(jobId: string, executors: ExecutorTable): Promise<JobOutcome> {
  const job = await getDb().job.findUniqueOrThrow({ where: { id: jobId }, select: { kind: true } });
  const executor = executors[job.kind];
  if (!executor) throw new Error(`no executor for job kind ${job.kind}`);
  return (await runJob(jobId, executor)).outcome;
}

/**
 * The lifecycle of every job, whatever its kind: marks it running in this process, beats its heartbeat (which
 * carries a cancel request to the work's signal), writes its stage and throttled progress, and at the end
 * records the outcome, the error through the error gate, lets go of the disk's lock and writes the audit event,
 * in that order (a job records its end before it lets go of the lock; see createLockedJob).
 */
export async function runJob<P, R>(jobId: string, executor: JobExecutor<P, R>): Promise<JobEnd<R>> {
  const db = getDb();
  const job = await db.job.findUniqueOrThrow({ where: { id: jobId }, include: { disk: { select: { name: true } } } });
  const record = parseJobRecord(job.plan);
  if (!record) throw new Error(`job ${jobId} has no plan`);
  const perStage = executor.progress === "per-stage";
  const now = new Date();
  await db.job.update({
    where: { id: jobId },
    data: {
      state: "running",
      workerPid: process.pid,
      startedAt: job.startedAt ?? now,
      heartbeatAt: now,
      ...(perStage ? { progressDone: 0n } : {}),
    },
  });
  const heartbeat = startHeartbeat(jobId);
  let lastWrite = 0;
  // The bar a finished job shows: the job's total, or the largest stage's bytes. Kept here because the
  // throttled writes may skip a short job's every update.
  let finalTotal = perStage ? 0 : Number(job.progressTotal);
  const writeProgress = (done: number, total: number) =>
    db.job.update({ where: { id: jobId }, data: { progressDone: BigInt(Math.round(done)), progressTotal: BigInt(Math.round(total)) } });
  const ctx: JobContext = {
    jobId,
    disk: job.disk?.name ?? record.disk,
    signal: heartbeat.signal,
    cancelRequestedBeforeStart: job.cancelRequested,
    async setStage(stage, progress) {
      if (!progress) {
        await db.job.update({ where: { id: jobId }, data: { stage } });
        return;
      }
      lastWrite = 0;
      const { done, total } = progress;
      await db.job.update({ where: { id: jobId }, data: { stage, progressDone: BigInt(done), progressTotal: BigInt(total) } });
    },
    onProgress(done, total) {
      finalTotal = Math.max(finalTotal, total);
      if (Date.now() - lastWrite < PROGRESS_WRITE_MS) return;
      lastWrite = Date.now();
      void writeProgress(done, total).catch(() => undefined);
    },
    async setProgress(done, total) {
      finalTotal = Math.max(finalTotal, total);
      await writeProgress(done, total);
    },
  };
  // Parsed inside the try: a record the executor cannot read fails the job, like any other error.
  let parsed: { params: P } | null = null;
  let end: JobEnd<R>;
  let summary = record.summary;
  try {
    parsed = { params: executor.params(record, job.params) };
    const ran = await executor.run(parsed.params, ctx);
    end = { outcome: ran.outcome, error: null, result: ran.result, details: null, notes: ran.notes ?? [] };
    summary = ran.summary ?? summary;
  } catch (err) {
    const details = isCanopyError(err) ? (err.details ?? null) : null;
    end = heartbeat.signal.aborted
      ? { outcome: "cancelled", error: null, result: null, details, notes: [] }
      : { outcome: "failed", error: jobErrorMessage(err, `job ${jobId}`), result: null, details, notes: [] };
  } finally {
    heartbeat.stop();
  }
  if (executor.settle && parsed) end = await executor.settle(parsed.params, ctx, end);
  await recordEnd(jobId, record, summary, end, executor, finalTotal);
  return end;
}

async function recordEnd<P, R>(
  jobId: string,
  record: JobRecord,
  summary: string,
  end: JobEnd<R>,
  executor: JobExecutor<P, R>,
  finalTotal: number,
): Promise<void> {
  const db = getDb();
  const total = BigInt(Math.round(finalTotal));
  const updated = executor.endRecord?.(record, end, summary);
  const row = await db.job.update({
    where: { id: jobId },
    data: {
      state: end.outcome,
      error: end.error,
      endedAt: new Date(),
      stage: null,
      ...(updated ? { plan: JSON.stringify(updated) } : {}),
      ...(end.outcome === "succeeded" ? { progressDone: total, progressTotal: total } : {}),
    },
  });
  await db.$transaction([
    db.diskLock.deleteMany({ where: { jobId } }),
    db.auditEvent.create({
      data: {
        diskId: row.diskId,
        actor: row.requestedBy,
        action: row.kind,
        detail: JSON.stringify({ jobId, outcome: end.outcome, error: end.error, summary, ...executor.auditDetail(updated ?? record, end) }),
      },
    }),
  ]);
}
