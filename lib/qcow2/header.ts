import { closeSync, fstatSync, openSync, readSync, type Stats } from "node:fs";
import { open } from "node:fs/promises";

/**
 * A small reader for the qcow2 header (QEMU's docs/interop/qcow2.txt). It reads a few kilobytes per file
 * instead of starting a process, which is what makes scanning a large storage root cheap. It never writes.
 *
 * Longer than 300 lines: the header, its extensions, the bitmap directory and the table checks are one format's
 * parse, and the synchronous and asynchronous readers share that one parser.
 */

export interface Qcow2Bitmap {
  name: string;
  inUse: boolean;
  auto: boolean;
  granularity: number;
}

export interface Qcow2Header {
  version: 2 | 3;
  virtualSize: number;
  clusterSize: number;
  backingFile: string | null;
  backingFormat: string | null;
  /** Incompatible feature bit 0: the image was not closed cleanly and refcounts may be stale. */
  dirty: boolean;
  /** Incompatible feature bit 1: QEMU found corruption and will only open it read-only. */
  corrupt: boolean;
  /** An external data file holds the guest data (incompatible bit 2); Canopy does not manage those. */
  externalDataFile: boolean;
  encrypted: boolean;
  internalSnapshots: number;
  bitmaps: Qcow2Bitmap[];
  /** The largest offset the header's own tables point at: a file shorter than this is truncated. */
  tablesEnd: number;
  l1: { offset: number; entries: number };
  refcountTable: { offset: number; bytes: number };
}

export class Qcow2FormatError extends Error {
  constructor(
    readonly kind: "not-qcow2" | "truncated" | "unsupported",
    message: string,
  ) {
    super(message);
    this.name = "Qcow2FormatError";
  }
}

const MAGIC = 0x514649fb; // "QFI\xfb"
const EXT_END = 0x00000000;
const EXT_BACKING_FORMAT = 0xe2792aca;
const EXT_BITMAPS = 0x23852875;
const AUTOCLEAR_BITMAPS = 1n;
const BITMAP_IN_USE = 1;
const BITMAP_AUTO = 2;
/** Enough for the header, its extensions and the backing name in images qemu-img makes; more is read on demand. */
const FIRST_READ = 4096;
const MAX_BACKING_NAME = 1023;

/**
 * Bytes the parser needs from the file. The parser is a generator that yields these and is handed the bytes
 * back, so one parser serves the synchronous reader the scan uses and the asynchronous one everything else
 * uses. `keep`: the bytes stay in use after the next read (the header's first cluster); any other answer is
 * used up before the parser asks again, which lets the synchronous reader answer into one reused buffer.
 */
interface ByteRange {
  offset: number;
  length: number;
  keep?: boolean;
}
type Steps<T> = Generator<ByteRange, T, Buffer>;

export async function readQcow2Header(path: string): Promise<Qcow2Header> {
  const file = await open(path, "r");
  try {
    const { size } = await file.stat();
    return await runAsync(fileSteps(size), async ({ offset, length }) => {
      const buf = Buffer.allocUnsafe(length);
      const { bytesRead } = await file.read(buf, 0, length, offset);
      return checkedRead(buf, bytesRead, offset, length, size);
    });
  } finally {
    await file.close();
  }
}

/** Buffers the synchronous reader answers into, reused from file to file (it never yields in between). */
const scratch = { first: Buffer.allocUnsafe(FIRST_READ), rest: Buffer.allocUnsafe(64 * 1024) };
/** The largest buffer kept for reuse; a larger read (a big table) gets its own. */
const MAX_SCRATCH = 4 * 1024 * 1024;

function scratchFor(range: ByteRange): Buffer {
  const which = range.keep ? "first" : "rest";
  if (scratch[which].length >= range.length) return scratch[which];
  const grown = Buffer.allocUnsafe(range.length);
  if (range.length <= MAX_SCRATCH) scratch[which] = grown;
  return grown;
}

