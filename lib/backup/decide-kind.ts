import { CanopyError } from "../errors";
import {
  DEFAULT_POLICY,
  type BackupPolicy,
  type BackupRecord,
  type ChainManifest,
  type KindReason,
  type LayerState,
} from "./types";

/**
 * Full or incremental, and why. Pure: everything comes in as arguments (the chain's manifest, the disk's layers
 * with their bitmaps, Canopy's own history of merges), so the same answer can be shown before a backup runs.
 *
 * An incremental is correct only if every guest write since the last backup is marked in the chain's bitmap
 * on some layer between the active one and the layer that was active at the last backup (inclusive): a
 * snapshot hands the bitmap to the new overlay and freezes the old one, so the marks are spread over that range.
 * The checks go from facts about the disk to facts about the repository to policy; the first that applies is
 * the reason.
 */

export interface DecideKindInput {
  /** The chain the backup would continue (the disk's newest chain holding a backup), or null. */
  chain: ChainManifest | null;
  layers: readonly LayerState[];
  active: string;
  policy?: Partial<BackupPolicy>;
  requestedFull?: boolean;
  /**
   * Layers that merges removed since, each mapped to the layer that received its data (a merge down: the
   * base; a merge up: the top), from Canopy's history. Without it a removed layer reads as a revert.
   */
  mergedInto?: Readonly<Record<string, string>>;
}

export type FullReason = Exclude<KindReason, "incremental">;

export type KindDecision =
  | { kind: "full"; reason: FullReason; detail: string }
  | {
      kind: "incremental";
      reason: "incremental";
      detail: string;
      chainId: string;
      bitmap: string;
      /** The backup the incremental is stacked on: the chain's newest. */
      parent: BackupRecord;
      /** Layers whose bitmaps together hold every write since the last backup, active first. */
      bitmapLayers: string[];
    };

const full = (reason: FullReason, detail: string): KindDecision => ({ kind: "full", reason, detail });

export function decideKind(input: DecideKindInput): KindDecision {
  const { chain, layers, active } = input;
  const byName = new Map(layers.map((l) => [l.name, l]));
  const activeLayer = byName.get(active);
  if (!activeLayer) throw new CanopyError("invalid-input", `the active layer ${active} is not among the disk's layers`);

  const last = chain?.backups.at(-1);
  if (!chain || !last) return full("first-backup", "the disk has no backup yet");
  if (input.requestedFull) return full("requested-full", "a full backup was asked for");

  if (activeLayer.virtualSize !== last.virtualSize) {
    return full(
      "disk-resized",
      `the disk is ${activeLayer.virtualSize} bytes now, ${last.virtualSize} bytes at the last backup`,
    );
  }

  const since = resolveLayer(last.sourceLayer, byName, input.mergedInto ?? {});
  const range = since === null ? null : rangeDownTo(active, since, byName);
  if (range === null) {
    const where =
      since === null
        ? `the layer backed up last time (${last.sourceLayer}) no longer exists`
        : `${active} is not ${since}, the layer backed up last time, nor stacked on it`;
    return full("disk-reverted", `${where}: the content may have gone back to an older state`);
  }

  for (const name of range) {
    const bitmap = byName.get(name)?.bitmaps.find((b) => b.name === chain.bitmap);
    if (!bitmap) return full("bitmap-missing", `layer ${name} has no bitmap ${chain.bitmap}: its writes were not tracked`);
    if (bitmap.inUse) {
      return full(
        "bitmap-inconsistent",
        `bitmap ${chain.bitmap} on layer ${name} is inconsistent (left in use by a process that did not close it)`,
      );
    }
    if (name === active && !bitmap.auto) {
      return full("bitmap-inconsistent", `bitmap ${chain.bitmap} on the active layer ${name} is disabled: it records no writes`);
    }
  }

  if (chain.attempt) {
    return full(
      "previous-failed-or-unverified",
      `backup ${chain.attempt.id} ${chain.attempt.state === "failed" ? `failed (${chain.attempt.error ?? "no reason recorded"})` : "did not finish"}`,
    );
  }
  const unverified = chain.backups.find((b) => b.verify.status !== "ok");
  if (unverified) {
    return full(
      "previous-failed-or-unverified",
      `backup ${unverified.id} ${unverified.verify.status === "failed" ? `failed verification: ${unverified.verify.problems.join("; ")}` : "was never verified"}`,
    );
  }

  const maxIncrementals = input.policy?.maxIncrementals ?? DEFAULT_POLICY.maxIncrementals;
  const incrementals = chain.backups.length - 1;
  if (incrementals >= maxIncrementals) {
    return full("policy", `${incrementals} incrementals since the last full (the limit is ${maxIncrementals})`);
  }

  return {
    kind: "incremental",
    reason: "incremental",
    detail:
      range.length === 1
        ? `changes tracked on ${active} since backup ${last.id}`
        : `changes tracked on ${range.join(", ")} since backup ${last.id}`,
    chainId: chain.chainId,
    bitmap: chain.bitmap,
    parent: last,
    bitmapLayers: range,
  };
}

/** Follows removed layers to where their data went; null when the trail ends at nothing that exists. */
function resolveLayer(
  name: string,
  byName: ReadonlyMap<string, LayerState>,
  mergedInto: Readonly<Record<string, string>>,
): string | null {
  const seen = new Set<string>();
  let cur: string | undefined = name;
  while (cur !== undefined && !byName.has(cur)) {
    if (seen.has(cur)) return null;
    seen.add(cur);
    cur = mergedInto[cur];
  }
  return cur ?? null;
}

/** The layers from `top` down its backing chain to `bottom`, both included; null when bottom is not on it. */
function rangeDownTo(top: string, bottom: string, byName: ReadonlyMap<string, LayerState>): string[] | null {
  const range: string[] = [];
  for (let cur = byName.get(top); cur; cur = cur.parent === null ? undefined : byName.get(cur.parent)) {
    if (range.includes(cur.name)) return null; // a backing loop: the scan reports it; never guess through one
    range.push(cur.name);
    if (cur.name === bottom) return range;
  }
  return null;
}
