import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createSeedRoot, SEED_LAYERS } from "@/lib/demo/seed";
import { scanDisk } from "@/lib/inventory/scan";
import { executeStep, settleStoppedStep } from "@/lib/ops/execute";
import type { StepContext } from "@/lib/ops/step-context";
import * as img from "@/lib/qemu/img";
import { expectLayerContent, parentsOf, seedContent } from "../support/layer-data";
import { makeTempDir } from "../support/tmp";

/**
 * The executor's checks before a step, on the seed's vm-1 (Base <- VM1 <- 1A <- 1B <- 1C, and 1A <- 1X), with
 * the states a kill leaves made by hand: the step either repairs them and ends as planned, or stops before
 * writing anything.
 */
async function seeded(resumed: boolean) {
  const root = path.join(await makeTempDir(), "storage");
  await createSeedRoot(root);
  const files = new Map((await scanDisk(root, "vm-1")).layers.map((l) => [l.name, path.join(root, l.file)]));
  const noRecords = async () => undefined;
  const ctx: StepContext = {
    root,
    disk: "vm-1",
    files,
    resumed,
    effects: { setActive: noRecords, setProtected: noRecords, setDescription: noRecords },
  };
  const file = (layer: string) => files.get(layer) ?? path.join(root, "vm-1", `${layer}.qcow2`);
  return { root, ctx, file };
}

const before = seedContent();

describe("a resumed pull", () => {
  it("whose header already names the new backing (the data never arrived) is pointed back and pulled again", async () => {
    const { root, ctx, file } = await seeded(true);
    // What a kill left with a writeback cache: 1C's header names VM1, none of 1B's and 1A's data in it.
    await img.rebase(file("1C"), "VM1.qcow2", { pull: false });
    const notes = await executeStep({ kind: "pull", layer: "1C", from: "1B", backing: "VM1", bytes: 0 }, ctx);
    expect(notes.join("\n")).toMatch(/1C was pointed back at 1B/);
    expect((await parentsOf(root, "vm-1"))["1C"]).toBe("VM1");
    await expectLayerContent(root, "vm-1", { "1C": before["1C"]!, "1B": before["1B"]!, "1A": before["1A"]! });
  });

  it("that is settled instead (a cancel) reads through its old backing again", async () => {
    const { root, ctx, file } = await seeded(false);
    await img.rebase(file("1C"), "VM1.qcow2", { pull: false });
    const notes = await settleStoppedStep({ kind: "pull", layer: "1C", from: "1B", backing: "VM1", bytes: 0 }, ctx);
    expect(notes.join("\n")).toMatch(/1C was pointed back at 1B/);
    expect((await parentsOf(root, "vm-1"))["1C"]).toBe("1B");
    await expectLayerContent(root, "vm-1", { "1C": before["1C"]! });
  });
});

describe("a step whose files are not as planned stops before writing", () => {
  it("a fresh pull whose layer is backed by something else", async () => {
    const { ctx, file } = await seeded(false);
    const bytes = await readFile(file("1C"));
    await expect(executeStep({ kind: "pull", layer: "1C", from: "1A", backing: "VM1", bytes: 0 }, ctx)).rejects.toThrow(
      /the files of vm-1 are not as the plan expects: 1C is backed by 1B, not 1A/,
    );
    expect((await readFile(file("1C"))).equals(bytes)).toBe(true);
  });

  it("a fresh pull whose header already names the new backing (not resumed: nobody knows where the data went)", async () => {
    const { ctx, file } = await seeded(false);
    await img.rebase(file("1C"), "VM1.qcow2", { pull: false });
    const bytes = await readFile(file("1C"));
    await expect(executeStep({ kind: "pull", layer: "1C", from: "1B", backing: "VM1", bytes: 0 }, ctx)).rejects.toThrow(
      /1C is backed by VM1, not 1B/,
    );
    // Refused by its checks, the step never started: it is not settled either (no pointing back at 1B).
    expect((await readFile(file("1C"))).equals(bytes)).toBe(true);
  });

  it("a commit whose chain no longer reaches its base", async () => {
    const { ctx } = await seeded(false);
    await expect(executeStep({ kind: "commit", top: "1X", base: "1B", bytes: 0 }, ctx)).rejects.toThrow(
      /1X's backing chain no longer leads down to 1B/,
    );
  });

  it("an overlay whose name is taken, fresh or resumed, when the file holds data", async () => {
    for (const resumed of [false, true]) {
      const { ctx, file } = await seeded(resumed);
      const bytes = await readFile(file("1X"));
      await expect(executeStep({ kind: "create-overlay", layer: "1X", backing: "1C" }, ctx)).rejects.toThrow(/not as the plan expects/);
      expect((await readFile(file("1X"))).equals(bytes)).toBe(true);
    }
  });
});

describe("other steps resumed", () => {
  it("a repoint that had landed is not written again", async () => {
    const { root, ctx, file } = await seeded(true);
    await img.rebase(file("1C"), "1A.qcow2", { pull: false });
    const notes = await executeStep({ kind: "repoint", layer: "1C", from: "1B", backing: "1A" }, ctx);
    expect(notes).toEqual(["1C already reads from 1A"]);
    expect((await parentsOf(root, "vm-1"))["1C"]).toBe("1A");
  });

  it("a half-written overlay is removed and made again; a finished one is kept", async () => {
    const { root, ctx, file } = await seeded(true);
    const target = path.join(root, "vm-1", "S1.qcow2");
    await writeFile(target, Buffer.from("QFI\xfb half", "latin1"));
    const notes = await executeStep({ kind: "create-overlay", layer: "S1", backing: "1C" }, ctx);
    expect(notes).toEqual(["removed the half-written S1 left by the interrupted step"]);
    expect((await parentsOf(root, "vm-1"))["S1"]).toBe("1C");
    await expectLayerContent(root, "vm-1", { S1: before["1C"]! });

    const again = await executeStep({ kind: "create-overlay", layer: "S1", backing: "1C" }, { ...ctx, files: new Map([...ctx.files, ["S1", target]]) });
    expect(again).toEqual(["S1 had been created in full before the interruption"]);
  });
});
