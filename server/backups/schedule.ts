import "server-only";
import { isCanopyError } from "@/lib/errors";
import { getDb } from "../db";
import { cronMatches } from "./cron";
import { startBackup } from "./operations";
import { scheduledDisks } from "./policy";

/**
 * The worker's scheduler: every disk whose effective policy has a schedule gets a backup job queued in each
 * matching minute, once (the minute last queued is kept in Setting `backup-schedule:<disk>`, so a restarted or
 * second worker does not queue it twice). A busy disk is skipped for that minute. Retention runs after each
 * successful backup (server/backups/operations.ts).
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
    const key = `backup-schedule:${disk}`;
    const last = await db.setting.findUnique({ where: { key } });
    if (last && last.value >= minute.toISOString()) continue;
    await db.setting.upsert({ where: { key }, create: { key, value: minute.toISOString() }, update: { value: minute.toISOString() } });
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
