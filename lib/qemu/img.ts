import { ProcessError, run, type RunOptions } from "../proc/run";
import { parseProgress } from "./progress";

/**
 * Thin typed wrappers over qemu-img, and the only code that names its binary or runs it (a unit test holds
 * lib/, server/, scripts/ and bin/ to that). Each takes explicit paths and returns parsed output; none of them
 * decides anything. Timeouts are per call: metadata commands are quick, data-moving ones get a long default
 * that the caller can override.
 */

const QEMU_IMG = process.env.CANOPY_QEMU_IMG ?? "qemu-img";
const META_TIMEOUT_MS = 30_000;
const BITMAP_TIMEOUT_MS = 120_000;
const DATA_TIMEOUT_MS = 6 * 60 * 60 * 1000;

type Opts = Pick<RunOptions, "timeoutMs" | "signal" | "onStdout">;

export interface ImageInfo {
  filename: string;
  format: string;
  "virtual-size": number;
  "actual-size"?: number;
  "cluster-size"?: number;
  "backing-filename"?: string;
  "full-backing-filename"?: string;
  "backing-filename-format"?: string;
  "dirty-flag"?: boolean;
  "format-specific"?: {
    type: string;
    data: {
      compat?: string;
      corrupt?: boolean;
      bitmaps?: { name: string; flags: string[]; granularity: number }[];
    };
  };
}

export interface MapExtent {
  start: number;
  length: number;
  depth: number;
  present: boolean;
  zero: boolean;
  data: boolean;
  offset?: number;
}

/** `-U` lets metadata reads work while a QEMU process holds the image (they are then a snapshot in time). */
export async function info(path: string, opts: Opts & { shareLocks?: boolean } = {}): Promise<ImageInfo> {
  const args = ["info", "--output=json", ...(opts.shareLocks ? ["-U"] : []), path];
  const { stdout } = await run(QEMU_IMG, args, { timeoutMs: META_TIMEOUT_MS, ...opts });
  return JSON.parse(stdout) as ImageInfo;
}

export async function infoChain(path: string, opts: Opts & { shareLocks?: boolean } = {}): Promise<ImageInfo[]> {
  const args = ["info", "--backing-chain", "--output=json", ...(opts.shareLocks ? ["-U"] : []), path];
  const { stdout } = await run(QEMU_IMG, args, { timeoutMs: META_TIMEOUT_MS, ...opts });
  return JSON.parse(stdout) as ImageInfo[];
}

export interface CreateOptions extends Opts {
  size?: number;
  backing?: string;
  backingFormat?: string;
  /** -u: the backing name is written as given and not opened (a name valid only later, or a locked file); needs `size`. */
  backingUnopened?: boolean;
  clusterSize?: number;
  /** "0.10" makes a qcow2 v2 image, "1.1" a v3 one. */
  compat?: "0.10" | "1.1";
  /** What compressed clusters will use; zstd needs QEMU >= 5.1 to read the file. */
  compressionType?: "zlib" | "zstd";
}

export async function create(path: string, o: CreateOptions = {}): Promise<void> {
  const options: string[] = [];
  if (o.clusterSize) options.push(`cluster_size=${o.clusterSize}`);
  if (o.compat) options.push(`compat=${o.compat}`);
  if (o.compressionType) options.push(`compression_type=${o.compressionType}`);
  const args = ["create", "-q", "-f", "qcow2"];
  if (options.length) args.push("-o", options.join(","));
  if (o.backingUnopened) args.push("-u");
  if (o.backing !== undefined) args.push("-b", o.backing, "-F", o.backingFormat ?? "qcow2");
  args.push(path);
  if (o.size !== undefined) args.push(String(o.size));
  await run(QEMU_IMG, args, { timeoutMs: META_TIMEOUT_MS, ...o });
}

/**
 * The extents of an image. With `layerOnly`, only what this one layer holds (its backing is cut off), which
 * is how Canopy measures the data a snapshot itself carries.
 */
export async function map(path: string, opts: Opts & { layerOnly?: boolean; shareLocks?: boolean } = {}) {
  const target = opts.layerOnly
    ? `json:${JSON.stringify({ driver: "qcow2", file: { driver: "file", filename: path }, backing: null })}`
    : path;
  const args = ["map", "--output=json", ...(opts.shareLocks ? ["-U"] : []), target];
  const { stdout } = await run(QEMU_IMG, args, { timeoutMs: META_TIMEOUT_MS, ...opts });
  return JSON.parse(stdout) as MapExtent[];
}

/** Bytes of guest data a layer itself holds (allocated, not zero). */
export async function layerDataBytes(path: string, opts: Opts & { shareLocks?: boolean } = {}): Promise<number> {
  const extents = await map(path, { ...opts, layerOnly: true });
  return extents.filter((e) => e.data && e.depth === 0).reduce((sum, e) => sum + e.length, 0);
}

/**
 * Bytes of guest data an image reads from its backing chain: one `qemu-img map` of the whole chain, whose
 * extents name the depth they come from (0 is the image itself).
 */
export async function backingDataBytes(path: string, opts: Opts & { shareLocks?: boolean } = {}): Promise<number> {
  const extents = await map(path, opts);
  return extents.filter((e) => e.data && e.depth > 0).reduce((sum, e) => sum + e.length, 0);
}

/** True when the guest-visible contents are the same. qemu-img compare exits 1 for "differs". */
export async function compare(a: string, b: string, opts: Opts & { shareLocks?: boolean } = {}): Promise<boolean> {
  const args = ["compare", "-q", ...(opts.shareLocks ? ["-U"] : []), a, b];
  const res = await run(QEMU_IMG, args, { timeoutMs: DATA_TIMEOUT_MS, okExitCodes: [0, 1], ...opts });
  return res.exitCode === 0;
}

