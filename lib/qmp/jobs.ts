import type { QmpClient } from "./client";
import type { Disposable } from "./emitter";
import { QmpClosedError, QmpError } from "./errors";
import type {
  BlockCommitArgs,
  BlockdevBackupArgs,
  BlockStreamArgs,
  JobInfo,
  JobStatus,
  JobType,
  QmpEvents,
} from "./types";

/**
 * Following one QEMU block job from start to dismissal. State comes from JOB_STATUS_CHANGE events; `query-jobs`
 * is polled only for the byte counters (QEMU sends no progress events). Jobs are always created with
 * auto-dismiss off, so a concluded job stays visible until we have read how it ended, and we always dismiss it.
 *
 * Longer than 300 lines: one job's life (start, events, byte polling, cancel, completion, dismissal) is one state
 * machine, and splitting it would spread its invariants over several files.
 */

/** The job-id is required (Canopy names every job); auto-dismiss/auto-finalize are ours to set. */
type StartArgs<A> = Omit<A, "auto-dismiss" | "auto-finalize" | "job-id"> & { "job-id": string };

export type BlockJobStart =
  | { command: "block-commit"; args: StartArgs<BlockCommitArgs> }
  | { command: "block-stream"; args: StartArgs<BlockStreamArgs> }
  | { command: "blockdev-backup"; args: StartArgs<BlockdevBackupArgs> };

export interface JobProgress {
  jobId: string;
  type: JobType | undefined;
  status: JobStatus;
  /** Bytes; for an active commit the total is what was allocated in the top, for other jobs the disk size. */
  current: number;
  total: number;
}

export interface TrackJobOptions {
  /** Called on every status change and whenever the byte counters move. */
  onProgress?: (progress: JobProgress) => void;
  /** Aborting cancels the job (job-cancel) in whatever state it is; the result is then "cancelled". */
  signal?: AbortSignal;
  /** How often to poll query-jobs for the counters. Default 250 ms. */
  pollIntervalMs?: number;
  /** Timeout of each QMP call made for the job. Default: the client's. */
  callTimeoutMs?: number;
}

/** A job that ended in error, with QEMU's own text in `desc`. */
export class JobError extends Error {
  constructor(
    readonly jobId: string,
    readonly desc: string,
    /** From BLOCK_JOB_ERROR when an I/O error was the cause. */
    readonly ioError?: Pick<QmpEvents["BLOCK_JOB_ERROR"], "operation" | "action">,
  ) {
    super(`job ${jobId} failed: ${desc}${ioError ? ` (${ioError.operation} error)` : ""}`);
    this.name = "JobError";
  }
}

export type JobResult =
  | { outcome: "completed"; jobId: string; progress: JobProgress }
  | { outcome: "cancelled"; jobId: string; progress: JobProgress }
  | { outcome: "failed"; jobId: string; progress: JobProgress; error: JobError };

/** QEMU's text for a cancelled job in query-jobs' `error`; used only when the events were not seen. */
const CANCELED_TEXT = "Operation canceled";
const DEFAULT_POLL_MS = 250;
/** An active commit is a mirror inside QEMU but still reports type "commit". */
const JOB_TYPE_OF: Record<BlockJobStart["command"], JobType> = {
  "block-commit": "commit",
  "block-stream": "stream",
  "blockdev-backup": "backup",
};
const NOT_CANCELLABLE: ReadonlySet<JobStatus> = new Set(["aborting", "concluded", "null"]);

export class BlockJob {
  private currentStatus: JobStatus = "undefined";
  private sawStatusEvent = false;
  private type: JobType | undefined;
  private current = 0;
  private total = 0;
  private ended: "cancelled" | "completed" | undefined;
  private endedError: string | undefined;
  private ioError: JobError["ioError"];
  /** A failure we decided on (I/O error with on-error=stop, job-complete refused) before cancelling. */
  private forcedError: JobError | undefined;
  private concluding = false;
  private finished = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly subscriptions: Disposable[] = [];
  private readonly readyWaiters: Array<(ready: boolean) => void> = [];
  private resolveDone!: (result: JobResult) => void;
  private rejectDone!: (error: Error) => void;
  private readonly onAbort = () => void this.cancel().catch(() => undefined);

  /** Settles once the job is concluded and dismissed; rejects only if the connection is lost first. */
  readonly done: Promise<JobResult>;

  private constructor(
    private readonly client: QmpClient,
    readonly id: string,
    private readonly options: TrackJobOptions,
  ) {
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // Mark handled: a caller that only awaits whenReady() must not get an unhandled rejection from `done`.
    this.done.catch(() => undefined);
    this.subscribe();
  }

