import "server-only";
import { CanopyError } from "@/lib/errors";
import { importRepository, listChains, type BackupRecord, type ChainManifest } from "@/lib/backup";
import { getDb } from "../db";
import { loadConfig } from "../config";

/**
 * The Backup table mirrors the repository's manifests (the truth on disk) for the dashboard. Refreshed after
 * every backup, verify and delete, and whenever a listing is asked for; rows of backups gone from the
 * manifests are dropped. `jobId` is the one thing only the database knows, and survives a refresh.
 */

export interface BackupView {
  id: string;
  disk: string;
  chainId: string;
  seq: number;
  kind: "full" | "incremental";
  reason: string;
  reasonDetail: string;
  pointInTime: string;
  completedAt: string;
  fileSize: number;
  virtualSize: number;
  sha256: string;
  /** From the manifest only: the Backup table has no column for it (the manifest is the truth). */
  compressed: boolean;
  sourceLayer: string;
  parentId: string | null;
  verifyStatus: "pending" | "ok" | "failed";
  verifyProblems: string[];
  verifiedAt: string | null;
  jobId: string | null;
}

export interface ChainView {
  chainId: string;
  createdAt: string;
  /** Incrementals stacked on the full so far. */
  incrementals: number;
  attempt: ChainManifest["attempt"];
  backups: BackupView[];
}

export function repoRoot(): string {
  return loadConfig().backupRoot;
}

function view(disk: string, b: BackupRecord, jobId: string | null): BackupView {
  return {
    id: b.id,
    disk,
    chainId: b.id.slice(0, b.id.lastIndexOf("-")),
    seq: b.seq,
    kind: b.kind,
    reason: b.reason,
    reasonDetail: b.reasonDetail,
    pointInTime: b.pointInTime,
    completedAt: b.completedAt,
    fileSize: b.fileSize,
    virtualSize: b.virtualSize,
    sha256: b.sha256,
    compressed: b.compressed,
    sourceLayer: b.sourceLayer,
    parentId: b.parentId,
    verifyStatus: b.verify.status,
    verifyProblems: b.verify.problems,
    verifiedAt: b.verify.at,
    jobId,
  };
}

/** Reads a disk's manifests, brings its Backup rows in line, and returns its chains oldest first. */
export async function syncDiskBackups(disk: string, made?: { backupId: string; jobId: string }): Promise<ChainView[]> {
  const { chains } = await listChains(repoRoot(), disk);
  const db = getDb();
  const existing = new Map((await db.backup.findMany({ where: { disk } })).map((r) => [r.id, r]));
  const now = new Date();
  const out: ChainView[] = [];
  const ids: string[] = [];
  for (const chain of chains) {
    const backups: BackupView[] = [];
    for (const b of chain.backups) {
      ids.push(b.id);
      const jobId = made?.backupId === b.id ? made.jobId : (existing.get(b.id)?.jobId ?? null);
      const v = view(disk, b, jobId);
      v.chainId = chain.chainId;
      backups.push(v);
      const data = {
        disk,
        chainId: chain.chainId,
        seq: b.seq,
        kind: b.kind,
        reason: b.reason,
        reasonDetail: b.reasonDetail,
        pointInTime: new Date(b.pointInTime),
        completedAt: new Date(b.completedAt),
        fileSize: BigInt(b.fileSize),
        virtualSize: BigInt(b.virtualSize),
        sha256: b.sha256,
        sourceLayer: b.sourceLayer,
        verifyStatus: b.verify.status,
        verifyProblems: JSON.stringify(b.verify.problems),
        verifiedAt: b.verify.at ? new Date(b.verify.at) : null,
        jobId,
        seenAt: now,
      };
      await db.backup.upsert({ where: { id: b.id }, create: { id: b.id, ...data }, update: data });
    }
    out.push({
      chainId: chain.chainId,
      createdAt: chain.createdAt,
      incrementals: Math.max(0, chain.backups.length - 1),
      attempt: chain.attempt,
      backups,
    });
  }
  await db.backup.deleteMany({ where: { disk, id: { notIn: ids } } });
  return out;
}

/** Which disk a backup id belongs to: the mirror first, then the manifests (the mirror may be stale). */
export async function diskOfBackup(backupId: string): Promise<string> {
  const row = await getDb().backup.findUnique({ where: { id: backupId } });
  if (row) return row.disk;
  const repo = await importRepository(repoRoot());
  for (const d of repo.disks) {
    if (d.chains.some((c) => c.backups.some((b) => b.id === backupId))) {
      await syncDiskBackups(d.disk);
      return d.disk;
    }
  }
  throw new CanopyError("not-found", `there is no backup ${backupId}`);
}
