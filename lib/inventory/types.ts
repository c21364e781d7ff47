/**
 * What a scan of the storage root finds. These shapes are shared by the CLI, the database sync and the
 * pages, so they hold plain data only (no class instances, no functions) and serialise to JSON as-is.
 */

/** One problem the scan found. `code` is stable for scripts; `message` is for people. */
export type ProblemCode =
  /** The database sync's, not the scan's: a disk it could not record (its last record is kept). */
  | "not-recorded"
  | "backing-loop"
  | "backing-missing"
  | "backing-outside-root"
  | "backing-format-missing"
  | "not-qcow2"
  | "truncated"
  | "corrupt"
  | "dirty"
  | "unreadable"
  /** A symbolic link in the root, a disk folder or templates/: never followed; its name stays taken. */
  | "symlink"
  /** A layer whose backing file is reached through a symbolic link, which Canopy does not follow. */
  | "backing-symlink";

export interface Problem {
  code: ProblemCode;
  /** The layer (file stem) the problem is about, when it is about one layer. */
  layer?: string;
  message: string;
}

export interface BitmapInfo {
  name: string;
  /** Set while a QEMU process has the bitmap open; left set after a crash, which makes the bitmap unusable. */
  inUse: boolean;
  /** Enabled bitmaps track writes; disabled ones are frozen. */
  auto: boolean;
  granularity: number;
}

/** What the qcow2 header says, plus what the file system says. */
export interface LayerInfo {
  /** Name within the disk: the file's stem, e.g. `1A` for `1A.qcow2`. Template layers keep their stem too. */
  name: string;
  /** Path relative to the storage root, with forward slashes, e.g. `vm-1/1A.qcow2`. */
  file: string;
  /** Name of the parent layer (its backing file), or null for a root layer. */
  parent: string | null;
  /** The backing file string exactly as stored in the header, or null. */
  backingFile: string | null;
  /** The backing file's format as the header records it (e.g. `qcow2`), or null when none is recorded. */
  backingFormat: string | null;
  /** True for a backing file that lives outside the disk's folder (a shared template): read-only base. */
  template: boolean;
  version: number;
  virtualSize: number;
  clusterSize: number;
  /** Bytes the file takes on disk (allocated blocks), from stat. */
  fileSize: number;
  dirty: boolean;
  corrupt: boolean;
  bitmaps: BitmapInfo[];
  /** File modification time, ISO string. */
  modifiedAt: string;
}

export interface DiskInventory {
  /** The folder's name under the storage root. */
  name: string;
  /** Folder path relative to the storage root. */
  folder: string;
  /** Every layer, templates included, parents before children. */
  layers: LayerInfo[];
  /** Names of the leaves (layers nothing in this disk is backed by). */
  leaves: string[];
  problems: Problem[];
}

export interface ScanResult {
  root: string;
  disks: DiskInventory[];
  /** Files under the root that belong to no disk folder (e.g. templates), by path relative to the root. */
  sharedFiles: string[];
  /** Problems outside any disk: symbolic links at the root or in templates/. */
  problems: Problem[];
  durationMs: number;
}
