import "server-only";
import type { LayerInfo } from "@/lib/inventory/types";
import { insertRows, newRowId, selectRows, type RowOf } from "./bulk-rows";
import type { Prisma } from "./generated/prisma/client";

/**
 * Brings Layer rows in line with what a scan found, over any number of disks in a few statements: new rows in
 * bulk (see bulk-rows.ts), the rows of gone layers deleted in statements of bounded size (Prisma refuses more
 * bind parameters than the provider allows: 999 on SQLite), changed rows one by one. A row the scan found as
 * it was is not touched. Its `seenAt` is therefore when a scan last wrote it; when its disk was last scanned is
 * the disk's `scannedAt` (a row still there was seen by that scan, since the rows of gone layers are deleted).
 */

/** Bind parameters per statement: under SQLite's 999, the lower of the two limits. */
export const MAX_BIND_PARAMETERS = 900;

/** The columns a scan decides (seenAt is left out: it changes with them). */
const FACT_COLUMNS = {
  file: "text",
  parent: "text?",
  backingFile: "text?",
  backingFormat: "text?",
  template: "boolean",
  version: "integer",
  virtualSize: "bigint",
  clusterSize: "integer",
  fileSize: "bigint",
  dirty: "boolean",
  corrupt: "boolean",
  bitmaps: "text",
  modifiedAt: "datetime",
} as const;
const FACT_NAMES = Object.keys(FACT_COLUMNS) as (keyof typeof FACT_COLUMNS)[];

/** What is read of a stored row to compare it with a scan. */
const STORED_COLUMNS = { id: "text", diskId: "text", name: "text", ...FACT_COLUMNS } as const;
/** What a new row is written with; the other columns (protected, description) take their defaults. */
const NEW_COLUMNS = { ...STORED_COLUMNS, seenAt: "datetime", createdAt: "datetime" } as const;

export type StoredLayer = RowOf<typeof STORED_COLUMNS>;
type LayerFacts = RowOf<typeof FACT_COLUMNS> & { seenAt: Date };

/** What a scan says about a layer, as the Layer row stores it. */
function factsOf(l: LayerInfo, now: Date): LayerFacts {
  return {
    file: l.file,
    parent: l.parent,
    backingFile: l.backingFile,
    backingFormat: l.backingFormat,
    template: l.template,
    version: l.version,
    virtualSize: BigInt(l.virtualSize),
    clusterSize: l.clusterSize,
    fileSize: BigInt(l.fileSize),
    dirty: l.dirty,
    corrupt: l.corrupt,
    bitmaps: JSON.stringify(l.bitmaps),
    modifiedAt: new Date(l.modifiedAt),
    seenAt: now,
  };
}

function sameFacts(stored: StoredLayer, facts: LayerFacts): boolean {
  return FACT_NAMES.every((key) => {
    const a = stored[key];
    const b = facts[key];
    return a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : a === b;
  });
}

export function inBatches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The stored rows of these disks, to compare with a scan of them. */
export function storedLayerRows(tx: Prisma.TransactionClient, diskIds: readonly string[]): Promise<StoredLayer[]> {
  return selectRows(tx, "Layer", STORED_COLUMNS, "diskId", diskIds);
}

/** The writes that bring Layer rows in line with scans, gathered over any number of disks. */
export interface LayerChanges {
  created: RowOf<typeof NEW_COLUMNS>[];
  changed: { id: string; data: LayerFacts }[];
  gone: string[];
}

export function noLayerChanges(): LayerChanges {
  return { created: [], changed: [], gone: [] };
}

/** Adds to `into` what one disk's stored rows need to say what the scan found. */
export function diffLayerRows(diskId: string, stored: readonly StoredLayer[], layers: readonly LayerInfo[], now: Date, into: LayerChanges): void {
  const byName = new Map(stored.map((row) => [row.name, row]));
  const scanned = new Set(layers.map((l) => l.name));
  for (const row of stored) if (!scanned.has(row.name)) into.gone.push(row.id);
  for (const l of layers) {
    const facts = factsOf(l, now);
    const row = byName.get(l.name);
    if (!row) into.created.push({ id: newRowId(), diskId, name: l.name, ...facts, createdAt: facts.modifiedAt });
    else if (!sameFacts(row, facts)) into.changed.push({ id: row.id, data: facts });
  }
}

export async function writeLayerChanges(tx: Prisma.TransactionClient, changes: LayerChanges): Promise<void> {
  for (const ids of inBatches(changes.gone, MAX_BIND_PARAMETERS)) await tx.layer.deleteMany({ where: { id: { in: ids } } });
  for (const { id, data } of changes.changed) await tx.layer.update({ where: { id }, data, select: { id: true } });
  await insertRows(tx, "Layer", NEW_COLUMNS, changes.created);
}
