import "server-only";
import { scanStorageRoot } from "@/lib/inventory/scan";
import type { DiskInventory, ScanResult } from "@/lib/inventory/types";
import { chooseActiveLeaf } from "@/lib/tree/active";
import { getDb } from "./db";
import { writeTransaction } from "./db-retry";
import { loadConfig } from "./config";

/**
 * Records what a scan found: one Disk row per disk folder, one Layer row per layer. Canopy's own facts
 * (active leaf, protection, descriptions, first-seen time) survive a rescan; a disk whose folder is gone is
 * dropped (its jobs keep their history).
 */
export async function scanAndRecord(root = loadConfig().storageRoot): Promise<ScanResult> {
  const result = await scanStorageRoot(root);
  const db = getDb();
  const now = new Date();
  for (const disk of result.disks) await recordDisk(disk, now);
  await db.disk.deleteMany({ where: { name: { notIn: result.disks.map((d) => d.name) } } });
  return result;
}

export async function recordDisk(disk: DiskInventory, now = new Date()): Promise<void> {
  const db = getDb();
  await writeTransaction(db, async (tx) => {
    const existing = await tx.disk.findUnique({ where: { name: disk.name } });
    const activeLayer = chooseActiveLeaf(disk.layers, existing?.activeLayer ?? null);
    const row = await tx.disk.upsert({
      where: { name: disk.name },
      create: { name: disk.name, folder: disk.folder, activeLayer, problems: JSON.stringify(disk.problems), scannedAt: now },
      update: { folder: disk.folder, activeLayer, problems: JSON.stringify(disk.problems), scannedAt: now },
    });
    for (const l of disk.layers) {
      const facts = {
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
      await tx.layer.upsert({
        where: { diskId_name: { diskId: row.id, name: l.name } },
        create: { diskId: row.id, name: l.name, ...facts, createdAt: new Date(l.modifiedAt) },
        update: facts,
      });
    }
    await tx.layer.deleteMany({ where: { diskId: row.id, name: { notIn: disk.layers.map((l) => l.name) } } });
  });
}
