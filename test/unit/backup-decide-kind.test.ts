import { describe, expect, it } from "vitest";
import { decideKind, type DecideKindInput } from "@/lib/backup/decide-kind";
import type { ChainManifest, LayerState } from "@/lib/backup/types";
import { GiB, makeChain } from "../support/backup-fixtures";

/**
 * The full-or-incremental decision on hand-made states: each reason, the order in which they win, and the
 * bitmap range an incremental merges across snapshots and merges.
 */

const chain = makeChain(1, 2, { sourceLayer: "A" });
const bm = chain.bitmap;
const on = (name = bm, extra: Partial<LayerState["bitmaps"][number]> = {}) => ({ name, inUse: false, auto: true, ...extra });
const frozen = (name = bm) => on(name, { auto: false });

/** base <- A <- B <- C (active), bitmap handed over at each snapshot; X is a branch on A. */
function layers(overrides: Record<string, Partial<LayerState>> = {}): LayerState[] {
  const list: LayerState[] = [
    { name: "base", parent: null, virtualSize: GiB, bitmaps: [] },
    { name: "A", parent: "base", virtualSize: GiB, bitmaps: [frozen()] },
    { name: "B", parent: "A", virtualSize: GiB, bitmaps: [frozen()] },
    { name: "C", parent: "B", virtualSize: GiB, bitmaps: [on()] },
    { name: "X", parent: "A", virtualSize: GiB, bitmaps: [on()] },
  ];
  return list.map((l) => ({ ...l, ...overrides[l.name] }));
}

const decide = (over: Partial<DecideKindInput> = {}) => decideKind({ chain, layers: layers(), active: "C", ...over });

