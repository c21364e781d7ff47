/**
 * The part of QEMU's QMP schema (QAPI, checked against QEMU 7.2's query-qmp-schema) that Canopy uses. Member
 * names are QEMU's own, kebab-case and all, so an object here is exactly what goes on the wire; optional QAPI
 * members are optional properties. Replies are trusted, not validated: QEMU is the schema's author.
 *
 * Longer than 300 lines: the commands, replies and events Canopy uses, kept in one place as QEMU's schema lists them.
 */

// ---------------------------------------------------------------- jobs

export type JobType =
  | "commit"
  | "stream"
  | "mirror"
  | "backup"
  | "create"
  | "amend"
  | "snapshot-load"
  | "snapshot-save"
  | "snapshot-delete";

/** QEMU's job state machine. "null" is the state after job-dismiss: the job no longer exists. */
export type JobStatus =
  | "undefined"
  | "created"
  | "running"
  | "paused"
  | "ready"
  | "standby"
  | "waiting"
  | "pending"
  | "aborting"
  | "concluded"
  | "null";

export interface JobInfo {
  id: string;
  type: JobType;
  status: JobStatus;
  /** Bytes done and bytes to do; the total can grow while the job runs (the guest keeps writing). */
  "current-progress": number;
  "total-progress": number;
  /** Set once the job has concluded with an error; a cancelled job reads "Operation canceled". */
  error?: string;
}

export type BlockdevOnError = "report" | "ignore" | "enospc" | "stop" | "auto";

/** Members shared by every command that starts a block job. */
export interface BlockJobCommonArgs {
  /** Defaults to the device name in QEMU; Canopy always names its jobs. */
  "job-id"?: string;
  /** Bytes per second; 0 = unlimited. */
  speed?: number;
  "auto-finalize"?: boolean;
  "auto-dismiss"?: boolean;
  "filter-node-name"?: string;
}

export interface BlockCommitArgs extends BlockJobCommonArgs {
  /** The top (active) node of the chain; the job runs on it. */
  device: string;
  "base-node"?: string;
  base?: string;
  /** Omit for an active commit (the top itself is merged: the job becomes READY and needs job-complete). */
  "top-node"?: string;
  top?: string;
  /** Backing string to write into the layer above the merged range; keep it relative. */
  "backing-file"?: string;
  "on-error"?: BlockdevOnError;
}

export interface BlockStreamArgs extends BlockJobCommonArgs {
  device: string;
  base?: string;
  "base-node"?: string;
  "backing-file"?: string;
  bottom?: string;
  "on-error"?: BlockdevOnError;
}

export type MirrorSyncMode = "top" | "full" | "none" | "incremental" | "bitmap";
export type BitmapSyncMode = "on-success" | "never" | "always";

export interface BlockdevBackupArgs extends BlockJobCommonArgs {
  device: string;
  target: string;
  sync: MirrorSyncMode;
  bitmap?: string;
  "bitmap-mode"?: BitmapSyncMode;
  compress?: boolean;
  /** Unstable (x-) tuning of the copy; QEMU 6.2+. */
  "x-perf"?: { "use-copy-range"?: boolean; "max-workers"?: number; "max-chunk"?: number };
  "on-source-error"?: BlockdevOnError;
  "on-target-error"?: BlockdevOnError;
}

export interface JobIdArgs {
  id: string;
}

// ---------------------------------------------------------------- nodes

export type BlockdevRef = BlockdevOptions | string;

export interface BlockdevOptionsBase {
  "node-name"?: string;
  "read-only"?: boolean;
  "auto-read-only"?: boolean;
  "force-share"?: boolean;
  discard?: "ignore" | "unmap";
  cache?: { direct?: boolean; "no-flush"?: boolean };
  "detect-zeroes"?: "off" | "on" | "unmap";
}

export interface BlockdevOptionsFile extends BlockdevOptionsBase {
  driver: "file";
  filename: string;
  locking?: "auto" | "on" | "off";
  aio?: "threads" | "native" | "io_uring";
}

export interface BlockdevOptionsQcow2 extends BlockdevOptionsBase {
  driver: "qcow2";
  file: BlockdevRef;
  /** null opens the layer alone (needed for a live-snapshot overlay: its backing is attached by blockdev-snapshot). */
  backing?: BlockdevRef | null;
  "lazy-refcounts"?: boolean;
}

