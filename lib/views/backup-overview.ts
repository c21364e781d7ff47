import { scheduleOutlook, type NextRun } from "../backup/cron";
import { toLastBackup, type BackupFacts, type LastBackup } from "./last-backup";

export type { BackupFacts };

/**
 * The backups overview as plain functions of recorded facts (the Disk rows, the Backup mirror, the policies),
 * so the counting is tested without a database. Nothing here touches a disk, a manifest or a running QEMU:
 * an overview of every disk has to stay one cheap read.
 */

/** A disk of the storage root as the last scan recorded it. */
export interface DiskFacts {
  name: string;
  status: "running" | "stopped";
  /** Bytes its own layers take (templates are shared, so not counted). */
  usedBytes: number;
}

/** The part of a disk's effective policy the overview shows. */
export interface PolicyFacts {
  maxIncrementals: number;
  schedule: string | null;
  /** The schedule is the disk's own override, not the default's. */
  scheduleOverridden: boolean;
}

export interface OverviewRow {
  disk: string;
  /** "gone": the disk's folder is no longer under the storage root, but backups of it remain. */
  status: "running" | "stopped" | "gone";
  /** Null when the folder is gone. */
  usedBytes: number | null;
  backups: number;
  chains: number;
  storedBytes: number;
  /** Backups of this disk whose last verification failed (any chain, not only the newest backup). */
  failedVerifies: number;
  last: LastBackup | null;
  maxIncrementals: number;
  /** Null when the folder is gone: the schedule only queues backups of disks in the storage root. */
  next: NextRun | null;
}

export interface OverviewSummary {
  disks: number;
  /** Disks in the storage root without any backup. */
  withoutBackup: number;
  failedVerifies: number;
  disksWithFailedVerifies: number;
  storedBytes: number;
  usedBytes: number;
}

export function overviewRows(
  disks: readonly DiskFacts[],
  backups: readonly BackupFacts[],
  policyOf: (disk: string) => PolicyFacts,
  now: Date,
): OverviewRow[] {
  const byDisk = new Map<string, BackupFacts[]>();
  for (const b of backups) {
    const list = byDisk.get(b.disk);
    if (list) list.push(b);
    else byDisk.set(b.disk, [b]);
  }
  const known = new Map(disks.map((d) => [d.name, d]));
  const names = [...new Set([...known.keys(), ...byDisk.keys()])].sort(byName);
  return names.map((name) => {
    const disk = known.get(name);
    const own = byDisk.get(name) ?? [];
    const policy = policyOf(name);
    const newest = newestOf(own);
    return {
      disk: name,
      status: disk?.status ?? "gone",
      usedBytes: disk?.usedBytes ?? null,
      backups: own.length,
      chains: new Set(own.map((b) => b.chainId)).size,
      storedBytes: own.reduce((n, b) => n + b.fileSize, 0),
      failedVerifies: own.filter((b) => b.verifyStatus === "failed").length,
      last: newest ? toLastBackup(newest, own) : null,
      maxIncrementals: policy.maxIncrementals,
      // Worked out here, not in the browser: the schedule is in the server's local time, as the worker runs it.
      next: disk ? { ...scheduleOutlook(policy.schedule, now), fromOverride: policy.scheduleOverridden } : null,
    };
  });
}

export function summarizeOverview(rows: readonly OverviewRow[]): OverviewSummary {
  const present = rows.filter((r) => r.status !== "gone");
  return {
    disks: present.length,
    withoutBackup: present.filter((r) => r.backups === 0).length,
    failedVerifies: rows.reduce((n, r) => n + r.failedVerifies, 0),
    disksWithFailedVerifies: rows.filter((r) => r.failedVerifies > 0).length,
    storedBytes: rows.reduce((n, r) => n + r.storedBytes, 0),
    usedBytes: present.reduce((n, r) => n + (r.usedBytes ?? 0), 0),
  };
}

/** The newest backup: by point in time, then by sequence. */
function newestOf(backups: readonly BackupFacts[]): BackupFacts | null {
  return backups.reduce<BackupFacts | null>((a, b) => (a === null || newer(b, a) ? b : a), null);
}

function newer(a: BackupFacts, b: BackupFacts): boolean {
  const t = a.pointInTime.getTime() - b.pointInTime.getTime();
  return t !== 0 ? t > 0 : a.seq > b.seq;
}

const collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });
function byName(a: string, b: string): number {
  return collator.compare(a, b);
}
