/**
 * QMP for Canopy: a typed client (client.ts) over a JSON-lines unix-socket transport (transport.ts), block job
 * tracking (jobs.ts) and a qemu-storage-daemon launcher for tests and the demo (daemon.ts). No Next.js, no
 * Prisma: this is part of the pure backend core.
 *
 * Things worth knowing before using it:
 * - A QMP socket serves one client at a time; a second connection waits, silently, for the first to leave.
 * - QEMU often sends events before the reply to the command that caused them: subscribe first.
 * - A timed-out or aborted call only stops waiting; QEMU may still carry the command out.
 * - After reconnect(), events sent while disconnected are lost: re-read state (query-jobs) instead.
 */

export { QmpClient, DEFAULT_CALL_TIMEOUT_MS } from "./client";
export type { QmpCallOptions, QmpConnectOptions, QmpReconnectOptions, ExecuteParams } from "./client";
export { QmpError, QmpTimeoutError, QmpAbortError, QmpClosedError, QmpConnectError } from "./errors";
export type { WaitForEventOptions, EventStreamOptions } from "./events";
export type { Disposable } from "./emitter";
export { BlockJob, JobError, runBlockJob } from "./jobs";
export type { BlockJobStart, JobProgress, JobResult, JobReady, TrackJobOptions, RunBlockJobOptions } from "./jobs";
export { StorageDaemon, startStorageDaemon, DaemonStartError, daemonArgs } from "./daemon";
export type { DaemonBlockdev, DaemonNbdExport, StartDaemonOptions, DaemonExit } from "./daemon";
export { JsonLineTransport, LineDecoder } from "./transport";
export type * from "./types";
export { QMP_EVENT_NAMES, isKnownEvent } from "./types";
