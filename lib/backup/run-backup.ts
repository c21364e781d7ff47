import { readdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { CanopyError } from "../errors";
import { assertName } from "../inventory/names";
import { assertRealFolderInside } from "../inventory/paths";
import { mkdirOwnerOnly } from "../owner-only";
import { withDiskLock } from "./disk-lock";
import type { KindDecision } from "./decide-kind";
import { openAttempt } from "./attempt";
import { updateManifest } from "./manifest";
import { qemuId } from "./names";
import { inspectDisk, type InspectInput } from "./preview-backup";
import { activeChain, attachToRunningQemu, startJobDaemon, type QemuSession } from "./qemu-session";
import { createStagingFile, replicate, ReplicationError } from "./replicate";
import { diskBackupFolder, listChains } from "./repository";
import { transferToRepository } from "./transfer";
import type { BackupKind, BackupRecord, BackupStage, ChainManifest, KindReason } from "./types";
import { verifyBackupFile } from "./verify";

/**
 * One backup of one disk, in three stages:
 * 1. replication: QEMU's backup job copies the disk at one instant into a staging file in runDir (the disk's
 *    own QEMU when it runs, a qemu-storage-daemon started for the job when it is stopped);
 * 2. transfer: the staged file becomes a file of the repository (partial file, sha256, fsync, rename);
 * 3. storage: the backup is recorded in the chain's manifest, then verified (checksum re-read, qemu-img check)
 *    and the result recorded too.
 *
 * Before the job starts the chain's manifest gets an "attempt" entry; it is cleared when the backup is
 * recorded. If anything fails after QEMU may have cleared the bitmap, the entry stays "failed" and the next
 * backup is full: an incremental would miss what the lost backup had taken off the bitmap.
 */

export interface RunBackupInput extends InspectInput {
  /** Folder for the staging file and, for a stopped disk, the job daemon's QMP socket. */
  runDir: string;
  /** Bytes per second the job may read; limits what the backup takes from a running guest. */
  speed?: number;
  /**
   * Compress the backup file (the policy's `compress`): QEMU compresses cluster by cluster as it writes. Costs
   * CPU in the process running the job (the disk's own QEMU when it runs), saves space on compressible data.
   */
  compress?: boolean;
  signal?: AbortSignal;
  onDecision?: (decision: KindDecision) => void;
  onStage?: (stage: BackupStage) => void;
  /** Bytes done and to do within the current stage. */
  onProgress?: (done: number, total: number) => void;
  /** The instant the backup's content is fixed (QEMU started the job): later guest writes are not in it. */
  onPointInTime?: (at: Date) => void;
}

export interface RunBackupResult {
  backup: BackupRecord;
  chain: ChainManifest;
  kind: BackupKind;
  reason: KindReason;
  reasonDetail: string;
  /** Things that went wrong without failing the backup (e.g. the job daemon did not quit cleanly). */
  warnings: string[];
  timings: Record<BackupStage, number>;
}

export async function runBackup(input: RunBackupInput): Promise<RunBackupResult> {
  assertName("disk", input.diskName);
  return withDiskLock(input.repoRoot, input.diskName, "backup", () => backupLocked(input));
}

async function backupLocked(input: RunBackupInput): Promise<RunBackupResult> {
  const { repoRoot, diskName: disk } = input;
  const chainLayers = activeChain(input.layers, input.active);
  await discardUnfinished(repoRoot, disk);
  await mkdirOwnerOnly(input.runDir);
  // The staging file and the job daemon's sockets go here: the folder itself must not be a link elsewhere.
  await assertRealFolderInside(path.dirname(input.runDir), input.runDir);

  let session: QemuSession | undefined = input.qmp
    ? await attachToRunningQemu(input.qmp, chainLayers, input.nodeNames)
    : undefined;
  const { decision, chain: previous, virtualSize } = await inspectDisk(input, session);
  input.onDecision?.(decision);

  const a = await openAttempt(repoRoot, disk, decision, previous, new Date());
  const { folder, id, file, parent, bitmap } = a;

  const timings: Record<BackupStage, number> = { replication: 0, transfer: 0, storage: 0 };
  const warnings: string[] = [];
  const staging = path.join(input.runDir, `${id}.qcow2`);
  let t = performance.now();
  let replicatedOk = false;
  input.onStage?.("replication");
  try {
    // The daemon's start-up and the staging file's creation are independent: overlap them.
    const [opened, staged] = await Promise.allSettled([
      session ?? startJobDaemon(chainLayers, input.runDir, qemuId("backup")),
      createStagingFile(staging, virtualSize, parent?.file ?? null, { compress: input.compress }),
    ]);
    if (opened.status === "rejected") throw opened.reason;
    session = opened.value;
    if (staged.status === "rejected") {
      await session.close();
      throw staged.reason;
    }
    try {
      const replicated = await replicate({
        session,
        decision,
        newBitmap: bitmap,
        activeLayer: input.active,
        stagingFile: staging,
        speed: input.speed,
        compress: input.compress,
        signal: input.signal,
        onProgress: input.onProgress,
        onPointInTime: (at) => {
          a.attempt.startedAt = at.toISOString();
          input.onPointInTime?.(at);
        },
      });
      warnings.push(...replicated.warnings);
      replicatedOk = true;
    } finally {
      const trouble = await session.close();
      if (trouble) warnings.push(trouble);
    }
  } catch (err) {
    await rm(staging, { force: true });
    // Before the job started nothing touched the bitmap; after it completed, QEMU cleared the copied marks.
    return a.abandon(err, replicatedOk ? false : err instanceof ReplicationError ? err.bitmapIntact : true);
  }
  timings.replication = performance.now() - t;

  t = performance.now();
  input.onStage?.("transfer");
  let transferred: Awaited<ReturnType<typeof transferToRepository>>;
  try {
    transferred = await transferToRepository(staging, path.join(folder, file), {
      signal: input.signal,
      onProgress: input.onProgress,
    });
  } catch (err) {
    await rm(staging, { force: true });
    return a.abandon(err, false);
  }
  timings.transfer = performance.now() - t;

  t = performance.now();
  input.onStage?.("storage");
  const record: BackupRecord = {
    id,
    seq: a.seq,
    kind: decision.kind,
    reason: decision.reason,
    reasonDetail: decision.detail,
    pointInTime: a.attempt.startedAt,
    completedAt: new Date().toISOString(),
    file,
    backingFile: parent?.file ?? null,
    parentId: parent?.id ?? null,
    virtualSize,
    fileSize: transferred.fileSize,
    sha256: transferred.sha256,
    compressed: input.compress === true,
    bitmap,
    sourceLayer: input.active,
    sourceLayers: decision.kind === "incremental" ? decision.bitmapLayers : [input.active],
    verify: { status: "pending", at: null, problems: [] },
  };
  const recording = updateManifest(folder, (m) => {
    m.backups.push({ ...record });
    m.attempt = null;
  }).then(
    () => null,
    (err: unknown) => err,
  );
  // The file is final since its rename, so its check runs while the record is written; the result is stored
  // after the record. The transfer hashed this very file a moment ago: here size, header and qemu-img check.
  // A verify that cannot even run leaves the record "pending": the next backup is full, which is right.
  const verifying = verifyBackupFile(folder, record, { signal: input.signal, onProgress: input.onProgress, rehash: false });
  // Handled here at once: a rejection (a cancel) while the record is still being written must not go unhandled.
  verifying.catch(() => undefined);
  const notRecorded = await recording;
  if (notRecorded) return a.abandon(notRecorded, false);
  record.verify = await verifying;
  const chain = await updateManifest(folder, (m) => {
    const stored = m.backups.find((b) => b.id === id);
    if (stored) stored.verify = record.verify;
  });
  timings.storage = performance.now() - t;
  if (record.verify.status !== "ok") {
    throw new CanopyError("failed", `backup ${id} was written but failed verification: ${record.verify.problems.join("; ")}`, {
      backupId: id,
    });
  }
  return { backup: record, chain, kind: decision.kind, reason: decision.reason, reasonDetail: decision.detail, warnings, timings };
}

/**
 * Leftovers of backups that never finished (the process was killed): chains holding no backup (a full that
 * did not complete) and partial files. Only under the disk's lock, so nothing is still writing them.
 */
async function discardUnfinished(repoRoot: string, disk: string): Promise<void> {
  const { chains } = await listChains(repoRoot, disk);
  const diskFolder = diskBackupFolder(repoRoot, disk);
  for (const chain of chains) {
    const folder = path.join(diskFolder, chain.chainId);
    if (chain.backups.length === 0) {
      const doomed = path.join(diskFolder, `.deleting-${chain.chainId}`);
      await rename(folder, doomed);
      await rm(doomed, { recursive: true, force: true });
      continue;
    }
    for (const name of await readdir(folder)) {
      if (name.endsWith(".partial")) await rm(path.join(folder, name), { force: true });
    }
  }
}
