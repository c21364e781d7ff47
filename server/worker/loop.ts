import "server-only";
import { scanAndRecord } from "../sync-inventory";
import { loadConfig } from "../config";
import { getDb } from "../db";
import { claimQueuedJob, resumeOrphanedJobs } from "../jobs/recover-jobs";
import { runAnyJob } from "../jobs/run-job";
import { JOB_EXECUTORS } from "../job-kinds/executors";
import { queueScheduledBackups } from "../backups/schedule";
import { refreshLiveness } from "../live/refresh-liveness";
import { getJobView } from "../job-views";
import type { JobView } from "@/lib/views/job";

/**
 * The job worker runs outside any web request: `canopy worker` (or `npm run worker`), `npm start`'s
 * `node server/worker/main.ts`. It resumes jobs left running by a process that died (a killed worker or CLI),
 * then runs queued jobs one at a time (tree operations, backups, verifies, restores), queues the backups the
 * policies' schedules ask for, and periodically rescans the storage root (so disks changed by other tools show
 * up) and checks that running disks' daemons are still alive.
 */
const POLL_MS = Number(process.env.CANOPY_WORKER_POLL_MS ?? 500);
const SCAN_EVERY_MS = Number(process.env.CANOPY_SCAN_INTERVAL_MS ?? 30_000);
/** Backup schedules are matched per minute; checking every 15 s never misses one. */
const SCHEDULE_EVERY_MS = 15_000;

export type WorkerLog = (line: string) => void;

/** Stop at SIGINT or SIGTERM at once. */
export function exitOnStopSignals(): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    // A stop between steps is clean; a stop inside a step is the same as a kill, and the next start resumes it.
    process.on(signal, () => process.exit(0));
  }
}

/** Runs until the process is stopped. */
export async function runWorkerLoop(log: WorkerLog): Promise<never> {
  log(`pid ${process.pid}, storage root ${loadConfig().storageRoot}`);
  let lastScan = 0;
  let lastSchedule = 0;
  for (;;) {
    try {
      await resumeOrphanedJobs(log, JOB_EXECUTORS);
      if (Date.now() - lastSchedule > SCHEDULE_EVERY_MS) {
        lastSchedule = Date.now();
        await queueScheduledBackups(new Date(), log);
      }
      const id = await claimQueuedJob();
      if (id) {
        log(`running job ${id}`);
        log(`job ${id} ${await runAnyJob(id, JOB_EXECUTORS)}`);
        continue;
      }
      if (Date.now() - lastScan > SCAN_EVERY_MS) {
        lastScan = Date.now();
        await rescan(log);
      }
    } catch (err) {
      log(`error: ${err instanceof Error ? err.message : String(err)}`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/**
 * The periodic rescan, then the liveness check. A scan that fails as a whole (the storage root unreadable)
 * must not skip the check: a running disk whose daemon died would stay "running" for as long as it fails.
 */
async function rescan(log: WorkerLog): Promise<void> {
  try {
    const { unrecorded } = await scanAndRecord(loadConfig().storageRoot);
    for (const u of unrecorded) log(`disk ${u.disk} could not be recorded (shown on the disk): ${u.message}`);
  } catch (err) {
    log(`scan failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  for (const disk of await refreshLiveness()) log(`the daemon of ${disk} is gone: recorded as stopped`);
}

/** A job `runWorkerOnce` ran, as it ended; `resumed` when a dead process had left it running. */
export type RanJob = JobView & { resumed: boolean };

/**
 * What a CLI-only admin runs after a kill: resumes the jobs dead processes left running, runs every queued job,
 * and returns what it ran, in the order the jobs ended. Nothing is scheduled or rescanned.
 */
export async function runWorkerOnce(log: WorkerLog): Promise<RanJob[]> {
  const since = new Date();
  await resumeOrphanedJobs(log, JOB_EXECUTORS);
  const claimed = new Set<string>();
  for (let id = await claimQueuedJob(); id; id = await claimQueuedJob()) {
    claimed.add(id);
    log(`running job ${id}`);
    log(`job ${id} ${await runAnyJob(id, JOB_EXECUTORS)}`);
  }
  // Every runner writes its process's pid on the job it takes (server/jobs/run-job.ts), the resumed ones too.
  const ended = await getDb().job.findMany({
    where: { workerPid: process.pid, endedAt: { gte: since } },
    orderBy: { endedAt: "asc" },
    select: { id: true },
  });
  const views = await Promise.all(ended.map((j) => getJobView(j.id)));
  return views.filter((v) => v !== null).map((v) => ({ ...v, resumed: !claimed.has(v.id) }));
}
