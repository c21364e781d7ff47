import "server-only";
import { processAlive } from "@/lib/proc/process-alive";
import { getDb } from "../db";
import type { ExecutorTable } from "./executor";
import { runAnyJob } from "./run-job";

/** A heartbeat older than this means the process running the job is gone (killed, crashed, machine restarted). */
export const STALE_AFTER_MS = 10_000;

/** Whether the process that ran a job is gone: its pid is dead, or it stopped beating. */
export function processGone(job: { workerPid: number | null; heartbeatAt: Date | null }, now = Date.now()): boolean {
  const stale = !job.heartbeatAt || now - job.heartbeatAt.getTime() > STALE_AFTER_MS;
  return !processAlive(job.workerPid) || stale;
}

/** Running jobs whose process died: the worker resumes them from the step they were in. */
export async function findOrphanedJobs(): Promise<string[]> {
  const running = await getDb().job.findMany({ where: { state: "running" }, orderBy: { createdAt: "asc" } });
  return running.filter((j) => j.workerPid === process.pid || processGone(j)).map((j) => j.id);
}

/**
 * Takes over a running job whose process died, so that exactly one process resumes or settles it (two workers,
 * or a worker and a `canopy cancel`): the update only matches while the job still names the dead process.
 */
export async function claimOrphanedJob(jobId: string, { cancel = false } = {}): Promise<boolean> {
  const db = getDb();
  const job = await db.job.findUnique({ where: { id: jobId } });
  if (!job || job.state !== "running") return false;
  // A worker between jobs runs nothing, so a job naming its own pid is left from an earlier life of that pid;
  // any other process (a cancel) may be running that very job itself.
  if (!processGone(job) && (cancel || job.workerPid !== process.pid)) return false;
  const claimed = await db.job.updateMany({
    where: { id: job.id, state: "running", workerPid: job.workerPid, heartbeatAt: job.heartbeatAt },
    data: { workerPid: process.pid, heartbeatAt: new Date(), ...(cancel ? { cancelRequested: true } : {}) },
  });
  return claimed.count === 1;
}

/** Takes the oldest queued job, if any; the conditional update makes two workers never take the same one. */
export async function claimQueuedJob(): Promise<string | null> {
  const db = getDb();
  const next = await db.job.findFirst({ where: { state: "queued" }, orderBy: { createdAt: "asc" } });
  if (!next) return null;
  const claimed = await db.job.updateMany({
    where: { id: next.id, state: "queued" },
    data: { state: "running", workerPid: process.pid, heartbeatAt: new Date() },
  });
  return claimed.count === 1 ? next.id : null;
}

/**
 * Resumes or reruns every job a dead process left running: a plan from the step it was in, a repeatable piece
 * of work (a backup) as a whole.
 */
export async function resumeOrphanedJobs(log: (line: string) => void, executors: ExecutorTable): Promise<void> {
  for (const id of await findOrphanedJobs()) {
    if (!(await claimOrphanedJob(id))) continue;
    const kind = (await getDb().job.findUnique({ where: { id }, select: { kind: true } }))?.kind ?? "";
    const again = executors[kind]?.repeatable ? "running again from its start" : "resuming";
    log(`${again} job ${id} left running by a process that is gone`);
    const outcome = await runAnyJob(id, executors);
    log(`job ${id} ${outcome}`);
  }
}
