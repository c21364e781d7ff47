import "server-only";
import { readdir } from "node:fs/promises";
import { isCanopyError } from "@/lib/errors";
import { getDb } from "../db";
import { repoRoot, syncDiskBackups } from "./mirror";
import { overviewRows, summarizeOverview, type OverviewRow, type OverviewSummary, type PolicyFacts } from "@/lib/views/backup-overview";
import { listPolicies } from "./policy";

/**
 * Every disk's backups in one look, for /backups: read from what is recorded (the Disk rows of the last scan,
 * the Backup mirror that every backup, verify and delete refreshes, the policies). Unlike the disk page's
 * panel it asks no QEMU and runs no preview: that costs a process or a QMP round trip per disk.
 */

export interface BackupsOverview {
  rows: OverviewRow[];
  summary: OverviewSummary;
  checkedAt: string;
}

export async function loadBackupsOverview(now = new Date()): Promise<BackupsOverview> {
  await mirrorUnknownDisks();
  const db = getDb();
  const [disks, backups, policies] = await Promise.all([
    db.disk.findMany({ select: { name: true, status: true, layers: { select: { template: true, fileSize: true } } } }),
    db.backup.findMany({
      select: {
        id: true,
        disk: true,
        chainId: true,
        seq: true,
        kind: true,
        reason: true,
        reasonDetail: true,
        pointInTime: true,
        completedAt: true,
        fileSize: true,
        verifyStatus: true,
        verifyProblems: true,
        verifiedAt: true,
      },
    }),
    listPolicies(),
  ]);
  const overrides = new Map(policies.disks.map((d) => [d.disk, d.effective]));
  const policyOf = (disk: string): PolicyFacts => {
    const p = overrides.get(disk) ?? policies.global;
    return { maxIncrementals: p.maxIncrementals, schedule: p.schedule, scheduleOverridden: p.overrides.includes("schedule") };
  };
  const rows = overviewRows(
    disks.map((d) => ({
      name: d.name,
      status: d.status === "running" ? "running" : "stopped",
      usedBytes: d.layers.filter((l) => !l.template).reduce((n, l) => n + Number(l.fileSize), 0),
    })),
    backups.map((b) => ({ ...b, fileSize: Number(b.fileSize) })),
    policyOf,
    now,
  );
  return { rows, summary: summarizeOverview(rows), checkedAt: now.toISOString() };
}

/**
 * A database newer than the repository (a fresh install over old backups) mirrors nothing yet: read the
 * manifests of any disk folder in the repository that has no Backup row. One readdir when all are known.
 */
async function mirrorUnknownDisks(): Promise<void> {
  const entries = await readdir(repoRoot(), { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return [];
    throw err;
  });
  const folders = entries.filter((e) => e.isDirectory() && !e.name.startsWith(".")).map((e) => e.name);
  if (folders.length === 0) return;
  const mirrored = await getDb().backup.findMany({ where: { disk: { in: folders } }, distinct: ["disk"], select: { disk: true } });
  const known = new Set(mirrored.map((m) => m.disk));
  for (const disk of folders.filter((f) => !known.has(f))) {
    try {
      await syncDiskBackups(disk);
    } catch (err) {
      // A folder whose name is no disk name Canopy could have written is not part of the repository.
      if (!isCanopyError(err)) throw err;
    }
  }
}