export interface CheckResult {
  clean: boolean;
  corruptions: number;
  /** Leaked clusters left (after a repair: those it could not free). */
  leaks: number;
  /** Leaked clusters freed by `repair: "leaks"`. */
  leaksFixed: number;
  raw: unknown;
}

/**
 * exit 0 clean, 2 corruptions, 3 leaks only (qemu-img's contract). `repair: "leaks"` frees clusters that are
 * allocated but referenced by nothing, which is all a killed writer leaves (qcow2 writes refcounts before the
 * tables that use them); it never touches a referenced cluster, so it cannot change what the guest reads.
 */
export async function check(path: string, opts: Opts & { repair?: "leaks" } = {}): Promise<CheckResult> {
  const args = ["check", "--output=json", ...(opts.repair ? ["-r", opts.repair] : []), path];
  const res = await run(QEMU_IMG, args, { timeoutMs: DATA_TIMEOUT_MS, okExitCodes: [0, 2, 3], ...opts });
  const raw = JSON.parse(res.stdout) as { corruptions?: number; leaks?: number; "leaks-fixed"?: number };
  return {
    clean: res.exitCode === 0,
    corruptions: raw.corruptions ?? 0,
    leaks: raw.leaks ?? 0,
    leaksFixed: raw["leaks-fixed"] ?? 0,
    raw,
  };
}

export interface DataOpts extends Opts {
  /** Fraction 0..1 of the copy done, from qemu-img's own -p output. */
  onProgress?: (fraction: number) => void;
}

/** A data-moving run: the caller's signal, its timeout or `defaultTimeoutMs`, and -p's output parsed into fractions. */
function dataRunOpts(o: DataOpts, defaultTimeoutMs: number): RunOptions {
  return {
    timeoutMs: o.timeoutMs || defaultTimeoutMs,
    signal: o.signal,
    ...(o.onProgress
      ? {
          onStdout: (chunk: string) => {
            const f = parseProgress(chunk);
            if (f !== null) o.onProgress!(f);
          },
        }
      : {}),
  };
}

/** Commits top's chain down to base (exclusive of base) into base. Top and the layers between keep their data (-d). */
export async function commit(top: string, base: string, o: DataOpts = {}): Promise<void> {
  await run(QEMU_IMG, ["commit", "-p", "-d", "-b", base, top], dataRunOpts(o, DATA_TIMEOUT_MS));
}

/** A standalone qcow2 copy of what `source` reads through its whole chain, into `target` (which may exist, empty). */
export async function convert(source: string, target: string, o: DataOpts = {}): Promise<void> {
  await run(QEMU_IMG, ["convert", "-p", "-f", "qcow2", "-O", "qcow2", source, target], dataRunOpts(o, DATA_TIMEOUT_MS));
}

/**
 * Points `image` at a new backing file. Safe mode (`pull: true`) first copies into the image every cluster that
 * reads differently through the new backing; unsafe mode only rewrites the header. `backing` null makes the
 * image standalone (a safe rebase then copies everything it read from its chain).
 *
 * A pull runs with cache mode writethrough. With the default (writeback) qemu-img keeps the copied clusters'
 * tables in memory and writes the new backing name into the header first: a kill between the two left the
 * image pointing at its new backing without the data it had pulled (seen 5 of 5 times on QEMU 7.2).
 * Writethrough puts every table on disk before the next write, so the header changes last. It costs about
 * 1.2-1.8x the time of a writeback pull here.
 */
export async function rebase(
  image: string,
  backing: string | null,
  o: DataOpts & { pull: boolean },
): Promise<void> {
  const args = ["rebase", ...(o.pull ? ["-p", "-t", "writethrough"] : ["-u"])];
  args.push(...(backing === null ? ["-b", ""] : ["-F", "qcow2", "-b", backing]), image);
  await run(QEMU_IMG, args, dataRunOpts(o, o.pull ? DATA_TIMEOUT_MS : META_TIMEOUT_MS));
}

export type BitmapChange =
  | { op: "add"; granularity?: number }
  | { op: "remove" }
  | { op: "enable" }
  | { op: "disable" }
  /** Sets in `bitmap` every bit set in `source` (a bitmap of `from`, or of the image itself). */
  | { op: "merge"; source: string; from?: string };

/**
 * `qemu-img bitmap` on an image nothing else holds open: the offline way to add, enable, disable, merge and
 * remove persistent dirty bitmaps (the snapshot and merge code call it through lib/backup).
 */
export async function changeBitmap(
  image: string,
  bitmap: string,
  change: BitmapChange,
  opts: Pick<RunOptions, "signal"> = {},
): Promise<void> {
  const args = ["bitmap", "-f", "qcow2"];
  switch (change.op) {
    case "add":
      args.push("--add", ...(change.granularity ? ["-g", String(change.granularity)] : []));
      break;
    case "merge":
      args.push("--merge", change.source, ...(change.from ? ["-b", change.from, "-F", "qcow2"] : []));
      break;
    default:
      args.push(`--${change.op}`);
  }
  args.push(image, bitmap);
  await run(QEMU_IMG, args, { timeoutMs: BITMAP_TIMEOUT_MS, ...opts });
}

/** True when qemu-img failed only because another process holds the image's lock (a running QEMU, or a qemu-img). */
export function isLockError(err: unknown): boolean {
  return err instanceof ProcessError && /Failed to get .*lock/.test(err.stderr);
}
