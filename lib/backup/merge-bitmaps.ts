import { readQcow2Header, type Qcow2Bitmap } from "../qcow2/header";
import { isCanopyBitmap } from "./names";
import { changeBitmap } from "../qemu/img";

/**
 * A merge deletes layers, and their bitmaps with them: the marks of writes made since the last backup would be
 * lost, and the next incremental would miss those writes. So before a merge deletes layers (offline), their
 * backup bitmaps are merged into the bitmap of the layer that receives their data: the base for a merge down
 * (commit), the top for a merge up (pull). Call these while every layer still exists, before the commit or
 * pull: merging early only adds marks, which is never wrong.
 *
 * When a bitmap cannot be carried over (in use after a crash on a merged layer, or missing on a layer stacked
 * after the bitmap existed, so that layer's writes were never tracked), the receiver must not end up with a
 * bitmap that looks complete: it is removed there, and the next backup is full (bitmap-missing).
 */

export interface MergeBitmapsResult {
  /** Bitmaps now holding the merged layers' marks on the receiver. */
  merged: string[];
  /** Bitmaps removed from the receiver because the marks could not all be carried over. */
  dropped: Array<{ bitmap: string; why: string }>;
}

/** Layers ordered from the base upward (the layer just above `base` first, the top last). */
export function mergeBitmapsBeforeCommit(input: {
  base: string;
  merged: string[];
  /** True when the base becomes the active layer (the active layer itself was merged): its bitmap records again. */
  baseBecomesActive?: boolean;
  signal?: AbortSignal;
}): Promise<MergeBitmapsResult> {
  return foldBitmaps({
    bottomToTop: [input.base, ...input.merged],
    receiver: input.base,
    recording: input.baseBecomesActive ?? false,
    signal: input.signal,
  });
}

/** Layers ordered from the bottom upward (the lowest pulled layer first, the one just below `top` last). */
export function mergeBitmapsBeforePull(input: { top: string; pulled: string[]; signal?: AbortSignal }): Promise<MergeBitmapsResult> {
  return foldBitmaps({
    bottomToTop: [...input.pulled, input.top],
    receiver: input.top,
    recording: null,
    signal: input.signal,
  });
}

async function foldBitmaps(input: {
  bottomToTop: string[];
  receiver: string;
  /** The receiver's bitmap should record (true), be frozen (false), or keep its state (null). */
  recording: boolean | null;
  signal?: AbortSignal;
}): Promise<MergeBitmapsResult> {
  const opts = { signal: input.signal };
  const headers = await Promise.all(input.bottomToTop.map((f) => readQcow2Header(f)));
  const bitmapsOf = new Map(input.bottomToTop.map((f, i) => [f, headers[i]!.bitmaps.filter((b) => isCanopyBitmap(b.name))]));
  const names = new Set([...bitmapsOf.values()].flat().map((b) => b.name));
  const result: MergeBitmapsResult = { merged: [], dropped: [] };

  for (const name of [...names].sort()) {
    const find = (file: string): Qcow2Bitmap | undefined => bitmapsOf.get(file)!.find((b) => b.name === name);
    const onReceiver = find(input.receiver);
    const sources = input.bottomToTop.filter((f) => f !== input.receiver && find(f));
    const why = whyNotCarried(input.bottomToTop, input.receiver, find);
    if (why) {
      if (onReceiver) await changeBitmap(input.receiver, name, { op: "remove" }, opts);
      result.dropped.push({ bitmap: name, why });
      continue;
    }
    if (sources.length === 0) continue; // only the receiver has it: nothing to carry
    if (!onReceiver) {
      const granularity = find(sources[0]!)?.granularity;
      await changeBitmap(input.receiver, name, { op: "add", granularity }, opts);
      // A new bitmap records; a receiver that stays below the active layer must be frozen like its peers.
      if (input.recording !== true) await changeBitmap(input.receiver, name, { op: "disable" }, opts);
    }
    for (const source of sources) await changeBitmap(input.receiver, name, { op: "merge", source: name, from: source }, opts);
    if (input.recording === true && onReceiver && !onReceiver.auto) {
      await changeBitmap(input.receiver, name, { op: "enable" }, opts);
    }
    result.merged.push(name);
  }
  return result;
}

/** Why the marks of one bitmap cannot all reach the receiver, or null when they can. */
function whyNotCarried(
  bottomToTop: string[],
  receiver: string,
  find: (file: string) => Qcow2Bitmap | undefined,
): string | null {
  const lowest = bottomToTop.findIndex((f) => find(f) !== undefined);
  for (const [i, file] of bottomToTop.entries()) {
    const bitmap = find(file);
    if (bitmap?.inUse) return `in use on ${file} (left by a crash)`;
    // Below the first layer holding it, a layer predates the bitmap; above it, a layer without it was never tracked.
    // The receiver of a merge down is the bottom and may lack it: it gets it now.
    if (!bitmap && i > lowest && file !== receiver) return `missing on ${file}, stacked after the bitmap existed`;
    if (!bitmap && i > lowest && file === receiver) return `missing on ${file}, the layer receiving the data`;
  }
  return null;
}
