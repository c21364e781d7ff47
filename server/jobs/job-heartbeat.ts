import "server-only";
import { getDb } from "../db";

/** Also how quickly a cancel request reaches the running work. */
const HEARTBEAT_MS = 250;

/**
 * While a job runs, its heartbeat tells other processes it is alive (a stale one marks it orphaned, see
 * recover-jobs.ts), and the same write reads back whether a cancel was asked for, which aborts `signal`.
 */
export function startHeartbeat(jobId: string): { signal: AbortSignal; stop(): void } {
  const abort = new AbortController();
  const timer = setInterval(() => {
    void getDb()
      .job.update({ where: { id: jobId }, data: { heartbeatAt: new Date() }, select: { cancelRequested: true } })
      .then((j) => j.cancelRequested && abort.abort())
      .catch(() => undefined);
  }, HEARTBEAT_MS);
  return { signal: abort.signal, stop: () => clearInterval(timer) };
}
