import { describe, expect, it } from "vitest";
import { DEFAULT_SORT, filterDisks, nextSort, sortDisks } from "@/components/disks/disk-list";
import type { DiskListEntry } from "@/server/disks";

const disk = (name: string, over: Partial<DiskListEntry> = {}): DiskListEntry => ({
  name,
  status: "stopped",
  activeLayer: `${name}-top`,
  layerCount: 1,
  branchCount: 1,
  depth: 1,
  virtualSize: 1024,
  usedBytes: 512,
  problems: [],
  scannedAt: "2030-01-01T00:00:00.000Z",
  ...over,
});

const DISKS = [
  disk("vm-10", { layerCount: 3, usedBytes: 10, problems: [{ code: "dirty", layer: "a", message: "dirty flag set" }] }),
  disk("vm-2", { layerCount: 7, usedBytes: 30, activeLayer: null }),
  disk("db", { layerCount: 3, usedBytes: 20, problems: [{ code: "backing-missing", layer: "b", message: "gone" }], status: "running" }),
  disk("vm-1", { layerCount: 5, usedBytes: 20 }),
];
const names = (list: DiskListEntry[]) => list.map((d) => d.name);

describe("the disks list's sort", () => {
  it("sorts names the way people count (vm-2 before vm-10)", () => {
    expect(names(sortDisks(DISKS, DEFAULT_SORT))).toEqual(["db", "vm-1", "vm-2", "vm-10"]);
    expect(names(sortDisks(DISKS, { key: "name", direction: "descending" }))).toEqual(["vm-10", "vm-2", "vm-1", "db"]);
  });

  it("sorts numbers as numbers, ties by name", () => {
    expect(names(sortDisks(DISKS, { key: "layerCount", direction: "ascending" }))).toEqual(["db", "vm-10", "vm-1", "vm-2"]);
    expect(names(sortDisks(DISKS, { key: "usedBytes", direction: "descending" }))).toEqual(["vm-2", "db", "vm-1", "vm-10"]);
  });

  it("puts errors above warnings above nothing when sorting by warnings, descending", () => {
    expect(names(sortDisks(DISKS, { key: "problems", direction: "descending" }))).toEqual(["db", "vm-10", "vm-1", "vm-2"]);
  });

  it("puts a disk without an active layer last, going up", () => {
    expect(names(sortDisks(DISKS, { key: "activeLayer", direction: "ascending" })).at(-1)).toBe("vm-2");
  });

  it("sorts a new column ascending, and flips on the second click", () => {
    expect(nextSort(DEFAULT_SORT, "depth")).toEqual({ key: "depth", direction: "ascending" });
    expect(nextSort({ key: "depth", direction: "ascending" }, "depth")).toEqual({ key: "depth", direction: "descending" });
    expect(nextSort({ key: "depth", direction: "descending" }, "depth")).toEqual({ key: "depth", direction: "ascending" });
  });
});

describe("the disks list's search", () => {
  it("matches every word, in any case, against name, active layer, status and warnings", () => {
    expect(names(filterDisks(DISKS, ""))).toEqual(names(DISKS));
    expect(names(filterDisks(DISKS, "VM"))).toEqual(["vm-10", "vm-2", "vm-1"]);
    expect(names(filterDisks(DISKS, "vm-1 top"))).toEqual(["vm-10", "vm-1"]);
    expect(names(filterDisks(DISKS, "running"))).toEqual(["db"]);
    expect(names(filterDisks(DISKS, "missing backing"))).toEqual(["db"]);
    expect(names(filterDisks(DISKS, "dirty"))).toEqual(["vm-10"]);
    expect(filterDisks(DISKS, "nothing-like-this")).toEqual([]);
  });
});
