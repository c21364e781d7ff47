import "server-only";
import { getDb } from "../db";
import { runAnyJob } from "./run-any-job";

/** A heartbeat older than this means the process running the job is gone (killed, crashed, machine restarted). */
export const STALE_AFTER_MS = 10_000;

function alive(pid: number | null): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Running jobs whose process died: the worker resumes them from the step they were in. */
export async function findOrphanedJobs(): Promise<string[]> {
  const running = await getDb().job.findMany({ where: { state: "running" }, orderBy: { createdAt: "asc" } });
  const now = Date.now();
  return running
    .filter((j) => {
      const stale = !j.heartbeatAt || now - j.heartbeatAt.getTime() > STALE_AFTER_MS;
      return j.workerPid === process.pid || !alive(j.workerPid) || stale;
    })
    .map((j) => j.id);
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

export async function resumeOrphanedJobs(log: (line: string) => void): Promise<void> {
  for (const id of await findOrphanedJobs()) {
    log(`resuming job ${id} left running by a process that is gone`);
    const outcome = await runAnyJob(id);
    log(`job ${id} ${outcome}`);
  }
}
