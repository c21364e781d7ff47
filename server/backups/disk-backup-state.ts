import "server-only";
import { assertName } from "@/lib/inventory/names";
import { gateError } from "../error-gate";
import { getDb } from "../db";
import { currentDiskJob } from "../disk-activity";
import { scheduleOutlook, type NextRun } from "@/lib/backup/cron";
import { syncDiskBackups } from "./mirror";
import { previewNextBackup } from "./preview-backup";
import { toLastBackup, type LastBackup } from "@/lib/views/last-backup";
import { effectivePolicy } from "./policy";

export type { LastBackup };

/**
 * A disk's backup state in one look, for the panel beside its tree: the last backup, when the schedule runs
 * next, and whether the bitmaps allow an incremental. Nothing here throws for a state the disk can be in (no
 * backups, no schedule, a bad stored schedule, a disk the preview cannot read): each is an answer the page shows.
 */

/** `fromOverride`: the schedule is the disk's own, not the default policy's. */

export type BitmapHealth =
  /** What the next backup would be (lib/backup's decideKind): `incremental` means the bitmaps are usable. */
  | { state: "checked"; kind: "full" | "incremental"; reason: string; detail: string }
  /** A job holds the disk: its files are changing, so an answer would be a guess (and a running QEMU's QMP is busy). */
  | { state: "busy"; jobId: string; jobKind: string }
  | { state: "failed"; message: string };

export interface DiskBackupState {
  disk: string;
  last: LastBackup | null;
  maxIncrementals: number;
  next: NextRun;
  health: BitmapHealth;
  checkedAt: string;
}

export async function loadDiskBackupState(disk: string, now = new Date()): Promise<DiskBackupState> {
  assertName("disk", disk);
  const policy = await effectivePolicy(disk);
  return {
    disk,
    last: await lastBackup(disk),
    maxIncrementals: policy.maxIncrementals,
    // Worked out here, not in the browser: the schedule is in the server's local time, as the worker runs it.
    next: { ...scheduleOutlook(policy.schedule, now), fromOverride: policy.overrides.includes("schedule") },
    health: await bitmapHealth(disk),
    checkedAt: now.toISOString(),
  };
}

/** From the Backup table, which every backup, verify and delete refreshes: a read, no manifest parsing. */
async function lastBackup(disk: string): Promise<LastBackup | null> {
  const db = getDb();
  const newest = () => db.backup.findFirst({ where: { disk }, orderBy: [{ pointInTime: "desc" }, { seq: "desc" }] });
  let row = await newest();
  if (!row) {
    // An empty mirror may only mean this database has not read the repository yet (a new database over old backups).
    await syncDiskBackups(disk);
    row = await newest();
    if (!row) return null;
  }
  const chain = await db.backup.findMany({ where: { disk, chainId: row.chainId } });
  return toLastBackup({ ...row, fileSize: Number(row.fileSize) }, chain.map((b) => ({ ...b, fileSize: Number(b.fileSize) })));
}

async function bitmapHealth(disk: string): Promise<BitmapHealth> {
  const holder = await currentDiskJob(disk);
  if (holder) return { state: "busy", jobId: holder.id, jobKind: holder.kind };
  try {
    const p = await previewNextBackup(disk);
    return { state: "checked", kind: p.kind === "incremental" ? "incremental" : "full", reason: p.reason, detail: p.detail };
  } catch (err) {
    // A CanopyError says what is wrong with the disk (broken chain, unknown disk); anything else stays in the log.
    return { state: "failed", message: gateError(err, `previewing the next backup of ${disk}`).message };
  }
}
