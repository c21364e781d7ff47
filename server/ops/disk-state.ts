import "server-only";
import { resolveDiskFolder } from "@/lib/inventory/paths";
import type { DiskState } from "@/lib/ops/types";
import { getDb } from "../db";
import { loadConfig } from "../config";
import { rescanDisk } from "../sync-inventory";

/**
 * The planner's view of a disk, read fresh: the files' headers now (never a stale database row), joined with
 * Canopy's records (active leaf, protection, whether a QEMU process holds the disk).
 */
export async function loadDiskState(disk: string, root = loadConfig().storageRoot): Promise<DiskState> {
  // Only a folder the scan lists as a disk: not templates/, not a link to a folder anywhere.
  await resolveDiskFolder(root, disk);
  const inventory = await rescanDisk(root, disk);
  const row = await getDb().disk.findUniqueOrThrow({ where: { name: disk }, include: { layers: true } });
  return {
    name: disk,
    layers: inventory.layers,
    active: row.activeLayer,
    protected: new Set(row.layers.filter((l) => l.protected).map((l) => l.name)),
    problems: inventory.problems,
    running: row.status === "running",
  };
}
