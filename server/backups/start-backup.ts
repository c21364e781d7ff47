import "server-only";
import path from "node:path";
import { rm } from "node:fs/promises";
import { z } from "zod";
import { applyRetention, runBackup } from "@/lib/backup";
import { reasonWords } from "@/lib/backup/reason-words";
import { tightenToOwner } from "@/lib/owner-only";
import { assertName } from "@/lib/inventory/names";
import { scanDisk } from "@/lib/inventory/scan";
import { jobErrorMessage } from "../error-gate";
import { loadConfig } from "../config";
import { loadDiskState } from "../ops/disk-state";
import { connectLive } from "../ops/connect-live";
import { recordDisk } from "../sync-inventory";
import { engineInput, inspectInput } from "./engine-input";
import { repoRoot, syncDiskBackups, type BackupView } from "./mirror";
import { runTask, startStage, taskExecutor, type TaskResult } from "./run-task";

/** A backup of a disk as a Canopy job: the engine (lib/backup) copies, the mirror and retention follow. */

export interface BackupResult
  extends Pick<BackupView, "disk" | "chainId" | "seq" | "kind" | "reason" | "reasonDetail" | "pointInTime" | "fileSize" | "virtualSize" | "compressed"> {
  backupId: string;
  verifyStatus: string;
  warnings: string[];
  retention: { deleted: string[]; note: string | null } | null;
  /** The job list's line for it. */
  jobSummary: string;
}

export async function startBackup(
  disk: string,
  opts: { full?: boolean; requestedBy: string; background?: boolean },
): Promise<TaskResult<BackupResult>> {
  assertName("disk", disk);
  await loadDiskState(disk); // not-found early, and the record fresh
  const summary = `${opts.full ? "full " : ""}backup of ${disk}`;
  return runTask(backupExecutor, "backup", disk, { full: !!opts.full }, summary, opts);
}

/**
 * Bytes per second a backup job may copy (CANOPY_BACKUP_SPEED; unset: unlimited): on a running disk every byte
 * the job reads competes with the guest's own I/O, and copy-before-write makes guest writes wait on the job.
 */
const BACKUP_SPEED = Number(process.env.CANOPY_BACKUP_SPEED ?? 0) || undefined;

export const backupExecutor = taskExecutor(z.object({ full: z.boolean().default(false) }), async (disk, params, ctx) => {
  const input = await engineInput(disk);
  const { runRoot } = loadConfig();
  const runDir = path.join(runRoot, `backup-${ctx.jobId}`);
  await tightenToOwner(runRoot); // a run root made before run folders were owner-only
  const live = await connectLive(disk);
  let result: Awaited<ReturnType<typeof runBackup>>;
  try {
    result = await runBackup({
      ...inspectInput(disk, input, live?.qmp, params.full),
      compress: input.policy.compress,
      speed: BACKUP_SPEED,
      runDir,
      signal: ctx.signal,
      onStage: (stage) => startStage(ctx, stage),
      onProgress: (done, total) => ctx.onProgress(done, total),
    });
  } finally {
    live?.close();
    await rm(runDir, { recursive: true, force: true }).catch(() => undefined);
    // The bitmaps changed; the mirror shows whatever the manifests now hold, even after a failure.
    await recordDisk(await scanDisk(input.root, disk)).catch(() => undefined);
    await syncDiskBackups(disk).catch(() => undefined);
  }
  await syncDiskBackups(disk, { backupId: result.backup.id, jobId: ctx.jobId });
  let retention: BackupResult["retention"] = null;
  if (input.policy.keepChains) {
    try {
      const r = await applyRetention({ repoRoot: repoRoot(), disk, keepChains: input.policy.keepChains });
      retention = { deleted: r.delete, note: null };
      if (r.delete.length) await syncDiskBackups(disk);
    } catch (err) {
      retention = { deleted: [], note: `retention skipped: ${jobErrorMessage(err, "a backup task")}` };
    }
  }
  const b = result.backup;
  // The job list's line: an incremental's reason is only ever "incremental", so only a full says why.
  const why = result.kind === "full" ? ` (${reasonWords(result.reason)})` : "";
  const jobSummary = `${b.kind} backup of ${disk}${why}: ${b.id}`;
  const out: BackupResult = {
    backupId: b.id,
    disk,
    chainId: result.chain.chainId,
    seq: b.seq,
    kind: result.kind,
    reason: result.reason,
    reasonDetail: result.reasonDetail,
    pointInTime: b.pointInTime,
    fileSize: b.fileSize,
    virtualSize: b.virtualSize,
    verifyStatus: b.verify.status,
    compressed: b.compressed,
    warnings: result.warnings,
    retention,
    jobSummary,
  };
  return { outcome: "succeeded", result: out, summary: jobSummary };
});
