import "server-only";
import { CanopyError } from "@/lib/errors";
import type { StepEffects } from "@/lib/ops/step-context";
import { getDb } from "../db";
import { rescanDisk } from "../sync-inventory";

/** The database side of plan steps: Canopy's own records about layers. */
export function stepEffects(root: string, disk: string): StepEffects {
  const db = getDb();
  const layerWhere = async (layer: string) => {
    // A layer created by an earlier step has no row yet: record the disk as it is now first.
    await rescanDisk(root, disk);
    const row = await db.disk.findUniqueOrThrow({ where: { name: disk } });
    return { diskId_name: { diskId: row.id, name: layer } };
  };
  return {
    async setActive(layer, expected) {
      if (!expected) {
        await db.disk.update({ where: { name: disk }, data: { activeLayer: layer } });
        return;
      }
      // One conditional write: the record moves from what the admin confirmed to the new layer, or not at all.
      const moved = await db.disk.updateMany({ where: { name: disk, activeLayer: expected.from }, data: { activeLayer: layer } });
      if (moved.count === 1) return;
      const now = (await db.disk.findUnique({ where: { name: disk }, select: { activeLayer: true } }))?.activeLayer ?? null;
      if (now === layer) return;
      throw new CanopyError(
        "failed",
        `the active layer of ${disk} is ${now ?? "not recorded"} now, not ${expected.from ?? "unrecorded"} as the plan saw; nothing was changed. Plan the operation again`,
      );
    },
    async setProtected(layer, value) {
      await db.layer.update({ where: await layerWhere(layer), data: { protected: value } });
    },
    async setDescription(layer, description) {
      await db.layer.update({ where: await layerWhere(layer), data: { description } });
    },
  };
}
