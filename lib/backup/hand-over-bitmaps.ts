import { readQcow2Header } from "../qcow2/header";
import { isCanopyBitmap } from "./names";
import { changeBitmap } from "../qemu/img";

/**
 * Bitmaps do not follow a new overlay: after a snapshot the guest writes into the overlay, and a bitmap left on
 * the old layer records nothing. So a snapshot made offline calls this between creating the overlay and
 * letting anything write to it: each backup bitmap that is recording on the old active layer gets a fresh twin
 * on the overlay, and the old one is frozen (its marks, the writes since the last backup up to the snapshot,
 * are still needed: the next incremental merges them). A live snapshot must do the same inside its own QMP
 * transaction (block-dirty-bitmap-add on the overlay + block-dirty-bitmap-disable on the old node).
 *
 * Safe to repeat: a twin that exists is kept, an old bitmap already frozen stays so. A bitmap left in use by a
 * crash is not handed over; the next backup is full anyway (bitmap-inconsistent).
 */

export interface HandOverResult {
  handedOver: string[];
  skipped: Array<{ bitmap: string; why: string }>;
}

export async function handOverBitmapsOffline(
  oldActive: string,
  newOverlay: string,
  opts: { signal?: AbortSignal } = {},
): Promise<HandOverResult> {
  const [old, overlay] = await Promise.all([readQcow2Header(oldActive), readQcow2Header(newOverlay)]);
  const result: HandOverResult = { handedOver: [], skipped: [] };
  for (const bitmap of old.bitmaps.filter((b) => isCanopyBitmap(b.name))) {
    if (bitmap.inUse) {
      result.skipped.push({ bitmap: bitmap.name, why: "in use (left by a crash): unusable, the next backup is full" });
      continue;
    }
    const twin = overlay.bitmaps.find((b) => b.name === bitmap.name);
    if (!bitmap.auto && !twin) {
      result.skipped.push({ bitmap: bitmap.name, why: "not recording on the old layer" });
      continue;
    }
    // The twin first: a crash between the two steps leaves both recording, which loses nothing.
    if (!twin) await changeBitmap(newOverlay, bitmap.name, { op: "add", granularity: bitmap.granularity }, opts);
    if (bitmap.auto) await changeBitmap(oldActive, bitmap.name, { op: "disable" }, opts);
    result.handedOver.push(bitmap.name);
  }
  return result;
}