  /** Starts a job (with auto-dismiss off) and follows it. A refused start throws QmpError; no job exists then. */
  static async start(client: QmpClient, start: BlockJobStart, options: TrackJobOptions = {}): Promise<BlockJob> {
    // Subscribe before starting: QEMU sends the first status events before the command's reply.
    const job = new BlockJob(client, start.args["job-id"], options);
    job.type = JOB_TYPE_OF[start.command];
    try {
      // No signal here: an abort mid-start could leave a job nobody dismisses; it is honoured right after.
      await client.executeRaw(start.command, { ...start.args, "auto-dismiss": false }, job.callOptions());
    } catch (err) {
      job.release();
      throw err;
    }
    job.begin();
    return job;
  }

  /**
   * Follows a job started elsewhere (a transaction's blockdev-backup, or after a reconnect). It must have been
   * created with auto-dismiss false and auto-finalize true (the default), or its end cannot be read here.
   */
  static async attach(client: QmpClient, jobId: string, options: TrackJobOptions = {}): Promise<BlockJob> {
    const job = new BlockJob(client, jobId, options);
    try {
      const info = await job.query();
      if (!info) throw new JobError(jobId, "no such job in query-jobs");
      // An event seen while the query was in flight is at least as new as the reply.
      if (!job.sawStatusEvent) job.setStatus(info.status);
    } catch (err) {
      job.release();
      throw err;
    }
    job.begin();
    return job;
  }

  get status(): JobStatus {
    return this.currentStatus;
  }

  get progress(): JobProgress {
    return { jobId: this.id, type: this.type, status: this.currentStatus, current: this.current, total: this.total };
  }

  /** True once the job is READY (an active commit or mirror in sync), false if it ended without getting there. */
  whenReady(): Promise<boolean> {
    if (this.currentStatus === "ready") return Promise.resolve(true);
    if (this.finished) return Promise.resolve(false);
    return new Promise((resolve, reject) => {
      this.readyWaiters.push(resolve);
      this.done.catch(reject);
    });
  }

  /** At READY: job-complete (the pivot of an active commit), then the final result. */
  async complete(): Promise<JobResult> {
    if (this.finished || this.concluding) return this.done;
    if (this.currentStatus !== "ready") throw new Error(`job ${this.id} is ${this.currentStatus}, not ready`);
    try {
      await this.client.execute("job-complete", { id: this.id }, this.callOptions());
    } catch (err) {
      if (!(err instanceof QmpError)) throw err;
      // QEMU refused the pivot: do not leave a mirror running; end the job and report why.
      this.forcedError = new JobError(this.id, err.desc);
      return this.cancel();
    }
    return this.done;
  }

  /** Cancels in any state; a job that is already ending just ends. Resolves with the final result. */
  async cancel(): Promise<JobResult> {
    if (!this.finished && !this.concluding && !NOT_CANCELLABLE.has(this.currentStatus)) {
      try {
        await this.client.execute("job-cancel", { id: this.id }, this.callOptions());
      } catch (err) {
        // A QmpError here means the job moved on (concluded) meanwhile; its events will finish it.
        if (!(err instanceof QmpError)) throw err;
      }
    }
    return this.done;
  }

  private callOptions(): { timeoutMs?: number } {
    return { timeoutMs: this.options.callTimeoutMs };
  }

  private subscribe(): void {
    const mine = (device: string) => device === this.id;
    this.subscriptions.push(
      this.client.on("JOB_STATUS_CHANGE", ({ data }) => {
        if (data.id !== this.id) return;
        this.sawStatusEvent = true;
        this.setStatus(data.status);
      }),
      this.client.on("BLOCK_JOB_COMPLETED", ({ data }) => {
        if (!mine(data.device)) return;
        this.ended = "completed";
        this.endedError = data.error;
        this.type = data.type;
      }),
      this.client.on("BLOCK_JOB_CANCELLED", ({ data }) => {
        if (mine(data.device)) this.ended = "cancelled";
      }),
      this.client.on("BLOCK_JOB_ERROR", ({ data }) => {
        if (!mine(data.device)) return;
        this.ioError = { operation: data.operation, action: data.action };
        // on-error=stop pauses the job and waits for a person; Canopy has none to ask, so it fails the job.
        if (data.action === "stop") {
          this.forcedError = new JobError(this.id, `I/O error on ${data.operation}; the job stopped`, this.ioError);
          void this.cancel().catch(() => undefined);
        }
      }),
      this.client.onClose((error) =>
        this.fail(
          new QmpClosedError(
            `job ${this.id}: ${error.message}; the job may still run in QEMU (BlockJob.attach after reconnecting)`,
            undefined,
            error,
          ),
        ),
      ),
    );
  }

  private begin(): void {
    if (this.finished) return;
    if (this.options.signal) {
      if (this.options.signal.aborted) this.onAbort();
      else this.options.signal.addEventListener("abort", this.onAbort, { once: true });
    }
    this.schedulePoll(0);
  }

