import "server-only";
import { scanDisk } from "@/lib/inventory/scan";
import type { StepEffects } from "@/lib/ops/step-context";
import { getDb } from "../db";
import { recordDisk } from "../sync-inventory";

/** The database side of plan steps: Canopy's own records about layers. */
export function stepEffects(root: string, disk: string): StepEffects {
  const db = getDb();
  const layerWhere = async (layer: string) => {
    // A layer created by an earlier step has no row yet: record the disk as it is now first.
    await recordDisk(await scanDisk(root, disk));
    const row = await db.disk.findUniqueOrThrow({ where: { name: disk } });
    return { diskId_name: { diskId: row.id, name: layer } };
  };
  return {
    async setActive(layer) {
      await db.disk.update({ where: { name: disk }, data: { activeLayer: layer } });
    },
    async setProtected(layer, value) {
      await db.layer.update({ where: await layerWhere(layer), data: { protected: value } });
    },
    async setDescription(layer, description) {
      await db.layer.update({ where: await layerWhere(layer), data: { description } });
    },
  };
}