export interface BlockdevOptionsRaw extends BlockdevOptionsBase {
  driver: "raw";
  file: BlockdevRef;
  offset?: number;
  size?: number;
}

/** Fault injection, for tests of failing jobs. */
export interface BlockdevOptionsBlkdebug extends BlockdevOptionsBase {
  driver: "blkdebug";
  image: BlockdevRef;
  "inject-error"?: Array<{
    /** A BlkdebugEvent such as "pwritev", "preadv", "read_aio", "write_aio". */
    event: string;
    state?: number;
    iotype?: "read" | "write" | "write-zeroes" | "discard" | "flush" | "block-status";
    errno?: number;
    sector?: number;
    once?: boolean;
    immediately?: boolean;
  }>;
}

export interface BlockdevOptionsNullCo extends BlockdevOptionsBase {
  driver: "null-co";
  size?: number;
  "read-zeroes"?: boolean;
  "latency-ns"?: number;
}

export type BlockdevOptions =
  | BlockdevOptionsFile
  | BlockdevOptionsQcow2
  | BlockdevOptionsRaw
  | BlockdevOptionsBlkdebug
  | BlockdevOptionsNullCo;

export interface BlockdevSnapshotArgs {
  /** The current top; it becomes the overlay's backing. */
  node: string;
  /** An already added node with no backing (added with backing: null). */
  overlay: string;
}

export interface ImageInfo {
  filename: string;
  format: string;
  "dirty-flag"?: boolean;
  "actual-size"?: number;
  "virtual-size": number;
  "cluster-size"?: number;
  encrypted?: boolean;
  compressed?: boolean;
  "backing-filename"?: string;
  "full-backing-filename"?: string;
  "backing-filename-format"?: string;
  "backing-image"?: ImageInfo;
  "format-specific"?: { type: string; data: Record<string, unknown> };
}

export interface BlockDirtyInfo {
  name?: string;
  count: number;
  granularity: number;
  recording: boolean;
  busy: boolean;
  persistent: boolean;
  inconsistent?: boolean;
}

/** One node as query-named-block-nodes (and query-block's `inserted`) describe it. */
export interface BlockDeviceInfo {
  file: string;
  /** Absent for nodes QEMU named itself only in old versions; with 7.2 auto-named nodes read "#blockNNN". */
  "node-name"?: string;
  ro: boolean;
  drv: string;
  backing_file?: string;
  backing_file_depth: number;
  encrypted: boolean;
  detect_zeroes: "off" | "on" | "unmap";
  image: ImageInfo;
  cache: { writeback: boolean; direct: boolean; "no-flush": boolean };
  write_threshold: number;
  "dirty-bitmaps"?: BlockDirtyInfo[];
  bps: number;
  bps_rd: number;
  bps_wr: number;
  iops: number;
  iops_rd: number;
  iops_wr: number;
}

/** query-block: devices with a name (a VM's drives). qemu-storage-daemon has none and returns []. */
export interface BlockInfo {
  device: string;
  qdev?: string;
  type: string;
  removable: boolean;
  locked: boolean;
  inserted?: BlockDeviceInfo;
  tray_open?: boolean;
  "io-status"?: "ok" | "failed" | "nospace";
}

// ---------------------------------------------------------------- dirty bitmaps

export interface BlockDirtyBitmapArgs {
  node: string;
  name: string;
}

export interface BlockDirtyBitmapAddArgs extends BlockDirtyBitmapArgs {
  granularity?: number;
  persistent?: boolean;
  disabled?: boolean;
}

export interface BlockDirtyBitmapMergeArgs {
  node: string;
  /** Name of the bitmap on `node` that receives the union. */
  target: string;
  /** A bare name means a bitmap on `node`; the object form reaches bitmaps on other nodes. */
  bitmaps: Array<string | BlockDirtyBitmapArgs>;
}

// ---------------------------------------------------------------- transaction

export type TransactionAction =
  | { type: "block-dirty-bitmap-add"; data: BlockDirtyBitmapAddArgs }
  | { type: "block-dirty-bitmap-remove"; data: BlockDirtyBitmapArgs }
  | { type: "block-dirty-bitmap-clear"; data: BlockDirtyBitmapArgs }
  | { type: "block-dirty-bitmap-enable"; data: BlockDirtyBitmapArgs }
  | { type: "block-dirty-bitmap-disable"; data: BlockDirtyBitmapArgs }
  | { type: "block-dirty-bitmap-merge"; data: BlockDirtyBitmapMergeArgs }
  | { type: "blockdev-backup"; data: BlockdevBackupArgs }
  | { type: "blockdev-snapshot"; data: BlockdevSnapshotArgs };

