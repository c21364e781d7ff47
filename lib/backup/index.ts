/**
 * The backup engine (issue 6): backups of qcow2 disks through the QEMU block layer into a local repository of
 * qcow2 chains with their own manifests. Free of the database: history comes in as arguments, and the
 * repository's manifests are the truth on disk (importRepository rebuilds everything from them).
 * See README.md in this folder for the decisions behind it.
 */

export type {
  BackupAttempt,
  BackupKind,
  BackupLayer,
  BackupPolicy,
  BackupRecord,
  BackupStage,
  ChainManifest,
  KindReason,
  LayerState,
  VerifyResult,
  VerifyStatus,
} from "./types";
export { DEFAULT_POLICY } from "./types";

export { decideKind } from "./decide-kind";
export type { DecideKindInput, FullReason, KindDecision } from "./decide-kind";

export { runBackup } from "./run-backup";
export { ReplicationError } from "./replicate";
export type { RunBackupInput, RunBackupResult } from "./run-backup";
export { previewBackup } from "./preview-backup";
export type { BackupPreview, InspectInput } from "./preview-backup";

export { verifyChain, verifyBackupFile } from "./verify";
export type { ChainVerifyReport } from "./verify";

export { planRestore } from "./plan-restore";
export type { RestorePlan, RestoreTarget, ReplacedLayer } from "./plan-restore";
export { restore } from "./restore";
export type { RestoreOptions, RestoreResult } from "./restore";

export { planDeletion, planRetention, isUsableChain } from "./delete-rules";
export type { DeletePlan, DeleteRequest, DeletedBackup, Dependency, RetentionPreview } from "./delete-rules";
export { deleteBackups, applyRetention } from "./delete-backups";

export { importRepository, listChains, latestChain, findBackup, chainFolder, diskBackupFolder } from "./repository";
export type { DiskBackups, RepositoryImport, RepositoryProblem, RepositoryProblemCode } from "./repository";
export { parseManifest, readManifest, ManifestError } from "./manifest";

export { handOverBitmapsOffline } from "./hand-over-bitmaps";
export type { HandOverResult } from "./hand-over-bitmaps";
export { liveHandOverActions } from "./live-hand-over";
export { mergeBitmapsBeforeCommit, mergeBitmapsBeforePull } from "./merge-bitmaps";
export type { MergeBitmapsResult } from "./merge-bitmaps";
export { chainBitmapName, isCanopyBitmap, BITMAP_PREFIX } from "./names";