/**
 * The header and the file's stat, read synchronously: open, fstat, a read of the first 4 KiB and one read per
 * table, close. The scan reads thousands of files from the page cache, where each read takes microseconds and
 * a round trip through libuv's thread pool costs more than the read itself.
 */
export function readQcow2FileSync(path: string): { header: Qcow2Header; stat: Stats } {
  const fd = openSync(path, "r");
  try {
    const stat = fstatSync(fd);
    const header = runSync(fileSteps(stat.size), (range) => {
      const buf = scratchFor(range);
      const bytesRead = readSync(fd, buf, 0, range.length, range.offset);
      return checkedRead(buf, bytesRead, range.offset, range.length, stat.size);
    });
    return { header, stat };
  } finally {
    closeSync(fd);
  }
}

/** The bytes read; a read past the end of the file means the header points past it. */
function checkedRead(buf: Buffer, bytesRead: number, offset: number, length: number, fileSize: number): Buffer {
  if (offset + length > fileSize || (offset > 0 && bytesRead < length)) {
    throw new Qcow2FormatError("truncated", `the header points past the end of the file (${fileSize} bytes)`);
  }
  return buf.subarray(0, bytesRead);
}

function runSync<T>(steps: Steps<T>, read: (range: ByteRange) => Buffer): T {
  let step = steps.next();
  while (!step.done) {
    let bytes: Buffer;
    try {
      bytes = read(step.value);
    } catch (err) {
      step = steps.throw(err);
      continue;
    }
    step = steps.next(bytes);
  }
  return step.value;
}

async function runAsync<T>(steps: Steps<T>, read: (range: ByteRange) => Promise<Buffer>): Promise<T> {
  let step = steps.next();
  while (!step.done) {
    let bytes: Buffer;
    try {
      bytes = await read(step.value);
    } catch (err) {
      step = steps.throw(err);
      continue;
    }
    step = steps.next(bytes);
  }
  return step.value;
}

/** Reading one image: the header, then the checks that its tables and what they point at lie inside the file. */
function* fileSteps(fileSize: number): Steps<Qcow2Header> {
  const head = yield { offset: 0, length: Math.min(FIRST_READ, fileSize), keep: true };
  const header = yield* headerSteps(head);
  if (header.tablesEnd > fileSize) {
    throw new Qcow2FormatError("truncated", `the file is ${fileSize} bytes but its tables reach ${header.tablesEnd} bytes`);
  }
  const metadataEnd = yield* referencedMetadataEnd(header, head);
  if (metadataEnd > fileSize) {
    throw new Qcow2FormatError("truncated", `the file is ${fileSize} bytes but its metadata clusters reach ${metadataEnd} bytes`);
  }
  return header;
}

/** Bytes at `offset`: from the first read when it holds them, else asked for. */
function* bytesAt(head: Buffer, offset: number, length: number): Steps<Buffer> {
  if (offset + length <= head.length) return head.subarray(offset, offset + length);
  return yield { offset, length };
}

/**
 * Parses a header from its first bytes. `readAt` fetches anything outside them (a far backing name or the
 * bitmap directory); tests can pass a buffer-backed one.
 */
export function parseQcow2Header(
  head: Buffer,
  readAt: (offset: number, length: number) => Promise<Buffer>,
): Promise<Qcow2Header> {
  return runAsync(headerSteps(head), ({ offset, length }) => readAt(offset, length));
}