export interface TransactionArgs {
  actions: TransactionAction[];
  /** "grouped": if one job of the transaction fails, all of them are cancelled. */
  properties?: { "completion-mode"?: "individual" | "grouped" };
}

// ---------------------------------------------------------------- exports

export type BlockExportType = "nbd" | "vhost-user-blk" | "fuse" | "vduse-blk";

export interface BlockExportInfo {
  id: string;
  type: BlockExportType;
  "node-name": string;
  "shutting-down": boolean;
}

export interface BlockExportNbdArgs {
  type: "nbd";
  id: string;
  "node-name": string;
  writable?: boolean;
  writethrough?: boolean;
  iothread?: string;
  "fixed-iothread"?: boolean;
  /** The NBD export name clients ask for; defaults to the node name. */
  name?: string;
  description?: string;
  /** Dirty bitmaps (on the exported node) to publish as qemu:dirty-bitmap:NAME metadata contexts. */
  bitmaps?: string[];
  "allocation-depth"?: boolean;
}

export interface BlockExportDelArgs {
  id: string;
  /** "hard" drops connected clients; "safe" (default) refuses while clients are connected. */
  mode?: "safe" | "hard";
}

/** nbd-server-start still takes the legacy address form, with its `data` wrapper. */
export type SocketAddressLegacy =
  | { type: "unix"; data: { path: string } }
  | { type: "inet"; data: { host: string; port: string; ipv4?: boolean; ipv6?: boolean } };

export interface NbdServerStartArgs {
  addr: SocketAddressLegacy;
  "tls-creds"?: string;
  "tls-authz"?: string;
  "max-connections"?: number;
}

// ---------------------------------------------------------------- misc

export interface VersionInfo {
  qemu: { major: number; minor: number; micro: number };
  package: string;
}

/** The first line QEMU sends on a new connection. */
export interface QmpGreeting {
  QMP: { version: VersionInfo; capabilities: string[] };
}

/** For commands that take no arguments. */
export type NoArgs = Record<string, never>;
/** For commands whose successful reply is `{}`. */
export type EmptyReturn = Record<string, never>;

// ---------------------------------------------------------------- command map

/** Command name -> arguments and reply. `execute` is typed from this map. */
export interface QmpCommands {
  qmp_capabilities: { args: { enable?: Array<"oob"> }; returns: EmptyReturn };
  "query-version": { args: NoArgs; returns: VersionInfo };
  "query-block": { args: NoArgs; returns: BlockInfo[] };
  /** Always pass flat: true; without it, each node also nests its whole backing chain. */
  "query-named-block-nodes": { args: { flat?: boolean }; returns: BlockDeviceInfo[] };
  "query-jobs": { args: NoArgs; returns: JobInfo[] };
  "blockdev-add": { args: BlockdevOptions; returns: EmptyReturn };
  "blockdev-del": { args: { "node-name": string }; returns: EmptyReturn };
  "blockdev-snapshot": { args: BlockdevSnapshotArgs; returns: EmptyReturn };
  "block-commit": { args: BlockCommitArgs; returns: EmptyReturn };
  "block-stream": { args: BlockStreamArgs; returns: EmptyReturn };
  "blockdev-backup": { args: BlockdevBackupArgs; returns: EmptyReturn };
  "job-complete": { args: JobIdArgs; returns: EmptyReturn };
  "job-cancel": { args: JobIdArgs; returns: EmptyReturn };
  "job-dismiss": { args: JobIdArgs; returns: EmptyReturn };
  "job-finalize": { args: JobIdArgs; returns: EmptyReturn };
  transaction: { args: TransactionArgs; returns: EmptyReturn };
  "block-dirty-bitmap-add": { args: BlockDirtyBitmapAddArgs; returns: EmptyReturn };
  "block-dirty-bitmap-remove": { args: BlockDirtyBitmapArgs; returns: EmptyReturn };
  "block-dirty-bitmap-merge": { args: BlockDirtyBitmapMergeArgs; returns: EmptyReturn };
  "block-dirty-bitmap-clear": { args: BlockDirtyBitmapArgs; returns: EmptyReturn };
  "block-dirty-bitmap-disable": { args: BlockDirtyBitmapArgs; returns: EmptyReturn };
  "block-dirty-bitmap-enable": { args: BlockDirtyBitmapArgs; returns: EmptyReturn };
  "query-block-exports": { args: NoArgs; returns: BlockExportInfo[] };
  "block-export-add": { args: BlockExportNbdArgs; returns: EmptyReturn };
  "block-export-del": { args: BlockExportDelArgs; returns: EmptyReturn };
  "nbd-server-start": { args: NbdServerStartArgs; returns: EmptyReturn };
  "nbd-server-stop": { args: NoArgs; returns: EmptyReturn };
  quit: { args: NoArgs; returns: EmptyReturn };
}

