import path from "node:path";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { parseQcow2Header, Qcow2FormatError, type Qcow2Header } from "./header";

/**
 * A read-only reader of a qcow2 file's L1 and L2 tables (QEMU's docs/interop/qcow2.txt): which guest clusters
 * the layer itself holds as data, as zeros, or not at all. Plans measure with it instead of starting a qemu-img
 * per layer. It reads the header, the whole L1 table in one read, and each L2 table it needs in one read.
 *
 * The reads are synchronous, as the scan's header reads are: the tables of a deep chain are thousands of small
 * reads from the page cache, each a few microseconds, where a round trip through libuv's thread pool costs
 * more than the read itself (a 1,000-deep chain: about 0.7 s with fs/promises on a loaded 2-core machine).
 * The walks (data-bytes.ts) give the event loop its turn between slices of a few milliseconds.
 *
 * It reads only what it can interpret exactly. Extended L2 entries (subclusters), an external data file,
 * encryption, unknown incompatible features, reserved bits set, or a zero flag in a version 2 image throw
 * `Qcow2TablesError` "unsupported", and the caller measures with qemu-img instead: never a guessed figure.
 * A table pointing outside the file throws "corrupt", saying what is wrong.
 */

export const UNALLOCATED = 0;
export const DATA = 1;
export const ZERO = 2;
export type ClusterKind = typeof UNALLOCATED | typeof DATA | typeof ZERO;

export class Qcow2TablesError extends Error {
  constructor(
    /** "unsupported": measure with qemu-img instead. "corrupt": the file's tables are wrong; report it. */
    readonly kind: "unsupported" | "corrupt",
    message: string,
  ) {
    super(message);
    this.name = "Qcow2TablesError";
  }
}

const FIRST_READ = 4096;
/** QEMU refuses a larger active L1 table (QCOW_MAX_L1_SIZE). */
const MAX_L1_BYTES = 32 * 1024 * 1024;
/**
 * Incompatible features this reader understands: dirty (bit 0) and the compression type (bit 3), which changes
 * how a compressed cluster's bytes are encoded but not its descriptor. Corrupt (1), external data file (2),
 * extended L2 (4) and any unknown bit make it fall back.
 */
const KNOWN_INCOMPATIBLE = 0b01001;
const TWO_32 = 2 ** 32;

// Entry layouts, as two 32-bit halves (hi = bits 63..32, lo = bits 31..0), which avoids BigInt per entry.
const COPIED_HI = 0x80000000;
const COMPRESSED_HI = 0x40000000;
const OFFSET_HI = 0x00ffffff; // bits 55..32 of a host offset
const OFFSET_LO = 0xfffffe00; // bits 31..9
const L1_RESERVED_HI = 0x7f000000; // bits 62..56
const L1_RESERVED_LO = 0x000001ff; // bits 8..0
const L2_RESERVED_HI = 0x3f000000; // bits 61..56
const L2_RESERVED_LO = 0x000001fe; // bits 8..1
const ZERO_FLAG_LO = 0x1;

export class Qcow2Tables {
  readonly clusterSize: number;
  /** Guest bytes one L2 table maps. */
  readonly l2Span: number;
  /** The bits of a compressed descriptor's host offset in its high half. */
  private readonly compressedOffsetHi: number;
  /** The L2 table loaded last (`loadL2`), and the same bytes as 32-bit words to find empty entries fast. */
  private readonly table: Buffer;
  private readonly words: Uint32Array;
  private highestData = -1;

  private constructor(
    readonly file: string,
    readonly header: Qcow2Header,
    /** The file's device and inode, to notice a backing chain that loops back on itself. */
    readonly identity: string,
    private readonly fd: number,
    private fileSize: number,
    private readonly l1: Buffer,
  ) {
    this.clusterSize = header.clusterSize;
    this.l2Span = (this.clusterSize / 8) * this.clusterSize;
    // A compressed descriptor holds the host offset in bits 0..x-1, x = 62 - (cluster_bits - 8).
    this.compressedOffsetHi = 2 ** (62 - (Math.log2(this.clusterSize) - 8) - 32) - 1;
    // Not from the shared pool, so the words view starts at byte 0 of its own memory.
    this.table = Buffer.alloc(this.clusterSize);
    this.words = new Uint32Array(this.table.buffer, this.table.byteOffset, this.clusterSize / 4);
  }

