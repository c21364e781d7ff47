import { describe, expect, it } from "vitest";
import type { DiskTreeView, LayerView } from "@/lib/inventory/views";
import { packTree, unpackTree } from "@/components/disk-tree/packed-tree";

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString();

function layer(name: string, parent: string | null, over: Partial<LayerView> = {}): LayerView {
  return {
    name,
    file: `vm-1/${name}.qcow2`,
    parent,
    backingFile: parent === null ? null : `${parent}.qcow2`,
    backingFormat: parent === null ? null : "qcow2",
    template: false,
    version: 3,
    virtualSize: 10 * 2 ** 30,
    clusterSize: 65_536,
    fileSize: 196_608,
    dirty: false,
    corrupt: false,
    bitmaps: [],
    modifiedAt: at(1),
    active: false,
    protected: false,
    description: null,
    createdAt: at(1),
    children: [],
    ...over,
  };
}

/**
 * Everything a disk can hold that the packing must not lose: a shared template backed from another folder, two
 * branches, children listed in another order than the view's, a protected layer with a description, bitmaps,
 * a dirty and a corrupt layer, a layer created after it was last written, a broken backing file (no parent), and
 * the active leaf.
 */
const mixed: DiskTreeView = {
  name: "vm-1",
  activeLayer: "1C",
  scannedAt: at(30),
  status: "running",
  problems: [{ code: "backing-missing", layer: "lost", message: "backing file gone.qcow2 is missing" }],
  layers: [
    layer("base", null, { file: "templates/base.qcow2", template: true, children: ["VM1"], modifiedAt: at(0), createdAt: at(0) }),
    layer("VM1", "base", { backingFile: "../templates/base.qcow2", children: ["1A"], protected: true, description: "installed OS" }),
    layer("1A", "VM1", { children: ["1X", "1B"], fileSize: 4096, modifiedAt: at(2), createdAt: at(9) }),
    layer("1B", "1A", { children: ["1C"], dirty: true, modifiedAt: at(3), createdAt: at(3) }),
    layer("1C", "1B", {
      active: true,
      bitmaps: [{ name: "canopy-0", inUse: false, auto: true, granularity: 65_536 }],
      modifiedAt: at(8),
      createdAt: at(8),
    }),
    layer("1X", "1A", { corrupt: true, backingFormat: null, version: 2, clusterSize: 512, modifiedAt: at(4), createdAt: at(4) }),
    layer("lost", null, { backingFile: "gone.qcow2", modifiedAt: at(5), createdAt: at(5) }),
  ],
};

function chain(depth: number): DiskTreeView {
  const name = (i: number) => `D${String(i).padStart(4, "0")}`;
  const layers = Array.from({ length: depth }, (_, i) =>
    layer(name(i), i ? name(i - 1) : null, {
      file: `deep/${name(i)}.qcow2`,
      children: i < depth - 1 ? [name(i + 1)] : [],
      active: i === depth - 1,
      // Every layer written at its own time, as snapshots are.
      modifiedAt: new Date(Date.UTC(2026, 0, 1) + i * 61_000).toISOString(),
    }),
  ).map((l) => ({ ...l, createdAt: l.modifiedAt }));
  return { name: "deep", activeLayer: name(depth - 1), scannedAt: at(0), status: "stopped", problems: [], layers };
}

describe("the disk page's packed tree", () => {
  it("unpacks to the very view it was packed from", () => {
    // Through JSON, as it travels in the RSC payload.
    expect(unpackTree(JSON.parse(JSON.stringify(packTree(mixed))))).toStrictEqual(mixed);
    const deep = chain(1_000);
    expect(unpackTree(JSON.parse(JSON.stringify(packTree(deep))))).toStrictEqual(deep);
    const empty: DiskTreeView = { ...mixed, activeLayer: null, layers: [] };
    expect(unpackTree(packTree(empty))).toStrictEqual(empty);
  });

  it("keeps only what a layer's place in the tree and the common values do not tell", () => {
    const packed = packTree(mixed);
    const row = (name: string) => packed.layers.find((l) => l.name === name);
    // 1B: dirty (the others are not) and its own times; the rest follows from 1A before it.
    expect(row("1B")).toEqual({ name: "1B", dirty: true, modifiedAt: at(3) });
    // 1A lists its children in another order than the view's, and was recorded after its last write.
    expect(row("1A")).toEqual({ name: "1A", fileSize: 4096, modifiedAt: at(2), createdAt: at(9), children: ["1X", "1B"] });
    // 1X follows 1C in the view, so its parent is said; the template's child names its file across folders.
    expect(row("1X")?.parent).toBe("1A");
    expect(row("VM1")?.backingFile).toBe("../templates/base.qcow2");
    expect(row("lost")).toMatchObject({ parent: null, backingFile: "gone.qcow2" });
  });

  it("packs a chain 1,000 deep to its names and times", () => {
    const deep = chain(1_000);
    const packed = packTree(deep);
    expect(packed.layers[500]).toEqual({ name: "D0500", modifiedAt: deep.layers[500]!.modifiedAt });
    const full = JSON.stringify(deep).length;
    const small = JSON.stringify(packed).length;
    expect(small).toBeLessThan(full / 5);
  });
});
