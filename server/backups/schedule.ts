import "server-only";
import { isCanopyError } from "@/lib/errors";
import { getDb } from "../db";
import { writeTransaction } from "../db-retry";
import { cronMatches } from "@/lib/backup/cron";
import { startBackup } from "./start-backup";
import { scheduledDisks } from "./policy";

/**
 * The worker's scheduler: every disk whose effective policy has a schedule gets a backup job queued in each
 * matching minute, once (the minute last queued is kept in Setting `backup-schedule:<disk>`, so a restarted or
 * second worker does not queue it twice). A busy disk is skipped for that minute. Retention runs after each
 * successful backup (server/backups/start-backup.ts).
 */
export async function queueScheduledBackups(now = new Date(), log: (line: string) => void = () => undefined): Promise<string[]> {
  const db = getDb();
  const minute = new Date(now);
  minute.setSeconds(0, 0);
  const disks = (await db.disk.findMany({ select: { name: true } })).map((d) => d.name);
  const queued: string[] = [];
  for (const { disk, schedule } of await scheduledDisks(disks)) {
    let matches = false;
    try {
      matches = cronMatches(schedule, minute);
    } catch {
      continue; // validated when set; an old bad value is skipped, not fatal
    }
    if (!matches) continue;
    if (!(await claimMinute(`backup-schedule:${disk}`, minute))) continue;
    try {
      const { job } = await startBackup(disk, { requestedBy: "schedule", background: true });
      queued.push(job.id);
      log(`scheduled backup of ${disk} (${schedule}): job ${job.id}`);
    } catch (err) {
      log(`scheduled backup of ${disk} skipped: ${isCanopyError(err) ? err.message : String(err)}`);
    }
  }
  return queued;
}

/**
 * Marks `minute` as queued for this key unless it (or a later one) already is, in one write transaction: two
 * workers reading "not yet" at once would otherwise both queue, and the disk's lock alone does not stop the
 * second when the first backup has already finished.
 */
async function claimMinute(key: string, minute: Date): Promise<boolean> {
  const value = minute.toISOString();
  return writeTransaction(getDb(), async (tx) => {
    const last = await tx.setting.findUnique({ where: { key } });
    if (last && last.value >= value) return false;
    await tx.setting.upsert({ where: { key }, create: { key, value }, update: { value } });
    return true;
  });
}
