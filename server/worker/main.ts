import "dotenv/config";
import { scanAndRecord } from "../sync-inventory";
import { loadConfig } from "../config";
import { claimQueuedJob, resumeOrphanedJobs } from "../jobs/recover-jobs";
import { runAnyJob } from "../jobs/run-any-job";
import { queueScheduledBackups } from "../backups/schedule";
import { refreshLiveness } from "../live/refresh-liveness";

/**
 * The job worker runs outside any web request. On start it resumes jobs left running by a process that died
 * (a killed worker or CLI), then runs queued jobs one at a time (tree operations, backups, verifies,
 * restores), queues the backups the policies' schedules ask for, and periodically rescans the storage root (so
 * disks changed by other tools show up) and checks that running disks' daemons are still alive.
 */
const POLL_MS = Number(process.env.CANOPY_WORKER_POLL_MS ?? 500);
const SCAN_EVERY_MS = Number(process.env.CANOPY_SCAN_INTERVAL_MS ?? 30_000);
/** Backup schedules are matched per minute; checking every 15 s never misses one. */
const SCHEDULE_EVERY_MS = 15_000;
const log = (line: string) => console.log(`canopy worker: ${line}`);
let stopping = false;

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  // A stop between steps is clean; a stop inside a step is the same as a kill, and the next start resumes it.
  process.on(signal, () => {
    stopping = true;
    process.exit(0);
  });
}

async function loop(): Promise<void> {
  let lastScan = 0;
  let lastSchedule = 0;
  while (!stopping) {
    try {
      await resumeOrphanedJobs(log);
      if (Date.now() - lastSchedule > SCHEDULE_EVERY_MS) {
        lastSchedule = Date.now();
        await queueScheduledBackups(new Date(), log);
      }
      const id = await claimQueuedJob();
      if (id) {
        log(`running job ${id}`);
        log(`job ${id} ${await runAnyJob(id)}`);
        continue;
      }
      if (Date.now() - lastScan > SCAN_EVERY_MS) {
        lastScan = Date.now();
        await scanAndRecord(loadConfig().storageRoot);
        for (const disk of await refreshLiveness()) log(`the daemon of ${disk} is gone: recorded as stopped`);
      }
    } catch (err) {
      log(`error: ${err instanceof Error ? err.message : String(err)}`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

log(`pid ${process.pid}, storage root ${loadConfig().storageRoot}`);
await loop();