  private setStatus(status: JobStatus): void {
    if (status === this.currentStatus) return;
    this.currentStatus = status;
    this.report();
    if (status === "ready") this.flushReadyWaiters(true);
    if (status === "concluded") void this.conclude();
    // Dismissed by someone else before we read the end: report what the events told us.
    if (status === "null" && !this.concluding) void this.conclude();
  }

  private report(): void {
    this.options.onProgress?.(this.progress);
  }

  private schedulePoll(delayMs = this.options.pollIntervalMs ?? DEFAULT_POLL_MS): void {
    if (this.finished || this.concluding) return;
    this.pollTimer = setTimeout(() => void this.poll(), delayMs);
  }

  private async poll(): Promise<void> {
    try {
      const info = await this.query();
      if (this.finished || this.concluding) return;
      if (info) this.absorbCounters(info);
    } catch {
      // Transient (a slow reply); a lost connection is handled by onClose.
    }
    this.schedulePoll();
  }

  private async query(): Promise<JobInfo | undefined> {
    const jobs = await this.client.execute("query-jobs", {}, this.callOptions());
    return jobs.find((job) => job.id === this.id);
  }

  private absorbCounters(info: JobInfo): void {
    this.type = info.type;
    const moved = info["current-progress"] !== this.current || info["total-progress"] !== this.total;
    this.current = info["current-progress"];
    this.total = info["total-progress"];
    if (moved) this.report();
  }

  private async conclude(): Promise<void> {
    if (this.concluding || this.finished) return;
    this.concluding = true;
    clearTimeout(this.pollTimer);
    try {
      const info = this.currentStatus === "null" ? undefined : await this.query();
      if (info) {
        this.absorbCounters(info);
        this.endedError ??= info.error;
      }
      const result = this.result();
      if (info) await this.dismiss();
      this.finish(result);
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private result(): JobResult {
    const base = { jobId: this.id, progress: this.progress };
    if (this.forcedError) return { ...base, outcome: "failed", error: this.forcedError };
    const cancelled = this.ended === "cancelled" || (this.ended === undefined && this.endedError === CANCELED_TEXT);
    if (cancelled) return { ...base, outcome: "cancelled" };
    if (this.endedError !== undefined) {
      return { ...base, outcome: "failed", error: new JobError(this.id, this.endedError, this.ioError) };
    }
    return { ...base, outcome: "completed" };
  }

  private async dismiss(): Promise<void> {
    try {
      await this.client.execute("job-dismiss", { id: this.id }, this.callOptions());
    } catch (err) {
      // Someone else dismissed it between our query and now: the job is gone either way.
      if (!(err instanceof QmpError)) throw err;
    }
  }

  private finish(result: JobResult): void {
    if (this.finished) return;
    this.release();
    this.currentStatus = "null";
    this.resolveDone(result);
  }

  private fail(error: Error): void {
    if (this.finished) return;
    this.release();
    this.rejectDone(error);
  }

  /** Drops every subscription, timer and listener; the job object is inert afterwards. */
  private release(): void {
    this.finished = true;
    clearTimeout(this.pollTimer);
    for (const s of this.subscriptions.splice(0)) s.dispose();
    this.options.signal?.removeEventListener("abort", this.onAbort);
    this.flushReadyWaiters(false);
  }

  private flushReadyWaiters(ready: boolean): void {
    for (const resolve of this.readyWaiters.splice(0)) resolve(ready);
  }
}

export interface RunBlockJobOptions extends TrackJobOptions {
  /** At READY, send job-complete (pivot) and wait for the end. Default false: resolve at READY. */
  autoComplete?: boolean;
}

/** Returned at READY when autoComplete is off: call job.complete() or job.cancel(), then read its result. */
export interface JobReady {
  outcome: "ready";
  jobId: string;
  progress: JobProgress;
  job: BlockJob;
}

/**
 * Starts a block job and follows it to its end. Jobs that never become READY (stream, backup, intermediate
 * commit) resolve when done; an active commit resolves at READY, or is completed there with autoComplete.
 * A refused start throws QmpError; a job that fails resolves with outcome "failed" and a JobError.
 */
export function runBlockJob(
  client: QmpClient,
  start: BlockJobStart,
  options: RunBlockJobOptions & { autoComplete: true },
): Promise<JobResult>;
export function runBlockJob(
  client: QmpClient,
  start: BlockJobStart,
  options?: RunBlockJobOptions,
): Promise<JobResult | JobReady>;
export async function runBlockJob(
  client: QmpClient,
  start: BlockJobStart,
  options: RunBlockJobOptions = {},
): Promise<JobResult | JobReady> {
  const job = await BlockJob.start(client, start, options);
  if (!(await job.whenReady())) return job.done;
  if (options.signal?.aborted) return job.cancel();
  if (!options.autoComplete) return { outcome: "ready", jobId: job.id, progress: job.progress, job };
  return job.complete();
}
