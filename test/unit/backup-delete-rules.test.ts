import { describe, expect, it } from "vitest";
import { planDeletion, planRetention } from "@/lib/backup/delete-rules";
import { parseManifest } from "@/lib/backup/manifest";
import { makeChain } from "../support/backup-fixtures";

/** Deletion rules and retention on hand-made manifests; and the manifest parser's own consistency rules. */

const old = makeChain(1, 3); // full + 3 incrementals
const newer = makeChain(2, 1);
const id = (c: typeof old, seq: number) => c.backups[seq]!.id;

describe("planDeletion", () => {
  it("refuses anything of the newest chain: the next incremental builds on it", () => {
    for (const request of [{ chainId: newer.chainId }, { backupIds: [id(newer, 1)] }]) {
      const plan = planDeletion([old, newer], request);
      expect(plan.allowed).toBe(false);
      if (plan.allowed) return;
      expect(plan.reason).toMatch(/no newer full backup/);
      expect(plan.dependents).toEqual([{ backup: "(the next incremental)", dependsOn: id(newer, 1) }]);
    }
  });

  it("takes what is stacked on a backup along, and the whole chain with its full, once a newer full is verified", () => {
    expect(planDeletion([old, newer], { backupIds: [id(old, 1)] })).toMatchObject({
      allowed: true,
      chains: [],
      backups: [{ id: id(old, 3) }, { id: id(old, 2) }, { id: id(old, 1) }],
      along: [id(old, 2), id(old, 3)],
      summary: expect.stringContaining(`${id(old, 2)}, ${id(old, 3)} go along`),
    });
    // The full alone: the whole chain goes.
    expect(planDeletion([old, newer], { backupIds: [id(old, 0)] })).toMatchObject({
      allowed: true,
      chains: [old.chainId],
      along: [id(old, 1), id(old, 2), id(old, 3)],
      bytes: 1000 + 1001 + 1002 + 1003,
    });
  });

  it("a refusal for want of a newer full names what is stacked on the backup and offers the way", () => {
    const plan = planDeletion([old], { backupIds: [id(old, 1)] });
    expect(plan.allowed).toBe(false);
    if (plan.allowed) return;
    expect(plan.reason).toContain(`canopy backup ${old.disk} --full`);
    expect(plan.reason).toContain(`${id(old, 2)}, ${id(old, 3)} depend on it`);
    const full = planDeletion([old], { backupIds: [id(old, 0)] });
    expect(!full.allowed && full.reason).toMatch(/the whole chain$/);
  });

  it("allows the tip of an older chain, a tail, or a whole chain once a newer full is verified", () => {
    expect(planDeletion([old, newer], { backupIds: [id(old, 3)] })).toMatchObject({
      allowed: true,
      chains: [],
      backups: [{ id: id(old, 3), file: "0003-incremental.qcow2" }],
    });
    expect(planDeletion([old, newer], { backupIds: [id(old, 3), id(old, 2)] })).toMatchObject({
      allowed: true,
      backups: [{ id: id(old, 3) }, { id: id(old, 2) }],
    });
    const whole = planDeletion([old, newer], { chainId: old.chainId });
    expect(whole).toMatchObject({ allowed: true, chains: [old.chainId], bytes: 1000 + 1001 + 1002 + 1003 });
    // Naming every backup is the same as naming the chain.
    expect(planDeletion([old, newer], { backupIds: old.backups.map((b) => b.id) })).toMatchObject({ chains: [old.chainId] });
  });

  it("a newer full that failed verification does not count", () => {
    const badNewer = makeChain(2, 0, { verify: () => "failed" });
    expect(planDeletion([old, badNewer], { chainId: old.chainId }).allowed).toBe(false);
  });

  it("unknown names are refused", () => {
    expect(planDeletion([old], { chainId: "nope" }).allowed).toBe(false);
    expect(planDeletion([old], { backupIds: ["nope"] }).allowed).toBe(false);
    expect(planDeletion([old], { backupIds: [] }).allowed).toBe(false);
  });
});

describe("planRetention", () => {
  const c1 = makeChain(1, 2);
  const c2 = makeChain(2, 0);
  const broken = makeChain(3, 1, { verify: (seq) => (seq === 1 ? "failed" : "ok") });
  const c4 = makeChain(4, 1);

  it("keeps the newest N usable chains and previews the older ones, whole", () => {
    const preview = planRetention([c1, c2, broken, c4], { keepChains: 2 });
    // The broken chain is newer than the 2nd usable one (c2): kept, but it does not count.
    expect(preview.keep).toEqual([c4.chainId, broken.chainId, c2.chainId]);
    expect(preview.delete).toEqual([c1.chainId]);
    expect(preview.plan).toMatchObject({ allowed: true, chains: [c1.chainId], bytes: 1000 + 1001 + 1002 });
  });

  it("deletes nothing with fewer usable chains than asked to keep", () => {
    expect(planRetention([c1, broken], { keepChains: 2 }).delete).toEqual([]);
    expect(planRetention([c1], { keepChains: 1 }).delete).toEqual([]);
  });

  it("keeps at least one chain whatever it is asked", () => {
    expect(planRetention([c1, c2], { keepChains: 0 }).keep).toEqual([c2.chainId]);
  });
});

describe("parseManifest", () => {
  it("round-trips what the engine writes", () => {
    expect(parseManifest(JSON.stringify(old))).toEqual(old);
  });

  it("rejects a chain whose links do not follow each other, and paths outside the folder", () => {
    const skipped = { ...old, backups: [old.backups[0], old.backups[2]] };
    expect(() => parseManifest(JSON.stringify(skipped))).toThrow(/does not follow/);
    const escaping = structuredClone(old);
    escaping.backups[0]!.file = "../elsewhere.qcow2";
    expect(() => parseManifest(JSON.stringify(escaping))).toThrow(/backups\.0\.file/);
    expect(() => parseManifest("{")).toThrow(/not JSON/);
  });

  it("reads a manifest from before compression (no `compressed`) as not compressed, and keeps a true one", () => {
    const before = structuredClone(old);
    for (const b of before.backups) delete (b as Partial<typeof b>).compressed;
    expect(parseManifest(JSON.stringify(before)).backups.map((b) => b.compressed)).toEqual([false, false, false, false]);
    const compressed = structuredClone(old);
    compressed.backups[1]!.compressed = true;
    expect(parseManifest(JSON.stringify(compressed))).toEqual(compressed);
  });
});
