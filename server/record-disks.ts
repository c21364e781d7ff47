import "server-only";
import type { DiskInventory, Problem } from "@/lib/inventory/types";
import { chooseActiveLeaf } from "@/lib/tree/active";
import { getDb } from "./db";
import { writeTransaction } from "./db-retry";
import { insertRows, newRowId, selectRows, updateRows, type RowOf } from "./bulk-rows";
import type { Prisma } from "./generated/prisma/client";
import { diffLayerRows, noLayerChanges, storedLayerRows, type StoredLayer, writeLayerChanges } from "./layer-rows";

/**
 * Records scanned disks, many to a transaction. Each group of disks is read in a few statements (their Disk
 * rows, their Layer rows, the jobs on them) and written in a few more: new disks and new layers in bulk (see
 * bulk-rows.ts), changed rows one by one, gone layers by id, and for the disks the scan found as recorded only
 * their time of the scan, in one statement. A rescan of an unchanged root thus writes no Layer row at all.
 *
 * A group that cannot be recorded is halved and each half recorded again, down to the one disk that fails: it
 * keeps its last record and gets a "not-recorded" problem, and the other disks are recorded all the same.
 */

export interface RecordOptions {
  /**
   * When the scan began reading the disks' files (default: now, for disks read a moment ago). A job that ended
   * since then may have changed the files after they were read.
   */
  readAt?: Date;
  now?: Date;
  /** The job that holds the disk recording it as it ends: its own hold does not count (its steps are done or settled). */
  byJob?: string;
}

/** A disk the scan read but whose record could not be written, and why (the error's last line). */
export interface UnrecordedDisk {
  disk: string;
  message: string;
}

/** The Disk columns a new disk is written with; the others (status, the daemon's) take their defaults. */
const DISK_COLUMNS = {
  id: "text",
  name: "text",
  folder: "text",
  activeLayer: "text?",
  problems: "text",
  scannedAt: "datetime",
  createdAt: "datetime",
  updatedAt: "datetime",
} as const;

/** What is read of a recorded disk to compare it with a scan. */
const RECORDED_DISK_COLUMNS = { id: "text", name: "text", folder: "text", activeLayer: "text?", problems: "text" } as const;
/** What a scan that finds a disk as recorded writes. */
const SCANNED_COLUMNS = { scannedAt: "datetime", updatedAt: "datetime" } as const;

/**
 * A transaction's share. A transaction and each statement in it cost milliseconds of Prisma's own, so one per
 * disk (about seven statements each) made the first record of 1,000 disks take 20-26 s; a larger group holds
 * the writer's lock longer (about 0.3 s for 5,000 new layers on a loaded machine). Disks without layers count
 * too: each is a row to read and write.
 */
const GROUP_LAYERS = 5_000;
const GROUP_DISKS = 500;

export async function recordDisks(disks: readonly DiskInventory[], opts: RecordOptions = {}): Promise<UnrecordedDisk[]> {
  const unrecorded: UnrecordedDisk[] = [];
  for (const group of groupsOf(disks)) unrecorded.push(...(await recordGroup(group, opts)));
  return unrecorded;
}

function groupsOf(disks: readonly DiskInventory[]): DiskInventory[][] {
  const groups: DiskInventory[][] = [];
  let group: DiskInventory[] = [];
  let layers = 0;
  for (const disk of disks) {
    if (group.length && (group.length >= GROUP_DISKS || layers + disk.layers.length > GROUP_LAYERS)) {
      groups.push(group);
      group = [];
      layers = 0;
    }
    group.push(disk);
    layers += disk.layers.length;
  }
  if (group.length) groups.push(group);
  return groups;
}

async function recordGroup(group: DiskInventory[], opts: RecordOptions): Promise<UnrecordedDisk[]> {
  try {
    await recordTogether(group, opts);
    return [];
  } catch (err) {
    if (group.length > 1) {
      const half = Math.ceil(group.length / 2);
      return [...(await recordGroup(group.slice(0, half), opts)), ...(await recordGroup(group.slice(half), opts))];
    }
    const disk = group[0]!;
    const message = causeOf(err instanceof Error ? err.message : String(err));
    await recordFailure(disk, message, opts.now ?? new Date()).catch(() => undefined);
    return [{ disk: disk.name, message }];
  }
}

