import type { QmpClient } from "../qmp/client";
import { QmpError } from "../qmp/errors";
import type { TransactionAction } from "../qmp/types";
import type { LiveNode } from "./inspect";

/**
 * Dirty bitmaps across changes of the chain. A persistent bitmap lives in one layer's file and records writes
 * to that node only, so a chain change would silently stop or lose tracking that incremental backups rely on
 * (qemu.md: "Bitmaps do NOT follow a new overlay"). The rule kept here: the active layer always carries a
 * recording bitmap of every tracked name, and a layer leaving the active chain first hands its history to a
 * layer that stays. Merging only ever adds dirty bits, so a backup may copy more than needed, never less.
 */

/** Only named, persistent bitmaps are Canopy's business; QEMU's own (a mirror's) are anonymous and transient. */
function tracked(node: LiveNode) {
  return node.bitmaps.filter((b) => b.persistent);
}

/**
 * Live snapshot: in the same transaction as blockdev-snapshot, every recording persistent bitmap of the old
 * active gets a same-named persistent twin on the overlay, and is frozen (disabled), so no write between the
 * two is untracked and the old layer's bitmap keeps exactly the writes made while it was active.
 */
export function snapshotBitmapActions(oldActive: LiveNode, overlay: string): TransactionAction[] {
  return tracked(oldActive)
    .filter((b) => b.recording)
    .flatMap((b): TransactionAction[] => [
      { type: "block-dirty-bitmap-add", data: { node: overlay, name: b.name, persistent: true, granularity: b.granularity } },
      { type: "block-dirty-bitmap-disable", data: { node: oldActive.name, name: b.name } },
    ]);
}

/**
 * Layers leaving the active chain (merged by a commit, skipped by a pull) hand their bitmaps to `into`: merged
 * into its same-named bitmap. `into` must be writable at that moment (the active layer, or a commit's base
 * while the job runs: QEMU refuses to merge into a bitmap of a read-only node, "Bitmap is readonly").
 *
 * With `takeOver` (an active commit's base about to become the active layer), a name `into` lacks is added,
 * and every name that was recording on the leaving active is enabled on `into`, so tracking carries on
 * across the pivot. Without it, names `into` does not have are skipped and reported.
 */
export function foldBitmapActions(
  leaving: LiveNode[],
  into: LiveNode,
  options: { takeOver: boolean },
): { actions: TransactionAction[]; skipped: string[] } {
  const actions: TransactionAction[] = [];
  const skipped: string[] = [];
  const have = new Map(tracked(into).map((b) => [b.name, b]));
  const sources = new Map<string, Array<{ node: string; name: string }>>();
  const recording = new Set<string>();
  const granularity = new Map<string, number>();
  for (const node of leaving) {
    for (const b of tracked(node)) {
      const list = sources.get(b.name) ?? [];
      list.push({ node: node.name, name: b.name });
      sources.set(b.name, list);
      if (b.recording) recording.add(b.name);
      if (!granularity.has(b.name)) granularity.set(b.name, b.granularity);
    }
  }
  for (const [name, from] of sources) {
    const existing = have.get(name);
    if (!existing) {
      if (!options.takeOver) {
        skipped.push(name);
        continue;
      }
      // Added disabled, merged, then enabled below if it recorded: no window in which writes go unrecorded,
      // since the transaction is atomic against guest I/O.
      actions.push({
        type: "block-dirty-bitmap-add",
        data: { node: into.name, name, persistent: true, granularity: granularity.get(name), disabled: true },
      });
    }
    actions.push({ type: "block-dirty-bitmap-merge", data: { node: into.name, target: name, bitmaps: from } });
    if (options.takeOver && recording.has(name) && !existing?.recording) {
      actions.push({ type: "block-dirty-bitmap-enable", data: { node: into.name, name } });
    }
  }
  return { actions, skipped };
}

/** Bitmaps are bookkeeping for backups: failing to carry them is reported, and the data operation goes on. */
export async function applyBitmapActions(
  client: QmpClient,
  actions: TransactionAction[],
  call: { timeoutMs?: number } = {},
): Promise<string[]> {
  if (actions.length === 0) return [];
  try {
    await client.execute("transaction", { actions }, call);
    return [];
  } catch (err) {
    if (!(err instanceof QmpError)) throw err;
    return [`dirty bitmaps not carried over (${err.desc}): the next backup of this disk must be a full one`];
  }
}
