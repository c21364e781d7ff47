import { describe, expect, it } from "vitest";
import type { LayerInfo } from "@/lib/inventory/types";
import type { DiskState } from "@/lib/ops/types";
import { planMergeDown } from "@/lib/ops/plan-merge-down";
import { planMergeUp } from "@/lib/ops/plan-merge-up";
import { planDelete } from "@/lib/ops/plan-delete";
import { planSnapshot, planRevert, planFlatten } from "@/lib/ops/plan-simple";
import { planMakeActive } from "@/lib/ops/plan-make-active";

const layer = (name: string, parent: string | null, template = false): LayerInfo => ({
  name,
  file: `vm-1/${name}.qcow2`,
  parent,
  backingFile: parent ? `${parent}.qcow2` : null,
  backingFormat: parent ? "qcow2" : null,
  template,
  version: 3,
  virtualSize: 64 << 20,
  clusterSize: 65536,
  fileSize: 1 << 20,
  dirty: false,
  corrupt: false,
  bitmaps: [],
  modifiedAt: "2026-01-01T00:00:00.000Z",
});

/** Base <- VM1 <- 1A <- 1B <- 1C (active), plus 1A <- 1X when `sibling`. */
function seed(sibling: boolean, extra: Partial<DiskState> = {}): DiskState {
  const layers = [layer("Base", null, true), layer("VM1", "Base"), layer("1A", "VM1"), layer("1B", "1A"), layer("1C", "1B")];
  if (sibling) layers.push(layer("1X", "1A"));
  return { name: "vm-1", layers, active: "1C", protected: new Set(), problems: [], ...extra };
}
const MiB = 1 << 20;
const measure = async (name: string) => ({ VM1: 4, "1A": 3, "1B": 2, "1C": 1, "1X": 5, Base: 8 })[name]! * MiB;

describe("merge down", () => {
  it("commits 1A..1B into VM1, repoints 1C, deletes the merged layers", async () => {
    const plan = await planMergeDown(seed(false), "1B", "VM1", measure);
    expect(plan.refused).toBeNull();
    expect(plan.steps).toEqual([
      { kind: "commit", top: "1B", base: "VM1", bytes: 5 * MiB },
      { kind: "repoint", layer: "1C", from: "1B", backing: "VM1" },
      { kind: "delete-file", layer: "1B" },
      { kind: "delete-file", layer: "1A" },
    ]);
    expect(plan.deletes).toEqual(["1B", "1A"]);
    expect(plan.bytesToMove).toBe(5 * MiB);
    expect(plan.activeAfter).toBe("1C");
  });

  it("refuses when a merged layer has a sibling branch, naming it and offering merge up", async () => {
    const plan = await planMergeDown(seed(true), "1B", "VM1", measure);
    expect(plan.steps).toEqual([]);
    expect(plan.refused?.dependents).toEqual(["1X"]);
    expect(plan.refused?.reason).toContain("1X");
    expect(plan.refused?.alternative).toMatchObject({ operation: "merge-up", params: { top: "1C", base: "VM1" } });
  });

  it("refuses when the base has another child", async () => {
    const plan = await planMergeDown(seed(true), "1C", "1A", measure);
    expect(plan.refused?.dependents).toEqual(["1X"]);
  });

  it("refuses a template base and a protected layer", async () => {
    expect((await planMergeDown(seed(false), "1A", "Base", measure)).refused?.reason).toMatch(/template/);
    const p = await planMergeDown(seed(false, { protected: new Set(["1A"]) }), "1B", "VM1", measure);
    expect(p.refused?.reason).toMatch(/1A is protected/);
  });

  it("moves the active layer down when it is merged", async () => {
    const plan = await planMergeDown(seed(false), "1C", "1B", measure);
    expect(plan.activeAfter).toBe("1B");
    expect(plan.steps.at(-1)).toEqual({ kind: "set-active", layer: "1B" });
  });

  it("rejects a base that is not an ancestor, and an unknown layer", async () => {
    await expect(planMergeDown(seed(true), "1X", "1B", measure)).rejects.toThrow(/not an ancestor/);
    await expect(planMergeDown(seed(true), "1Z", "VM1", measure)).rejects.toThrow(/no layer named "1Z"/);
  });

  it("refuses a broken chain", async () => {
    const state = seed(false, { problems: [{ code: "backing-missing", layer: "1B", message: "1B: gone" }] });
    await expect(planMergeDown(state, "1C", "1B", measure)).rejects.toThrow(/broken chain/);
  });
});

describe("merge up", () => {
  it("pulls 1A..1B into 1C and keeps 1A for the sibling branch", async () => {
    const plan = await planMergeUp(seed(true), "1C", "VM1", false, measure);
    expect(plan.steps).toEqual([
      { kind: "pull", layer: "1C", from: "1B", backing: "VM1", bytes: 5 * MiB },
      { kind: "delete-file", layer: "1B" },
    ]);
    expect(plan.notes.join()).toMatch(/kept 1A and below: 1X still depends on it/);
  });
  it("keeps everything with keep", async () => {
    const plan = await planMergeUp(seed(false), "1C", "VM1", true, measure);
    expect(plan.deletes).toEqual([]);
  });
  it("rejects an empty range", async () => {
    await expect(planMergeUp(seed(false), "1C", "1B", false, measure)).rejects.toThrow(/nothing to merge/);
  });
});

