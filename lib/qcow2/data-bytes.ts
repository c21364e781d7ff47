import { DATA, Qcow2Tables, Qcow2TablesError, UNALLOCATED } from "./allocation";
import { GuestRanges } from "./ranges";

/**
 * Guest data figures from the qcow2 tables themselves, defined as `qemu-img map` defines them (lib/qemu/img.ts):
 * what a layer holds alone, and what an image reads from below through its chain. Both throw
 * `Qcow2TablesError` "unsupported" for an image the tables reader cannot read exactly; measure those with
 * qemu-img.
 */

/** Bytes of guest data a layer itself holds: its normal and compressed clusters, cut at its virtual size. */
export async function layerDataBytes(file: string): Promise<number> {
  await takeTurn();
  const tables = await Qcow2Tables.open(file);
  try {
    const bytes = await settle(tables, GuestRanges.of(0, tables.header.virtualSize), null);
    tables.requireDataInFile();
    return bytes;
  } finally {
    tables.close();
  }
}

/**
 * Bytes of guest data an image reads from its backing chain. Each layer's tables are read once, top-down; a
 * guest range leaves the walk at the first layer that allocates it (as data or as zeros), so each byte counts
 * once, and only for a layer below the image. A backing file shorter than the range reads as zeros there; a
 * longer one is read only up to the image's size, where the walk starts. The walk stops where nothing is left
 * open, without opening the layers further down.
 */
export async function readThroughBytes(file: string): Promise<number> {
  const seen = new Set<string>();
  let open: GuestRanges | null = null;
  let bytes = 0;
  let next: string | null = file;
  for (let depth = 0; next !== null; depth++) {
    await takeTurn();
    const tables: Qcow2Tables = await Qcow2Tables.open(next);
    try {
      if (seen.has(tables.identity)) throw new Qcow2TablesError("corrupt", `${tables.name}: the backing chain loops back to it`);
      seen.add(tables.identity);
      open = open ? open.clip(tables.header.virtualSize) : GuestRanges.of(0, tables.header.virtualSize);
      const unsettled = new GuestRanges();
      const data = await settle(tables, open, unsettled);
      tables.requireDataInFile();
      if (depth > 0) bytes += data;
      open = unsettled;
      next = open.isEmpty ? null : tables.backingPath();
    } finally {
      tables.close();
    }
  }
  return bytes;
}

/**
 * Walks the guest ranges `open` through one layer's tables: returns the bytes of them the layer holds as data,
 * and adds to `unsettled` (when given) the parts it leaves unallocated. Each L2 table is read once, only where
 * an open range crosses it; a range under an L1 entry without a table stays open without a read. The event
 * loop may take its turn before each table read, so even a layer of a fully written 1 TiB disk (2,048 tables
 * of 64 KiB) never holds it for long.
 */
async function settle(tables: Qcow2Tables, open: GuestRanges, unsettled: GuestRanges | null): Promise<number> {
  const { clusterSize, l2Span } = tables;
  let data = 0;
  let loaded = -1;
  let hasTable = false;
  for (let r = 0; r < open.count; r++) {
    let pos = open.start(r);
    const end = open.end(r);
    while (pos < end) {
      const index = Math.floor(pos / l2Span);
      const tableStart = index * l2Span;
      const tableEnd = Math.min(end, tableStart + l2Span);
      if (index !== loaded) {
        await takeTurn();
        hasTable = tables.loadL2(index);
        loaded = index;
      }
      if (!hasTable) {
        unsettled?.add(pos, tableEnd);
        pos = tableEnd;
        continue;
      }
      const entries = Math.ceil((tableEnd - tableStart) / clusterSize);
      while (pos < tableEnd) {
        const entry = Math.floor((pos - tableStart) / clusterSize);
        const nonEmpty = tables.nextNonEmpty(entry, entries);
        if (nonEmpty > entry) {
          // Entries with no bit set: unallocated, one range however many.
          const runEnd = Math.min(tableEnd, tableStart + nonEmpty * clusterSize);
          unsettled?.add(pos, runEnd);
          pos = runEnd;
          continue;
        }
        const clusterEnd = Math.min(tableEnd, tableStart + (entry + 1) * clusterSize);
        const kind = tables.kindOf(entry);
        if (kind === DATA) data += clusterEnd - pos;
        else if (kind === UNALLOCATED) unsettled?.add(pos, clusterEnd);
        pos = clusterEnd;
      }
    }
  }
  return data;
}

/**
 * The reads are synchronous (see allocation.ts): after a slice this long, the event loop gets its turn. Shared
 * by all walks: concurrent walks (a merge measures 8 layers at once) wait for one common turn, so they do not
 * each take a full slice, one after another, before the loop comes round.
 */
const SLICE_MS = 5;
let sliceStart = performance.now();
let turn: Promise<void> | null = null;

async function takeTurn(): Promise<void> {
  if (performance.now() - sliceStart < SLICE_MS) return;
  turn ??= new Promise<void>((resolve) =>
    setImmediate(() => {
      turn = null;
      sliceStart = performance.now();
      resolve();
    }),
  );
  await turn;
}