  /** Opens a qcow2 file and reads its header and L1 table. The caller closes it. */
  static async open(file: string): Promise<Qcow2Tables> {
    const fd = openSync(file, "r");
    try {
      const stat = fstatSync(fd);
      const head = readExactly(fd, file, 0, Math.min(FIRST_READ, stat.size), "the header");
      const readAt = async (offset: number, length: number) => readExactly(fd, file, offset, length, "the header");
      const header = await parseQcow2Header(head, readAt).catch((err) => {
        throw asTablesError(err);
      });
      refuseWhatIsNotReadExactly(file, header, head);
      const l1 = readL1(fd, file, header, stat.size);
      return new Qcow2Tables(file, header, `${stat.dev}:${stat.ino}`, fd, stat.size, l1);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  get name(): string {
    return path.basename(this.file);
  }

  /**
   * The file the image's backing name points at, or null for none. Relative names are taken from the image's
   * folder, as QEMU does. A backing file that is not qcow2, or not a plain file, falls back to qemu-img.
   */
  backingPath(): string | null {
    const { backingFile, backingFormat } = this.header;
    if (backingFile === null) return null;
    if (backingFormat !== null && backingFormat !== "qcow2") {
      throw new Qcow2TablesError("unsupported", `${this.name}: its backing file is ${backingFormat}, not qcow2`);
    }
    // QEMU reads a colon before the first slash as a protocol prefix (json:, nbd:, file:, ...).
    const colon = backingFile.indexOf(":");
    const slash = backingFile.indexOf("/");
    if (colon >= 0 && (slash < 0 || colon < slash)) {
      throw new Qcow2TablesError("unsupported", `${this.name}: its backing name has a protocol prefix`);
    }
    return path.isAbsolute(backingFile) ? backingFile : `${path.dirname(this.file)}/${backingFile}`;
  }

  /**
   * Loads the L2 table of L1 entry `index` for `kindOf` and `nextNonEmpty`. False where the layer has none:
   * nothing under that entry is allocated in this layer.
   */
  loadL2(index: number): boolean {
    if (index >= this.header.l1.entries) return false;
    const hi = this.l1.readUInt32BE(index * 8);
    const lo = this.l1.readUInt32BE(index * 8 + 4);
    if (hi & L1_RESERVED_HI || lo & L1_RESERVED_LO) {
      throw new Qcow2TablesError("unsupported", `${this.name}: L1 entry ${index} has reserved bits set`);
    }
    const offset = (hi & OFFSET_HI) * TWO_32 + ((lo & OFFSET_LO) >>> 0);
    if (offset === 0) return false;
    if (offset % this.clusterSize !== 0) {
      throw new Qcow2TablesError("corrupt", `${this.name}: L1 entry ${index} points at ${offset}, not at a cluster`);
    }
    this.requireInFile(offset + this.clusterSize, `the L2 table of L1 entry ${index} (at ${offset})`);
    readExactly(this.fd, this.file, offset, this.clusterSize, `the L2 table of L1 entry ${index}`, this.table);
    return true;
  }

  /**
   * What entry `entry` of the loaded L2 table says of its guest cluster, as QEMU's block status reads it: normal
   * and compressed clusters are data; the zero flag (allocated or not) reads as zeros; no offset is unallocated.
   */
  kindOf(entry: number): ClusterKind {
    const hi = this.table.readUInt32BE(entry * 8);
    const lo = this.table.readUInt32BE(entry * 8 + 4);
    if (hi & COMPRESSED_HI) {
      if (hi & COPIED_HI) throw this.unexpected(entry, "a compressed cluster with the copied flag");
      this.noteData((hi & this.compressedOffsetHi) * TWO_32 + (lo >>> 0));
      return DATA;
    }
    if (hi & L2_RESERVED_HI || lo & L2_RESERVED_LO) throw this.unexpected(entry, "reserved bits set");
    const offset = (hi & OFFSET_HI) * TWO_32 + ((lo & OFFSET_LO) >>> 0);
    if (offset % this.clusterSize !== 0) {
      throw new Qcow2TablesError("corrupt", `${this.name}: an L2 entry points at ${offset}, not at a cluster`);
    }
    if (lo & ZERO_FLAG_LO) {
      if (this.header.version === 2) throw this.unexpected(entry, "a zero flag in a version 2 image");
      return ZERO;
    }
    if (offset === 0) {
      if (hi & COPIED_HI) throw this.unexpected(entry, "the copied flag on an unallocated cluster");
      return UNALLOCATED;
    }
    this.noteData(offset);
    return DATA;
  }

  /**
   * The first entry in [from, to) of the loaded L2 table with any bit set (`to` when there is none). Tables are
   * mostly empty in a deep chain, and this scan is most of the walk's time.
   */
  nextNonEmpty(from: number, to: number): number {
    const words = this.words;
    const end = to * 2;
    for (let w = from * 2; w < end; w += 2) if ((words[w]! | words[w + 1]!) !== 0) return w / 2;
    return to;
  }

  /**
   * Data clusters are counted, not read, but one at or past the end of the file means broken tables (qemu-img
   * would still count it). `kindOf` notes the highest data offset; this checks it once, after the walk.
   */
  requireDataInFile(): void {
    if (this.highestData >= 0) this.requireInFile(this.highestData + 1, `a data cluster (at ${this.highestData})`);
  }

  close(): void {
    closeSync(this.fd);
  }

  private noteData(offset: number): void {
    if (offset > this.highestData) this.highestData = offset;
  }

  private unexpected(entry: number, what: string): Qcow2TablesError {
    return new Qcow2TablesError("unsupported", `${this.name}: L2 entry ${entry} has ${what}`);
  }

  /** A file that QEMU is writing only grows: look again before calling a table cut short. */
  private requireInFile(end: number, what: string): void {
    if (end <= this.fileSize) return;
    this.fileSize = fstatSync(this.fd).size;
    if (end > this.fileSize) {
      throw new Qcow2TablesError("corrupt", `${this.name}: ${what} lies past the end of the file (${this.fileSize} bytes)`);
    }
  }
}

function refuseWhatIsNotReadExactly(file: string, h: Qcow2Header, head: Buffer): void {
  const name = path.basename(file);
  const unsupported = (what: string) => new Qcow2TablesError("unsupported", `${name}: ${what}`);
  if (h.encrypted) throw unsupported("it is encrypted");
  if (h.externalDataFile) throw unsupported("its data is in an external data file");
  if (h.corrupt) throw unsupported("QEMU marked it corrupt");
  if (h.version === 3) {
    // The header reader keeps only some incompatible bits; the others decide whether the tables read as below.
    const high = head.readUInt32BE(72);
    const low = head.readUInt32BE(76);
    if (high !== 0 || (low & ~KNOWN_INCOMPATIBLE) !== 0) {
      throw unsupported(`incompatible features 0x${high.toString(16)}${low.toString(16).padStart(8, "0")} (extended L2 is 0x10)`);
    }
  }
  if (h.l1.entries * 8 > MAX_L1_BYTES) throw unsupported(`an L1 table of ${h.l1.entries} entries`);
  const needed = Math.ceil(h.virtualSize / ((h.clusterSize / 8) * h.clusterSize));
  if (h.l1.entries < needed) {
    throw new Qcow2TablesError("corrupt", `${name}: its L1 table has ${h.l1.entries} entries, ${needed} are needed`);
  }
}

function readL1(fd: number, file: string, h: Qcow2Header, fileSize: number): Buffer {
  const name = path.basename(file);
  if (h.l1.entries === 0) return Buffer.alloc(0);
  if (h.l1.offset % h.clusterSize !== 0) {
    throw new Qcow2TablesError("corrupt", `${name}: its L1 table is at ${h.l1.offset}, not at a cluster`);
  }
  if (h.l1.offset + h.l1.entries * 8 > fileSize) {
    throw new Qcow2TablesError("corrupt", `${name}: its L1 table lies past the end of the file (${fileSize} bytes)`);
  }
  return readExactly(fd, file, h.l1.offset, h.l1.entries * 8, "the L1 table");
}

function readExactly(fd: number, file: string, offset: number, length: number, what: string, buf: Buffer = Buffer.allocUnsafe(length)): Buffer {
  let done = 0;
  while (done < length) {
    const bytesRead = readSync(fd, buf, done, length - done, offset + done);
    if (bytesRead === 0) {
      throw new Qcow2TablesError("corrupt", `${path.basename(file)}: ${what} is cut short by the end of the file`);
    }
    done += bytesRead;
  }
  return buf;
}

/**
 * Errors of the header reader, in this reader's terms. A header cut short is corrupt; anything else it refuses
 * (another version, no qcow2 magic: a backing file of unnamed format that QEMU would probe as raw) falls back.
 */
function asTablesError(err: unknown): unknown {
  if (!(err instanceof Qcow2FormatError)) return err;
  return new Qcow2TablesError(err.kind === "truncated" ? "corrupt" : "unsupported", err.message);
}
