import type { BlockDirtyInfo, TransactionAction } from "../qmp/types";
import { isCanopyBitmap } from "./names";

/**
 * The live twin of handOverBitmapsOffline, for the snapshot code to put in ITS OWN transaction, next to
 * `blockdev-snapshot`: for each backup bitmap recording on the old active node, the same bitmap is added
 * (persistent) on the overlay and the old one is disabled. In one transaction with the snapshot, no guest
 * write falls between the two (a write after the pivot lands in the overlay, which is already tracked).
 *
 * Pure: give it the old node's `dirty-bitmaps` from query-named-block-nodes.
 */
export function liveHandOverActions(
  oldNodeBitmaps: readonly BlockDirtyInfo[],
  oldNode: string,
  overlayNode: string,
): TransactionAction[] {
  const actions: TransactionAction[] = [];
  for (const b of oldNodeBitmaps) {
    // An inconsistent bitmap cannot be disabled (only removed), and is worthless: the next backup is full anyway.
    if (!b.name || !isCanopyBitmap(b.name) || !b.persistent || !b.recording || b.inconsistent) continue;
    actions.push(
      { type: "block-dirty-bitmap-add", data: { node: overlayNode, name: b.name, persistent: true, granularity: b.granularity } },
      { type: "block-dirty-bitmap-disable", data: { node: oldNode, name: b.name } },
    );
  }
  return actions;
}