function* headerSteps(head: Buffer): Steps<Qcow2Header> {
  if (head.length < 4 || head.readUInt32BE(0) !== MAGIC) {
    throw new Qcow2FormatError("not-qcow2", "not a qcow2 image (no qcow2 magic)");
  }
  if (head.length < 72) throw new Qcow2FormatError("truncated", "the qcow2 header is cut short");
  const version = head.readUInt32BE(4);
  if (version !== 2 && version !== 3) {
    throw new Qcow2FormatError("unsupported", `unsupported qcow2 version ${version}`);
  }
  const backingOffset = Number(head.readBigUInt64BE(8));
  const backingSize = head.readUInt32BE(16);
  const clusterBits = head.readUInt32BE(20);
  if (clusterBits < 9 || clusterBits > 21) {
    throw new Qcow2FormatError("not-qcow2", `invalid cluster size 2^${clusterBits}`);
  }
  const clusterSize = 2 ** clusterBits;
  const virtualSize = Number(head.readBigUInt64BE(24));
  const cryptMethod = head.readUInt32BE(32);
  const l1Size = head.readUInt32BE(36);
  const l1Offset = Number(head.readBigUInt64BE(40));
  const refcountTableOffset = Number(head.readBigUInt64BE(48));
  const refcountTableClusters = head.readUInt32BE(56);
  const internalSnapshots = head.readUInt32BE(60);

  let incompatible = 0n;
  let autoclear = 0n;
  let headerLength = 72;
  if (version === 3) {
    if (head.length < 104) throw new Qcow2FormatError("truncated", "the qcow2 v3 header is cut short");
    incompatible = head.readBigUInt64BE(72);
    autoclear = head.readBigUInt64BE(88);
    headerLength = head.readUInt32BE(100);
    if (headerLength < 104 || headerLength > clusterSize) {
      throw new Qcow2FormatError("not-qcow2", `invalid header length ${headerLength}`);
    }
  }

  let backingFormat: string | null = null;
  let bitmapDirectory: { count: number; size: number; offset: number } | null = null;
  // Header extensions follow the header, each padded to 8 bytes, until an end marker or the first cluster ends.
  let pos = headerLength;
  let ended = false;
  while (pos + 8 <= Math.min(head.length, clusterSize)) {
    const type = head.readUInt32BE(pos);
    const length = head.readUInt32BE(pos + 4);
    if (type === EXT_END) {
      ended = true;
      break;
    }
    const data = head.subarray(pos + 8, pos + 8 + length);
    if (data.length < length) {
      if (head.length < clusterSize) break; // the rest of the first cluster is read below
      throw new Qcow2FormatError("truncated", "a header extension is cut short");
    }
    if (type === EXT_BACKING_FORMAT) backingFormat = data.toString("utf8");
    if (type === EXT_BITMAPS && length >= 24) {
      bitmapDirectory = {
        count: data.readUInt32BE(0),
        size: Number(data.readBigUInt64BE(8)),
        offset: Number(data.readBigUInt64BE(16)),
      };
    }
    pos += 8 + Math.ceil(length / 8) * 8;
  }

  // Extensions may fill the whole first cluster; the first read is smaller, so read the cluster and start over.
  if (!ended && head.length < clusterSize) {
    let cluster: Buffer | null = null;
    try {
      cluster = yield { offset: 0, length: clusterSize, keep: true };
    } catch {
      // A file shorter than its first cluster: parse what there is.
    }
    if (cluster && cluster.length > head.length) return yield* headerSteps(cluster);
  }

  let backingFile: string | null = null;
  if (backingOffset !== 0 && backingSize > 0) {
    if (backingSize > MAX_BACKING_NAME) {
      throw new Qcow2FormatError("not-qcow2", `backing file name too long (${backingSize} bytes)`);
    }
    backingFile = (yield* bytesAt(head, backingOffset, backingSize)).toString("utf8");
  }

  // QEMU clears the autoclear bit when an old version touched the image: the bitmaps are then not to be trusted
  // and QEMU itself ignores them, so do the same.
  const bitmaps =
    bitmapDirectory && (autoclear & AUTOCLEAR_BITMAPS) !== 0n
      ? parseBitmapDirectory(yield* bytesAt(head, bitmapDirectory.offset, bitmapDirectory.size), bitmapDirectory.count)
      : [];

  const tablesEnd = Math.max(
    l1Offset + l1Size * 8,
    refcountTableOffset + refcountTableClusters * clusterSize,
    headerLength,
  );

  return {
    version,
    virtualSize,
    clusterSize,
    backingFile,
    backingFormat,
    dirty: (incompatible & 1n) !== 0n,
    corrupt: (incompatible & 2n) !== 0n,
    externalDataFile: (incompatible & 4n) !== 0n,
    encrypted: cryptMethod !== 0,
    internalSnapshots,
    bitmaps,
    tablesEnd,
    l1: { offset: l1Offset, entries: l1Size },
    refcountTable: { offset: refcountTableOffset, bytes: refcountTableClusters * clusterSize },
  };
}

