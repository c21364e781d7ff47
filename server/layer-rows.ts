import "server-only";
import type { LayerInfo } from "@/lib/inventory/types";
import type { Layer, Prisma } from "./generated/prisma/client";

/**
 * Brings a disk's Layer rows in line with what a scan found, in statements of bounded size: Prisma refuses a
 * statement with more bind parameters than it allows the provider (999 on SQLite, 32766 on PostgreSQL), and a
 * disk can have thousands of layers. Only rows whose facts changed are rewritten, so a rescan of an unchanged
 * disk costs a read and one update however large the disk is.
 */

/** Bind parameters per statement: under SQLite's 999, the lower of the two limits. */
export const MAX_BIND_PARAMETERS = 900;

type LayerFacts = Omit<Prisma.LayerUncheckedCreateInput, "id" | "diskId" | "name" | "protected" | "description" | "createdAt">;

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

/** The stored columns a scan can change; seenAt is left out, as every row gets it in one statement. */
const FACT_COLUMNS = [
  "file",
  "parent",
  "backingFile",
  "backingFormat",
  "template",
  "version",
  "virtualSize",
  "clusterSize",
  "fileSize",
  "dirty",
  "corrupt",
  "bitmaps",
  "modifiedAt",
] as const;

type StoredLayer = Pick<Layer, "id" | "name" | (typeof FACT_COLUMNS)[number]>;

function sameFacts(stored: StoredLayer, facts: LayerFacts): boolean {
  return FACT_COLUMNS.every((key) => {
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

export async function syncLayerRows(tx: Prisma.TransactionClient, diskId: string, layers: readonly LayerInfo[], now: Date): Promise<void> {
  const select = Object.fromEntries(["id", "name", ...FACT_COLUMNS].map((k) => [k, true])) as Record<keyof StoredLayer, true>;
  const stored = new Map((await tx.layer.findMany({ where: { diskId }, select })).map((row) => [row.name, row]));
  const scanned = new Set(layers.map((l) => l.name));

  const gone = [...stored.values()].filter((row) => !scanned.has(row.name)).map((row) => row.id);
  for (const ids of inBatches(gone, MAX_BIND_PARAMETERS)) await tx.layer.deleteMany({ where: { id: { in: ids } } });

  const created: Prisma.LayerCreateManyInput[] = [];
  for (const l of layers) {
    const facts = factsOf(l, now);
    const row = stored.get(l.name);
    if (!row) created.push({ diskId, name: l.name, ...facts, createdAt: facts.modifiedAt });
    else if (!sameFacts(row, facts)) await tx.layer.update({ where: { id: row.id }, data: facts });
  }
  // Every column of a new row is a parameter: the row's width sets how many rows fit in a statement.
  const perRow = Object.keys(created[0] ?? {}).length + 1;
  for (const rows of inBatches(created, Math.floor(MAX_BIND_PARAMETERS / perRow))) await tx.layer.createMany({ data: rows });

  // The rows left as they were were seen too; one statement marks them all.
  await tx.layer.updateMany({ where: { diskId, seenAt: { lt: now } }, data: { seenAt: now } });
}
