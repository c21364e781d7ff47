import "server-only";
import type { JobRecord } from "./job-record";

export type JobOutcome = "succeeded" | "failed" | "cancelled";

/**
 * What a running job's work is given by the lifecycle (run-job.ts): the job, the abort signal (a cancel request
 * reaches it within a heartbeat), and the throttled progress and stage writes the jobs page polls.
 */
export interface JobContext {
  jobId: string;
  disk: string;
  signal: AbortSignal;
  /**
   * A cancel was asked for while the job's process was dead, and this process took the job over to settle it
   * (see cancelJob): the work is not run again, only brought to a consistent state.
   */
  cancelRequestedBeforeStart: boolean;
  /** The stage the jobs page shows; with `progress`, the bar starts over for this stage at once. */
  setStage(stage: string, progress?: { done: number; total: number }): Promise<void>;
  /** Progress, written at most every PROGRESS_WRITE_MS (a copy reports far more often than the page polls). */
  onProgress(done: number, total: number): void;
  /** Progress written now (a step's end). */
  setProgress(done: number, total: number): Promise<void>;
}

/** How the work ended when it did not throw (a throw is a failure, or a cancel when the signal was aborted). */
export interface JobRun<Result> {
  outcome: "succeeded" | "cancelled";
  result: Result | null;
  /** What the work found and repaired on the way (a resumed step's leaks), for the audit record. */
  notes?: string[];
  /** A better line for the job list, known only after the work (the backup's id). */
  summary?: string;
}

/** The end as the lifecycle records it: the job row, the audit event. */
export interface JobEnd<Result> {
  outcome: JobOutcome;
  error: string | null;
  result: Result | null;
  /** A failure's details (a CanopyError's: a refusal's dependents), for the caller and the record. */
  details: Record<string, unknown> | null;
  notes: string[];
}

/**
 * What a kind of job provides; the lifecycle (claim, heartbeat, cancel, progress, the end's record, the disk's
 * lock, the audit event, the error gate) is server/jobs' alone. The table from kind to executor is built in
 * server/job-kinds.
 */
export interface JobExecutor<Params, Result> {
  /**
   * How the job's bar reads: "whole-job", the job's total bytes fixed when it was created (a plan's steps add
   * up to it); "per-stage", each stage's own bytes (a backup's copy, then its check), set as the stage starts.
   */
  progress: "whole-job" | "per-stage";
  /**
   * Whether a job a dead process left running is run again as a whole (the work discards what it left
   * unfinished), rather than resumed from where it was (a plan's steps).
   */
  repeatable: boolean;
  /** The job's parameters, read from its stored record. */
  params(record: JobRecord, storedParams: string): Params;
  run(params: Params, ctx: JobContext): Promise<JobRun<Result>>;
  /**
   * After the work, whatever its outcome, before the end is recorded: bring Canopy's records in line with the
   * files, and say more in the error (a warning). Returns the end to record.
   */
  settle?(params: Params, ctx: JobContext, end: JobEnd<Result>): Promise<JobEnd<Result>>;
  /** The record stored at the end, when the work's result and summary belong in it; a plan stays as it was made. */
  endRecord?(record: JobRecord, end: JobEnd<Result>, summary: string): JobRecord;
  /** What the audit event records besides the job, its outcome, error and summary. */
  auditDetail(record: JobRecord, end: JobEnd<Result>): Record<string, unknown>;
}

/** Every kind's executor, by the kind stored on the job row. */
export type ExecutorTable = Readonly<Record<string, JobExecutor<unknown, unknown>>>;