function parseBitmapDirectory(dir: Buffer, count: number): Qcow2Bitmap[] {
  const bitmaps: Qcow2Bitmap[] = [];
  let pos = 0;
  for (let i = 0; i < count; i++) {
    if (pos + 24 > dir.length) throw new Qcow2FormatError("truncated", "the bitmap directory is cut short");
    const flags = dir.readUInt32BE(pos + 12);
    const granularityBits = dir.readUInt8(pos + 17);
    const nameSize = dir.readUInt16BE(pos + 18);
    const extraSize = dir.readUInt32BE(pos + 20);
    const nameStart = pos + 24 + extraSize;
    const name = dir.subarray(nameStart, nameStart + nameSize).toString("utf8");
    bitmaps.push({
      name,
      inUse: (flags & BITMAP_IN_USE) !== 0,
      auto: (flags & BITMAP_AUTO) !== 0,
      granularity: 2 ** granularityBits,
    });
    pos += Math.ceil((24 + extraSize + nameSize) / 8) * 8;
  }
  return bitmaps;
}

/** Table reads beyond this are skipped: the check is meant to stay cheap on every scan. */
const MAX_TABLE_READ = 4 * 1024 * 1024;
const TWO_32 = 2 ** 32;
/** Zeros to compare a table against: most of a table is zeros, and a native compare skips them in microseconds. */
const ZEROS = Buffer.alloc(64 * 1024);
/** Below this, a run of entries is decoded one by one instead of halved again. */
const DECODE_RUN = 512;

/**
 * The end of the last L2 table or refcount block the top-level tables point at. A file cut short almost
 * always loses some of these; data clusters are not checked here (that is `qemu-img check`'s job).
 */
function* referencedMetadataEnd(h: Qcow2Header, head: Buffer): Steps<number> {
  let end = 0;
  for (const [offset, bytes] of [
    [h.l1.offset, h.l1.entries * 8],
    [h.refcountTable.offset, h.refcountTable.bytes],
  ] as const) {
    if (bytes === 0 || bytes > MAX_TABLE_READ) continue;
    const table = yield* bytesAt(head, offset, bytes);
    for (let at = 0; at < table.length; at += ZEROS.length) {
      end = Math.max(end, lastClusterEnd(table, at, Math.min(table.length, at + ZEROS.length), h.clusterSize));
    }
  }
  return end;
}

/**
 * The end of the furthest cluster a run of table entries points at (0 for none). A run of zeros is passed over
 * by one compare and any other run is halved, so a table of a few entries costs a few compares, not one step
 * per entry: reading every entry of a 64 KiB refcount table per file was most of a scan's time.
 */
function lastClusterEnd(table: Buffer, start: number, end: number, clusterSize: number): number {
  if (ZEROS.compare(table, start, end, 0, end - start) === 0) return 0;
  if (end - start > DECODE_RUN) {
    const half = start + (((end - start) >>> 4) << 3); // a whole number of 8-byte entries
    return Math.max(lastClusterEnd(table, start, half, clusterSize), lastClusterEnd(table, half, end, clusterSize));
  }
  let last = 0;
  for (let i = start; i + 8 <= end; i += 8) {
    // The offset is bits 9-55 of the big-endian entry: read as two 32-bit halves (no BigInt per entry).
    const high = table.readUInt32BE(i) & 0x00ffffff;
    const low = table.readUInt32BE(i + 4) & 0xfffffe00;
    const offset = high * TWO_32 + (low >>> 0);
    if (offset !== 0) last = Math.max(last, offset + clusterSize);
  }
  return last;
}
