import { rm } from "node:fs/promises";
import { assertRealFolderInside } from "../inventory/paths";
import { mkdirOwnerOnly } from "../owner-only";
import type { KindDecision } from "./decide-kind";
import { updateManifest, writeManifest } from "./manifest";
import { backupFileName, backupId, chainBitmapName, newChainId } from "./names";
import { chainFolder } from "./repository";
import type { BackupAttempt, BackupRecord, ChainManifest } from "./types";

/**
 * A backup from the moment it is decided until it is recorded, as the repository sees it. A full starts a new
 * chain folder (its manifest holding no backup yet); an incremental marks the chain it continues. Either way the
 * manifest's `attempt` says a backup is under way, so a process killed at any point leaves a trace the next
 * decision reads (previous-failed-or-unverified).
 */

export interface OpenAttempt {
  chainId: string;
  folder: string;
  seq: number;
  id: string;
  file: string;
  /** The backup this one is stacked on (incremental), or null (full). */
  parent: BackupRecord | null;
  /** The chain's bitmap: created by a full, used by an incremental. */
  bitmap: string;
  attempt: BackupAttempt;
  /**
   * Undoes the attempt as far as the disk's tracking allows, then rethrows. A full leaves no chain behind. An
   * incremental whose bitmap is known intact (QEMU reported the job's end, or it never started) clears the
   * attempt; otherwise the attempt stays "failed" and the next backup is full.
   */
  abandon(err: unknown, bitmapIntact: boolean): Promise<never>;
}

export async function openAttempt(
  repoRoot: string,
  disk: string,
  decision: KindDecision,
  previous: ChainManifest | null,
  now: Date,
): Promise<OpenAttempt> {
  const incremental = decision.kind === "incremental" ? decision : null;
  const chainId = incremental ? incremental.chainId : newChainId(now);
  const folder = chainFolder(repoRoot, disk, chainId);
  const seq = incremental ? (previous?.backups.length ?? 0) : 0;
  const id = backupId(chainId, seq);
  const bitmap = incremental ? incremental.bitmap : chainBitmapName(chainId);
  const attempt: BackupAttempt = {
    id,
    kind: decision.kind,
    startedAt: now.toISOString(),
    state: "running",
    endedAt: null,
    error: null,
  };

  if (!incremental) await mkdirOwnerOnly(folder);
  // The chain's files are written into this folder: it must really be where its name says (not a link out).
  await assertRealFolderInside(repoRoot, folder);
  if (incremental) {
    await updateManifest(folder, (m) => void (m.attempt = attempt));
  } else {
    await writeManifest(folder, {
      format: "canopy-backup-chain",
      version: 1,
      disk,
      chainId,
      bitmap,
      createdAt: now.toISOString(),
      backups: [],
      attempt,
    });
  }

  return {
    chainId,
    folder,
    seq,
    id,
    file: backupFileName(seq, decision.kind),
    parent: incremental?.parent ?? null,
    bitmap,
    attempt,
    abandon: async (err, bitmapIntact) => {
      if (!incremental) {
        // No backup in it: the chain never existed. Its new bitmap was removed, or is at worst an unused one.
        await rm(folder, { recursive: true, force: true });
      } else {
        const failed: BackupAttempt = { ...attempt, state: "failed", endedAt: new Date().toISOString(), error: (err as Error).message };
        await updateManifest(folder, (m) => void (m.attempt = bitmapIntact ? null : failed));
      }
      throw err;
    },
  };
}
