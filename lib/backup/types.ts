/**
 * The backup engine's shared shapes. They are plain data (no class instances) so the caller can store them,
 * send them to the dashboard and print them as JSON as they are.
 *
 * Words used throughout:
 * - a **chain** is one full backup and the incrementals stacked on it, in `<root>/<disk>/<chainId>/`, each
 *   incremental a qcow2 file backed (by a relative name) by the one before it;
 * - the **manifest** (`manifest.json` in the chain folder) is the repository's own record of the chain, the
 *   source of truth on disk: the repository can be re-imported from manifests alone;
 * - the chain's **bitmap** (`canopy-<chainId>`) is the persistent dirty bitmap that tracks what the disk's
 *   guest wrote since the chain's last backup.
 */

export type BackupKind = "full" | "incremental";

/** Why a backup is full or incremental. The first that applies wins, in this order (see decide-kind.ts). */
export type KindReason =
  | "first-backup"
  | "requested-full"
  | "disk-resized"
  | "disk-reverted"
  | "bitmap-missing"
  | "bitmap-inconsistent"
  | "previous-failed-or-unverified"
  | "policy"
  | "incremental";

export type BackupStage = "replication" | "transfer" | "storage";

export interface BackupPolicy {
  /** Incrementals allowed after a full before the next backup is full again. 63: the 64th after a full is full. */
  maxIncrementals: number;
}

export const DEFAULT_POLICY: BackupPolicy = { maxIncrementals: 63 };

export type VerifyStatus = "pending" | "ok" | "failed";

export interface VerifyResult {
  status: VerifyStatus;
  /** When the last check ran (ISO), null while pending. */
  at: string | null;
  /** What was wrong, in words, when it failed. */
  problems: string[];
}

export interface BackupRecord {
  /** `<chainId>-<seq>`, unique across the repository. */
  id: string;
  /** 0 for the full, 1.. for the incrementals, in order. */
  seq: number;
  kind: BackupKind;
  reason: KindReason;
  /** The reason in words, e.g. which layer lost its bitmap. */
  reasonDetail: string;
  /** The backup's point in time (ISO): the moment QEMU started the job; later guest writes are not in it. */
  pointInTime: string;
  /** When the file was complete in the repository (ISO). */
  completedAt: string;
  /** File name inside the chain folder. */
  file: string;
  /** The file this one is backed by (the previous backup), exactly as written in its header; null for the full. */
  backingFile: string | null;
  /** Id of the backup this one depends on; null for the full. */
  parentId: string | null;
  virtualSize: number;
  /** Bytes of the file (what sha256 covers). */
  fileSize: number;
  sha256: string;
  /**
   * Written with QEMU's compression (clusters that did not shrink are stored plain). Manifests written before
   * compression existed lack the field: read as false.
   */
  compressed: boolean;
  /** The dirty bitmap the backup used (full: created) on the disk. */
  bitmap: string;
  /** The disk's active layer at the point in time. */
  sourceLayer: string;
  /** Incrementals: every layer whose bitmap was merged, active first. Full: just the active layer. */
  sourceLayers: string[];
  verify: VerifyResult;
}

/** A backup being made, or one that failed: either way the next backup of this chain must not be incremental. */
export interface BackupAttempt {
  id: string;
  kind: BackupKind;
  startedAt: string;
  state: "running" | "failed";
  endedAt: string | null;
  error: string | null;
}

export interface ChainManifest {
  format: "canopy-backup-chain";
  version: 1;
  disk: string;
  chainId: string;
  bitmap: string;
  createdAt: string;
  backups: BackupRecord[];
  /** Set from before a backup starts until it is recorded; left "failed" if it did not finish. */
  attempt: BackupAttempt | null;
}

/** Just the facts the kind decision needs about a layer; the scan's LayerInfo has them all. */
export interface LayerState {
  name: string;
  parent: string | null;
  virtualSize: number;
  /**
   * For a stopped disk, from the qcow2 header: `inUse` left set means a crash, and the bitmap is unusable.
   * For a running disk, from QEMU (bitmapsFromQemu): `inUse` then means QEMU reports the bitmap inconsistent.
   */
  bitmaps: Array<{ name: string; inUse: boolean; auto: boolean }>;
}

/** A layer of the disk as runBackup needs it: where the file is and what it is backed by. */
export interface BackupLayer {
  name: string;
  /** Absolute path of the qcow2 file. */
  file: string;
  parent: string | null;
}