describe("decideKind", () => {
  it("is incremental across snapshots, merging every layer from the active one down to the last backed-up one", () => {
    const d = decide();
    expect(d).toMatchObject({ kind: "incremental", reason: "incremental", chainId: chain.chainId, bitmap: bm });
    if (d.kind !== "incremental") return;
    expect(d.bitmapLayers).toEqual(["C", "B", "A"]);
    expect(d.parent.id).toBe(chain.backups[2]!.id);
  });

  it("first-backup without a chain, or a chain with no backup", () => {
    expect(decide({ chain: null })).toMatchObject({ kind: "full", reason: "first-backup" });
    expect(decide({ chain: { ...chain, backups: [] } })).toMatchObject({ kind: "full", reason: "first-backup" });
  });

  it("requested-full", () => {
    expect(decide({ requestedFull: true })).toMatchObject({ kind: "full", reason: "requested-full" });
  });

  it("disk-resized when the active layer's size differs from the last backup's", () => {
    expect(decide({ layers: layers({ C: { virtualSize: 2 * GiB } }) })).toMatchObject({ kind: "full", reason: "disk-resized" });
  });

  it("disk-reverted when the active layer is not stacked on the last backed-up layer", () => {
    const reverted = [...layers(), { name: "A-2", parent: "A", virtualSize: GiB, bitmaps: [on()] }];
    expect(decide({ layers: reverted, active: "A-2", chain: makeChain(1, 0, { sourceLayer: "C" }) })).toMatchObject({
      kind: "full",
      reason: "disk-reverted",
    });
    // A sibling branch is not a descendant either.
    expect(decide({ active: "X", chain: makeChain(1, 0, { sourceLayer: "B" }) })).toMatchObject({ reason: "disk-reverted" });
  });

  it("a layer removed by a merge is followed to the layer that received its data", () => {
    // B was merged down into A: the range is C, A.
    const merged = layers({ C: { parent: "A" } }).filter((l) => l.name !== "B");
    const last = makeChain(1, 1, { sourceLayer: "B" });
    const lastBm = last.bitmap;
    const withBm = merged.map((l) => ({ ...l, bitmaps: l.bitmaps.map((b) => ({ ...b, name: lastBm })) }));
    const d = decideKind({ chain: last, layers: withBm, active: "C", mergedInto: { B: "A" } });
    expect(d).toMatchObject({ kind: "incremental", bitmapLayers: ["C", "A"] });
    // Without the history, a vanished layer reads as a revert: full, never a guess.
    expect(decideKind({ chain: last, layers: withBm, active: "C" })).toMatchObject({ reason: "disk-reverted" });
    // Chains of merges are followed; a loop in the history is not.
    expect(decideKind({ chain: last, layers: withBm, active: "C", mergedInto: { B: "Q", Q: "A" } }).kind).toBe("incremental");
    expect(decideKind({ chain: last, layers: withBm, active: "C", mergedInto: { B: "Q", Q: "B" } }).reason).toBe("disk-reverted");
  });

  it("bitmap-missing when any layer of the range lacks the chain's bitmap (a snapshot without hand-over)", () => {
    const d = decide({ layers: layers({ B: { bitmaps: [] } }) });
    expect(d).toMatchObject({ kind: "full", reason: "bitmap-missing" });
    expect(d.detail).toContain("layer B");
    // Another chain's bitmap does not count.
    expect(decide({ layers: layers({ C: { bitmaps: [on("canopy-other")] } }) }).reason).toBe("bitmap-missing");
  });

  it("bitmap-inconsistent when a bitmap of the range is in use (a crash) or the active one is disabled", () => {
    expect(decide({ layers: layers({ A: { bitmaps: [on(bm, { inUse: true, auto: false })] } }) }).reason).toBe("bitmap-inconsistent");
    expect(decide({ layers: layers({ C: { bitmaps: [frozen()] } }) }).reason).toBe("bitmap-inconsistent");
  });

  it("previous-failed-or-unverified after a failed or unfinished attempt, or a backup not verified ok", () => {
    const failed: ChainManifest = {
      ...chain,
      attempt: { id: "x", kind: "incremental", startedAt: chain.createdAt, state: "failed", endedAt: null, error: "disk full" },
    };
    expect(decide({ chain: failed })).toMatchObject({ reason: "previous-failed-or-unverified" });
    expect(decide({ chain: { ...failed, attempt: { ...failed.attempt!, state: "running" } } }).reason).toBe(
      "previous-failed-or-unverified",
    );
    for (const status of ["failed", "pending"] as const) {
      const bad = makeChain(1, 2, { sourceLayer: "A", verify: (seq) => (seq === 1 ? status : "ok") });
      expect(decideKind({ chain: bad, layers: layers().map(renameBitmaps(bad.bitmap)), active: "C" }).reason).toBe(
        "previous-failed-or-unverified",
      );
    }
  });

  it("policy: with a limit of 3 the 4th backup after a full is full; the default 63 makes the 64th full", () => {
    for (const [incrementals, limit, kind] of [
      [2, 3, "incremental"],
      [3, 3, "full"],
      [62, undefined, "incremental"],
      [63, undefined, "full"],
    ] as const) {
      const c = makeChain(1, incrementals, { sourceLayer: "C" });
      const d = decideKind({
        chain: c,
        layers: layers().map(renameBitmaps(c.bitmap)),
        active: "C",
        policy: limit === undefined ? undefined : { maxIncrementals: limit },
      });
      expect(d.kind, `${incrementals} incrementals, limit ${limit ?? "default"}`).toBe(kind);
      if (kind === "full") expect(d.reason).toBe("policy");
    }
  });

  it("orders reasons from the disk's facts to the repository's to policy", () => {
    const worst: ChainManifest = {
      ...makeChain(1, 63, { sourceLayer: "A" }),
      attempt: { id: "x", kind: "incremental", startedAt: chain.createdAt, state: "failed", endedAt: null, error: null },
    };
    const crashed = layers({ C: { bitmaps: [on(worst.bitmap, { inUse: true })] } }).map(renameBitmaps(worst.bitmap));
    expect(decideKind({ chain: worst, layers: crashed, active: "C" }).reason).toBe("bitmap-inconsistent");
    expect(decideKind({ chain: worst, layers: crashed, active: "C", requestedFull: true }).reason).toBe("requested-full");
  });

  it("refuses an active layer it does not know", () => {
    expect(() => decide({ active: "nope" })).toThrow(/not among/);
  });
});

function renameBitmaps(name: string) {
  return (l: LayerState): LayerState => ({ ...l, bitmaps: l.bitmaps.map((b) => ({ ...b, name })) });
}
