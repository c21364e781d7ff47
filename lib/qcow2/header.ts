import type { Stats } from "node:fs";
import { open } from "node:fs/promises";

/**
 * A small reader for the qcow2 header (QEMU's docs/interop/qcow2.txt). It reads a few kilobytes per file
 * instead of starting a process, which is what makes scanning a large storage root cheap. It never writes.
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

export async function readQcow2Header(path: string): Promise<Qcow2Header> {
  return (await readQcow2File(path)).header;
}

/** The header and the file's stat from one open: the scan needs both and should not pay twice. */
export async function readQcow2File(path: string): Promise<{ header: Qcow2Header; stat: Stats }> {
  const file = await open(path, "r");
  try {
    const stat = await file.stat();
    const fileSize = stat.size;
    const head = Buffer.alloc(Math.min(FIRST_READ, fileSize));
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    const readAt = async (offset: number, length: number): Promise<Buffer> => {
      if (offset + length <= bytesRead) return head.subarray(offset, offset + length);
      if (offset + length > fileSize) {
        throw new Qcow2FormatError("truncated", `the header points past the end of the file (${fileSize} bytes)`);
      }
      const buf = Buffer.alloc(length);
      await file.read(buf, 0, length, offset);
      return buf;
    };
    const header = await parseQcow2Header(head.subarray(0, bytesRead), readAt);
    if (header.tablesEnd > fileSize) {
      throw new Qcow2FormatError(
        "truncated",
        `the file is ${fileSize} bytes but its tables reach ${header.tablesEnd} bytes`,
      );
    }
    const metadataEnd = await referencedMetadataEnd(header, readAt);
    if (metadataEnd > fileSize) {
      throw new Qcow2FormatError(
        "truncated",
        `the file is ${fileSize} bytes but its metadata clusters reach ${metadataEnd} bytes`,
      );
    }
    return { header, stat };
  } finally {
    await file.close();
  }
}

/**
 * Parses a header from its first bytes. `readAt` fetches anything outside them (a far backing name or the
 * bitmap directory); tests can pass a buffer-backed one.
 */
export async function parseQcow2Header(
  head: Buffer,
  readAt: (offset: number, length: number) => Promise<Buffer>,
): Promise<Qcow2Header> {
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
    const cluster = await readAt(0, clusterSize).catch(() => null);
    if (cluster && cluster.length > head.length) return parseQcow2Header(cluster, readAt);
  }

  let backingFile: string | null = null;
  if (backingOffset !== 0 && backingSize > 0) {
    if (backingSize > MAX_BACKING_NAME) {
      throw new Qcow2FormatError("not-qcow2", `backing file name too long (${backingSize} bytes)`);
    }
    backingFile = (await readAt(backingOffset, backingSize)).toString("utf8");
  }

  // QEMU clears the autoclear bit when an old version touched the image: the bitmaps are then not to be trusted
  // and QEMU itself ignores them, so do the same.
  const bitmaps =
    bitmapDirectory && (autoclear & AUTOCLEAR_BITMAPS) !== 0n
      ? parseBitmapDirectory(await readAt(bitmapDirectory.offset, bitmapDirectory.size), bitmapDirectory.count)
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
const OFFSET_MASK = 0x00fffffffffffe00n;

/**
 * The end of the last L2 table or refcount block the top-level tables point at. A file cut short almost
 * always loses some of these; data clusters are not checked here (that is `qemu-img check`'s job).
 */
async function referencedMetadataEnd(
  h: Qcow2Header,
  readAt: (offset: number, length: number) => Promise<Buffer>,
): Promise<number> {
  let end = 0;
  const scan = async (offset: number, bytes: number) => {
    if (bytes === 0 || bytes > MAX_TABLE_READ) return;
    const table = await readAt(offset, bytes);
    for (let i = 0; i + 8 <= table.length; i += 8) {
      const entry = Number(table.readBigUInt64BE(i) & OFFSET_MASK);
      if (entry !== 0) end = Math.max(end, entry + h.clusterSize);
    }
  };
  await scan(h.l1.offset, h.l1.entries * 8);
  await scan(h.refcountTable.offset, h.refcountTable.bytes);
  return end;
}