describe("delete", () => {
  it("removes a branch tip", async () => {
    const plan = await planDelete(seed(true), "1X", measure);
    expect(plan.steps).toEqual([{ kind: "delete-file", layer: "1X" }]);
  });
  it("merges a middle layer down when the sibling rule allows", async () => {
    const plan = await planDelete(seed(false), "1B", measure);
    expect(plan.steps[0]).toEqual({ kind: "commit", top: "1B", base: "1A", bytes: 2 * MiB });
    expect(plan.notes[0]).toMatch(/merged down into 1A/);
  });
  it("pulls a layer with two children into each child", async () => {
    const plan = await planDelete(seed(true), "1A", measure);
    expect(plan.steps).toEqual([
      { kind: "pull", layer: "1B", from: "1A", backing: "VM1", bytes: 3 * MiB },
      { kind: "pull", layer: "1X", from: "1A", backing: "VM1", bytes: 3 * MiB },
      { kind: "delete-file", layer: "1A" },
    ]);
    expect(plan.notes[0]).toMatch(/1A has 2 children/);
  });
  it("refuses the active layer, a template, and a protected layer", async () => {
    expect((await planDelete(seed(false), "1C", measure)).refused?.reason).toMatch(/active layer/);
    expect((await planDelete(seed(false), "Base", measure)).refused?.reason).toMatch(/template/);
    expect((await planDelete(seed(false, { protected: new Set(["1B"]) }), "1B", measure)).refused).not.toBeNull();
  });
});

describe("snapshot, revert, flatten", () => {
  it("snapshots onto the active layer", () => {
    const plan = planSnapshot(seed(false), "1D", "before upgrade");
    expect(plan.steps[0]).toEqual({ kind: "create-overlay", layer: "1D", backing: "1C", handOverBitmaps: true });
    expect(plan.activeAfter).toBe("1D");
    expect(() => planSnapshot(seed(false), "1A", null)).toThrow(/already has a layer/);
    expect(() => planSnapshot(seed(false), "../x", null)).toThrow(/not a valid/);
  });
  it("reverts with a new branch named after the snapshot", () => {
    const plan = planRevert(seed(false), "1A");
    expect(plan.creates).toEqual(["1A-2"]);
    expect(plan.activeAfter).toBe("1A-2");
    expect(plan.refused).toBeNull();
  });
  it("refuses a revert on a running disk: its QEMU would go on writing to the old branch", () => {
    const plan = planRevert(seed(false, { running: true }), "1A");
    expect(plan.refused?.reason).toBe(
      'disk vm-1 is running: its QEMU process keeps writing to 1C until it is stopped; stop it first ("canopy stop vm-1"), then revert to 1A',
    );
  });
  it("flattens the whole chain into the active layer, measuring what the active layer reads from below once", async () => {
    const asked: string[] = [];
    const readThrough = async (name: string) => (asked.push(name), 9 * MiB);
    const plan = await planFlatten(seed(false), readThrough);
    expect(plan.steps).toEqual([{ kind: "pull", layer: "1C", from: "1B", backing: null, bytes: 9 * MiB }]);
    expect(asked).toEqual(["1C"]);
  });
});

describe("make active", () => {
  it("switches the record to another branch tip and says where the branches part", () => {
    const plan = planMakeActive(seed(true), "1X");
    expect(plan.refused).toBeNull();
    expect(plan.steps).toEqual([{ kind: "switch-active", layer: "1X", from: "1C" }]);
    expect([plan.activeBefore, plan.activeAfter]).toEqual(["1C", "1X"]);
    expect(plan.notes[0]).toBe("the writes 1C received since the two branches parted at 1A stay on its branch: 1X does not see them, and 1C keeps them as a branch tip");
  });
  it("sets a record that is missing, and refuses on a running disk", () => {
    const plan = planMakeActive(seed(true, { active: null }), "1X");
    expect(plan.refused).toBeNull();
    expect(plan.steps).toEqual([{ kind: "switch-active", layer: "1X", from: null }]);
    expect(plan.summary).toBe("Make 1X the active layer: the VM's writes go to 1X from now on");
    expect(planMakeActive(seed(true, { running: true }), "1X").refused?.reason).toMatch(/^disk vm-1 is running: its QEMU process writes to 1C/);
  });
  it("refuses the active layer, a template and a layer with layers on it, which a revert serves instead", () => {
    expect(planMakeActive(seed(true), "1C").refused?.reason).toBe("1C is the active layer already");
    expect(planMakeActive(seed(true), "Base").refused?.alternative).toMatchObject({ operation: "revert", params: { snapshot: "Base" } });
    const middle = planMakeActive(seed(true), "1B").refused;
    expect(middle?.dependents).toEqual(["1C"]);
    expect(middle?.reason).toBe("1B is not a branch tip: 1C is stacked on it, and writing to 1B would change what it reads");
    expect(() => planMakeActive(seed(true), "D2")).toThrow(/no layer named "D2"/);
  });
});