/**
 * Records the disks in one transaction, which fails as a whole. It reads before it writes (the recorded active
 * layer, the jobs on the disks), so another writer coming between makes it run again (see writeTransaction).
 */
export async function recordTogether(disks: readonly DiskInventory[], { readAt = new Date(), now = new Date(), byJob }: RecordOptions = {}): Promise<void> {
  const layerCount = disks.reduce((n, d) => n + d.layers.length, 0);
  await writeTransaction(
    getDb(),
    async (tx) => {
      const recorded = await selectRows(tx, "Disk", RECORDED_DISK_COLUMNS, "name", disks.map((d) => d.name));
      const byName = new Map(recorded.map((r) => [r.name, r]));
      const ids = recorded.map((r) => r.id);
      const touched = await jobsTouching(tx, ids, readAt, byJob);
      const rowsOf = groupByDisk(await storedLayerRows(tx, ids));

      const changes = noLayerChanges();
      const added: RowOf<typeof DISK_COLUMNS>[] = [];
      const unchanged: string[] = [];
      for (const disk of disks) {
        const row = byName.get(disk.name);
        const activeLayer = chooseActiveLeaf(disk.layers, row?.activeLayer ?? null, { jobTouchedDisk: row ? touched.has(row.id) : false });
        const facts = { folder: disk.folder, activeLayer, problems: JSON.stringify(disk.problems) };
        if (!row) {
          const id = newRowId();
          added.push({ id, name: disk.name, ...facts, scannedAt: now, createdAt: now, updatedAt: now });
          diffLayerRows(id, [], disk.layers, now, changes);
          continue;
        }
        diffLayerRows(row.id, rowsOf.get(row.id) ?? [], disk.layers, now, changes);
        if (row.folder === facts.folder && row.activeLayer === facts.activeLayer && row.problems === facts.problems) unchanged.push(row.id);
        else await tx.disk.update({ where: { id: row.id }, data: { ...facts, scannedAt: now }, select: { id: true } });
      }

      await insertRows(tx, "Disk", DISK_COLUMNS, added);
      await writeLayerChanges(tx, changes);
      // Prisma sets updatedAt on every update of its own; so does this one.
      await updateRows(tx, "Disk", SCANNED_COLUMNS, { scannedAt: now, updatedAt: now }, "id", unchanged);
    },
    { timeoutMs: recordTimeoutMs(layerCount) },
  );
}

function groupByDisk(rows: StoredLayer[]): Map<string, StoredLayer[]> {
  const out = new Map<string, StoredLayer[]>();
  for (const row of rows) {
    const list = out.get(row.diskId);
    if (list) list.push(row);
    else out.set(row.diskId, [row]);
  }
  return out;
}

/**
 * The disks on which a job other than `except` holds the disk now, or ended after `readAt`: there the scan keeps
 * the recorded active layer (see chooseActiveLeaf). Read in the recording's transaction, after the files were read.
 * Such jobs are few, so they are read for every disk at once and the group's picked out.
 */
async function jobsTouching(tx: Prisma.TransactionClient, diskIds: string[], readAt: Date, except?: string): Promise<Set<string>> {
  if (!diskIds.length) return new Set();
  const jobs = await tx.job.findMany({
    where: {
      diskId: { not: null },
      ...(except ? { id: { not: except } } : {}),
      // Holding: on the disk's lock and not ended (holdsDisk's rule: an ended job's lingering lock holds nothing).
      OR: [{ lock: { isNot: null }, state: { in: ["queued", "running"] } }, { endedAt: { gte: readAt } }],
    },
    select: { diskId: true },
  });
  const group = new Set(diskIds);
  return new Set(jobs.map((j) => j.diskId).filter((id): id is string => id !== null && group.has(id)));
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
