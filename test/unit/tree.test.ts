import { describe, expect, it } from "vitest";
import { LayerTree } from "@/lib/tree/model";
import { chooseActiveLeaf } from "@/lib/tree/active";

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString();
const seed = [
  { name: "Base", parent: null, template: true, modifiedAt: at(0) },
  { name: "VM1", parent: "Base", template: false, modifiedAt: at(1) },
  { name: "1A", parent: "VM1", template: false, modifiedAt: at(2) },
  { name: "1B", parent: "1A", template: false, modifiedAt: at(3) },
  { name: "1X", parent: "1A", template: false, modifiedAt: at(4) },
  { name: "1C", parent: "1B", template: false, modifiedAt: at(5) },
];

describe("LayerTree", () => {
  const tree = new LayerTree(seed);
  it("answers chain, ancestry, children and leaves", () => {
    expect(tree.chain("1C").map((l) => l.name)).toEqual(["1C", "1B", "1A", "VM1", "Base"]);
    expect(tree.isAncestor("VM1", "1C")).toBe(true);
    expect(tree.isAncestor("1X", "1C")).toBe(false);
    expect(tree.isAncestor("1C", "1C")).toBe(false);
    expect(tree.children("1A").map((l) => l.name).sort()).toEqual(["1B", "1X"]);
    expect(tree.leaves().map((l) => l.name).sort()).toEqual(["1C", "1X"]);
    expect(tree.descendants("1A").map((l) => l.name).sort()).toEqual(["1B", "1C", "1X"]);
  });
});

describe("chooseActiveLeaf", () => {
  it("takes the newest leaf for a new disk", () => {
    expect(chooseActiveLeaf(seed, null)).toBe("1C");
  });
  it("keeps the recorded leaf even when another leaf is newer", () => {
    expect(chooseActiveLeaf(seed, "1X")).toBe("1X");
  });
  it("follows the chain when a layer was stacked on the recorded one", () => {
    expect(chooseActiveLeaf(seed, "1B")).toBe("1C");
  });
  it("falls back to the newest leaf when the recorded layer is gone", () => {
    expect(chooseActiveLeaf(seed, "gone")).toBe("1C");
  });
  it("has no active leaf when there are no layers", () => {
    expect(chooseActiveLeaf([], "1C")).toBeNull();
  });
  it("keeps the record as it is while a job holds the disk or ended since the files were read", () => {
    const withOverlay = [...seed, { name: "S1", parent: "1C", template: false, modifiedAt: at(6) }];
    expect(chooseActiveLeaf(withOverlay, "1C", { jobTouchedDisk: true })).toBe("1C");
    expect(chooseActiveLeaf(seed, "1A-2", { jobTouchedDisk: true })).toBe("1A-2");
    expect(chooseActiveLeaf(seed, null, { jobTouchedDisk: true })).toBeNull();
    expect(chooseActiveLeaf(withOverlay, "1C", { jobTouchedDisk: false })).toBe("S1");
  });
});