export type QmpCommandName = keyof QmpCommands;
export type QmpArgs<C extends QmpCommandName> = QmpCommands[C]["args"];
export type QmpReturn<C extends QmpCommandName> = QmpCommands[C]["returns"];

// ---------------------------------------------------------------- events

/** Fields of the BLOCK_JOB_* events. Note: `device` carries the job id (QEMU 7.2), not the node name. */
export interface BlockJobEventInfo {
  type: JobType;
  device: string;
  len: number;
  offset: number;
  speed: number;
}

/** Event name -> its `data`. */
export interface QmpEvents {
  JOB_STATUS_CHANGE: { id: string; status: JobStatus };
  BLOCK_JOB_READY: BlockJobEventInfo;
  /** Also sent for a failed job, with `error` set. */
  BLOCK_JOB_COMPLETED: BlockJobEventInfo & { error?: string };
  BLOCK_JOB_CANCELLED: BlockJobEventInfo;
  /** An I/O error inside a job; `action` is what the job's on-error policy did about it. */
  BLOCK_JOB_ERROR: { device: string; operation: "read" | "write"; action: "ignore" | "report" | "stop" };
  BLOCK_JOB_PENDING: { type: JobType; id: string };
  BLOCK_IMAGE_CORRUPTED: {
    device: string;
    "node-name"?: string;
    msg: string;
    offset?: number;
    size?: number;
    fatal: boolean;
  };
  BLOCK_IO_ERROR: {
    device: string;
    "node-name"?: string;
    operation: "read" | "write";
    action: "ignore" | "report" | "stop";
    nospace?: boolean;
    reason: string;
  };
  BLOCK_EXPORT_DELETED: { id: string };
  BLOCK_WRITE_THRESHOLD: { "node-name": string; "amount-exceeded": number; "write-threshold": number };
  /** A QEMU VM only: qemu-storage-daemon 7.2 has no SHUTDOWN event (its socket just closes on quit). */
  SHUTDOWN: { guest: boolean; reason: string };
}

export type QmpEventName = keyof QmpEvents;

export interface QmpTimestamp {
  seconds: number;
  microseconds: number;
}

/** A known event as a discriminated union on `event`: narrowing on the name types `data`. */
export type QmpEvent<E extends QmpEventName = QmpEventName> = {
  [K in E]: { event: K; data: QmpEvents[K]; timestamp: QmpTimestamp };
}[E];

/** Any event as received, including ones this file does not know. */
export interface RawQmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp: QmpTimestamp;
}

// A Record over QmpEventName so that adding an event to QmpEvents without listing it here fails to compile.
const KNOWN_EVENTS: Record<QmpEventName, true> = {
  JOB_STATUS_CHANGE: true,
  BLOCK_JOB_READY: true,
  BLOCK_JOB_COMPLETED: true,
  BLOCK_JOB_CANCELLED: true,
  BLOCK_JOB_ERROR: true,
  BLOCK_JOB_PENDING: true,
  BLOCK_IMAGE_CORRUPTED: true,
  BLOCK_IO_ERROR: true,
  BLOCK_EXPORT_DELETED: true,
  BLOCK_WRITE_THRESHOLD: true,
  SHUTDOWN: true,
};

/** Runtime list of the names in QmpEvents, to tell known events from others. */
export const QMP_EVENT_NAMES: ReadonlySet<string> = new Set(Object.keys(KNOWN_EVENTS));

export function isKnownEvent(event: RawQmpEvent): event is RawQmpEvent & QmpEvent {
  return QMP_EVENT_NAMES.has(event.event);
}
