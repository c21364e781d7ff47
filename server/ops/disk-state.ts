import "server-only";
import { resolveDiskFolder } from "@/lib/inventory/paths";
import { scanDisk } from "@/lib/inventory/scan";
import type { DiskState } from "@/lib/ops/types";
import { getDb } from "../db";
import { loadConfig } from "../config";
import { recordDisk } from "../sync-inventory";

/**
 * The planner's view of a disk, read fresh: the files' headers now (never a stale database row), joined with
 * Canopy's records (active leaf, protection).
 */
export async function loadDiskState(disk: string, root = loadConfig().storageRoot): Promise<DiskState> {
  // Only a folder the scan lists as a disk: not templates/, not a link to a folder anywhere.
  await resolveDiskFolder(root, disk);
  const inventory = await scanDisk(root, disk);
  await recordDisk(inventory);
  const row = await getDb().disk.findUniqueOrThrow({ where: { name: disk }, include: { layers: true } });
  return {
    name: disk,
    layers: inventory.layers,
    active: row.activeLayer,
    protected: new Set(row.layers.filter((l) => l.protected).map((l) => l.name)),
    problems: inventory.problems,
  };
}
