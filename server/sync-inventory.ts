import "server-only";
import { scanDisk, scanStorageRoot } from "@/lib/inventory/scan";
import type { DiskInventory, Problem, ScanResult } from "@/lib/inventory/types";
import { chooseActiveLeaf } from "@/lib/tree/active";
import { getDb } from "./db";
import { writeTransaction } from "./db-retry";
import type { Prisma } from "./generated/prisma/client";
import { loadConfig } from "./config";
import { inBatches, MAX_BIND_PARAMETERS, syncLayerRows } from "./layer-rows";

/** A disk the scan read but whose record could not be written, and why (the error's last line). */
export interface UnrecordedDisk {
  disk: string;
  message: string;
}

export interface RecordedScan extends ScanResult {
  unrecorded: UnrecordedDisk[];
}

/**
 * Records what a scan found: one Disk row per disk folder, one Layer row per layer. Canopy's own facts
 * (active leaf, protection, descriptions, first-seen time) survive a rescan; a disk whose folder is gone is
 * dropped (its jobs keep their history). Each disk is recorded on its own: one that cannot be recorded keeps
 * its last record, marked with a "not-recorded" problem, and the other disks are recorded all the same.
 */
export async function scanAndRecord(root = loadConfig().storageRoot): Promise<RecordedScan> {
  const readAt = new Date();
  return recordScan(await scanStorageRoot(root), readAt);
}

/** Records a scan that began reading the root at `readAt`. */
export async function recordScan(result: ScanResult, readAt: Date): Promise<RecordedScan> {
  const db = getDb();
  const now = new Date();
  const unrecorded: UnrecordedDisk[] = [];
  for (const disk of result.disks) {
    try {
      await recordDisk(disk, { readAt, now });
    } catch (err) {
      const message = causeOf(err instanceof Error ? err.message : String(err));
      unrecorded.push({ disk: disk.name, message });
      await recordFailure(disk, message, now).catch(() => undefined);
    }
  }
  const found = new Set(result.disks.map((d) => d.name));
  const gone = (await db.disk.findMany({ select: { id: true, name: true } })).filter((d) => !found.has(d.name));
  for (const ids of inBatches(gone.map((d) => d.id), MAX_BIND_PARAMETERS)) await db.disk.deleteMany({ where: { id: { in: ids } } });
  return { ...result, unrecorded };
}

export interface RecordOptions {
  /**
   * When the scan began reading the disk's files (default: now, for a disk read a moment ago). A job that ended
   * since then may have changed the files after they were read.
   */
  readAt?: Date;
  now?: Date;
  /** The job that holds the disk recording it as it ends: its own hold does not count (its steps are done or settled). */
  byJob?: string;
}

/** Reads one disk's files now and records them; returns what was read. */
export async function rescanDisk(root: string, name: string, opts: Omit<RecordOptions, "readAt"> = {}): Promise<DiskInventory> {
  const readAt = new Date();
  const inventory = await scanDisk(root, name);
  await recordDisk(inventory, { ...opts, readAt });
  return inventory;
}

export async function recordDisk(disk: DiskInventory, { readAt = new Date(), now = new Date(), byJob }: RecordOptions = {}): Promise<void> {
  const db = getDb();
  await writeTransaction(db, async (tx) => {
    const existing = await tx.disk.findUnique({ where: { name: disk.name }, select: { id: true, activeLayer: true } });
    const jobTouchedDisk = existing ? await jobTouched(tx, existing.id, readAt, byJob) : false;
    const activeLayer = chooseActiveLeaf(disk.layers, existing?.activeLayer ?? null, { jobTouchedDisk });
    const row = await tx.disk.upsert({
      where: { name: disk.name },
      create: { name: disk.name, folder: disk.folder, activeLayer, problems: JSON.stringify(disk.problems), scannedAt: now },
      update: { folder: disk.folder, activeLayer, problems: JSON.stringify(disk.problems), scannedAt: now },
      select: { id: true },
    });
    await syncLayerRows(tx, row.id, disk.layers, now);
  }, { timeoutMs: recordTimeoutMs(disk.layers.length) });
}

/**
 * Whether a job other than `except` holds the disk now, or ended after `readAt`: then the scan keeps the recorded
 * active layer (see chooseActiveLeaf). Read in the recording's transaction, after the files were read.
 */
async function jobTouched(tx: Prisma.TransactionClient, diskId: string, readAt: Date, except?: string): Promise<boolean> {
  const jobs = await tx.job.count({
    where: {
      diskId,
      ...(except ? { id: { not: except } } : {}),
      // Holding: on the disk's lock and not ended (holdsDisk's rule: an ended job's lingering lock holds nothing).
      OR: [{ lock: { isNot: null }, state: { in: ["queued", "running"] } }, { endedAt: { gte: readAt } }],
    },
  });
  return jobs > 0;
}

/**
 * The first record of a disk writes a row per layer, and Prisma ends a transaction that runs longer than its
 * timeout (5 s by default), which thousands of layers on a busy machine exceed: the time allowed grows with them.
 */
function recordTimeoutMs(layers: number): number {
  return 10_000 + 10 * layers;
}

/**
 * Shows on the disk that its last scan is not what the dashboard shows: the layers (and the time of the scan)
 * stay those of the last scan that was recorded, and the problems are this scan's, plus this one.
 */
async function recordFailure(disk: DiskInventory, reason: string, now: Date): Promise<void> {
  const notRecorded: Problem = {
    code: "not-recorded",
    message: `this scan could not be recorded, so the layers shown are from the last recorded scan: ${reason}`,
  };
  const problems = JSON.stringify([...disk.problems, notRecorded]);
  await getDb().disk.upsert({
    where: { name: disk.name },
    create: { name: disk.name, folder: disk.folder, problems, scannedAt: now },
    update: { problems },
  });
}

/** Prisma's messages start with the call and the source around it; the cause is at the end. */
function causeOf(message: string): string {
  const lines = message.split("\n").map((l) => l.trim()).filter(Boolean);
  return (lines.at(-1) ?? message).slice(0, 500);
}
