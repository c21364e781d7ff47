import "server-only";
import { scanDisk, scanStorageRoot } from "@/lib/inventory/scan";
import type { DiskInventory, ScanResult } from "@/lib/inventory/types";
import { getDb } from "./db";
import { loadConfig } from "./config";
import { inBatches, MAX_BIND_PARAMETERS } from "./layer-rows";
import { recordDisks, recordTogether, type RecordOptions, type UnrecordedDisk } from "./record-disks";

export type { RecordOptions, UnrecordedDisk };

export interface RecordedScan extends ScanResult {
  unrecorded: UnrecordedDisk[];
}

/**
 * Records what a scan found: one Disk row per disk folder, one Layer row per layer. Canopy's own facts
 * (active leaf, protection, descriptions, first-seen time) survive a rescan; a disk whose folder is gone is
 * dropped (its jobs keep their history). Disks are recorded many to a transaction (see record-disks.ts), and
 * one that cannot be recorded keeps its last record, marked with a "not-recorded" problem, while the other
 * disks are recorded all the same.
 */
export async function scanAndRecord(root = loadConfig().storageRoot): Promise<RecordedScan> {
  const readAt = new Date();
  return recordScan(await scanStorageRoot(root), readAt);
}

/** Records a scan that began reading the root at `readAt`. */
export async function recordScan(result: ScanResult, readAt: Date): Promise<RecordedScan> {
  const db = getDb();
  const unrecorded = await recordDisks(result.disks, { readAt, now: new Date() });
  const found = new Set(result.disks.map((d) => d.name));
  const gone = (await db.disk.findMany({ select: { id: true, name: true } })).filter((d) => !found.has(d.name));
  for (const ids of inBatches(gone.map((d) => d.id), MAX_BIND_PARAMETERS)) await db.disk.deleteMany({ where: { id: { in: ids } } });
  return { ...result, unrecorded };
}

/** Reads one disk's files now and records them; returns what was read. */
export async function rescanDisk(root: string, name: string, opts: Omit<RecordOptions, "readAt"> = {}): Promise<DiskInventory> {
  const readAt = new Date();
  const inventory = await scanDisk(root, name);
  await recordDisk(inventory, { ...opts, readAt });
  return inventory;
}

/** Records one disk (see recordTogether); throws when it cannot. */
export async function recordDisk(disk: DiskInventory, opts: RecordOptions = {}): Promise<void> {
  await recordTogether([disk], opts);
}
