import { open, writeFile, mkdir, rename, truncate } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { scanStorageRoot, scanDisk } from "@/lib/inventory/scan";
import { createSeedRoot } from "@/lib/demo/seed";
import * as img from "@/lib/qemu/img";
import { run } from "@/lib/proc/run";
import { dropBackingFormat } from "../support/backing-format";
import { makeTempDir } from "../support/tmp";
import { fingerprintTree } from "../support/files";

async function seededRoot() {
  const root = await makeTempDir("canopy-scan-");
  await createSeedRoot(root);
  return root;
}

/** Scans must be read-only and quick even on broken chains (qemu tools hang on loops). */
async function scanUnchanged(root: string) {
  const before = await fingerprintTree(root);
  const started = Date.now();
  const result = await scanStorageRoot(root);
  expect(Date.now() - started).toBeLessThan(5_000);
  expect(await fingerprintTree(root)).toEqual(before);
  return result;
}

describe("scanning a storage root", () => {
  it("builds the seed's trees, with the template as vm-1's base", async () => {
    const root = await seededRoot();
    const result = await scanUnchanged(root);
    expect(result.disks.map((d) => d.name)).toEqual(["vm-1", "vm-2"]);
    expect(result.sharedFiles).toEqual(["templates/Base.qcow2"]);
    const vm1 = result.disks[0]!;
    expect(vm1.problems).toEqual([]);
    expect(vm1.layers.map((l) => [l.name, l.parent, l.template])).toEqual([
      ["Base", null, true],
      ["VM1", "Base", false],
      ["1A", "VM1", false],
      ["1B", "1A", false],
      ["1C", "1B", false],
      ["1X", "1A", false],
    ]);
    expect(vm1.leaves.sort()).toEqual(["1C", "1X"]);
    expect(vm1.layers.find((l) => l.name === "VM1")?.backingFile).toBe("../templates/Base.qcow2");
    expect(vm1.layers.find((l) => l.name === "Base")?.file).toBe("templates/Base.qcow2");
    // The seed passes -F qcow2 for every overlay, as Canopy's own operations do.
    expect(vm1.layers.map((l) => [l.name, l.backingFormat])).toEqual([
      ["Base", null],
      ["VM1", "qcow2"],
      ["1A", "qcow2"],
      ["1B", "qcow2"],
      ["1C", "qcow2"],
      ["1X", "qcow2"],
    ]);
    const vm2 = result.disks[1]!;
    expect(vm2.layers.map((l) => l.name)).toEqual(["D0", "D1", "D2"]);
    expect(vm2.leaves).toEqual(["D2"]);
  });

  it("reports a backing loop without hanging", async () => {
    const root = await seededRoot();
    // 1A -> VM1 becomes 1A -> 1B -> 1A: rebase -u accepts it, and qemu-io would hang on it.
    await run("qemu-img", ["rebase", "-u", "-F", "qcow2", "-b", "1B.qcow2", path.join(root, "vm-1/1A.qcow2")]);
    const vm1 = (await scanUnchanged(root)).disks[0]!;
    const loop = vm1.problems.find((p) => p.code === "backing-loop");
    expect(loop?.message).toMatch(/1A -> 1B -> 1A|1B -> 1A -> 1B/);
    // The tree stays a tree: every layer is listed once.
    expect(new Set(vm1.layers.map((l) => l.name)).size).toBe(vm1.layers.length);
  });

  it("reports a self-loop", async () => {
    const root = await seededRoot();
    await run("qemu-img", ["rebase", "-u", "-F", "qcow2", "-b", "1C.qcow2", path.join(root, "vm-1/1C.qcow2")]);
    const vm1 = (await scanUnchanged(root)).disks[0]!;
    expect(vm1.problems.map((p) => p.code)).toContain("backing-loop");
  });

  it("reports a missing backing file", async () => {
    const root = await seededRoot();
    await rename(path.join(root, "vm-1/1A.qcow2"), path.join(root, "1A.moved"));
    const vm1 = (await scanUnchanged(root)).disks[0]!;
    const problems = vm1.problems.filter((p) => p.code === "backing-missing");
    expect(problems.map((p) => p.layer).sort()).toEqual(["1B", "1X"]);
    expect(problems[0]?.message).toContain('"1A.qcow2" does not exist');
  });

  it("reports a backing file outside the storage root, and does not follow it", async () => {
    const root = await seededRoot();
    const outside = await makeTempDir("canopy-outside-");
    await img.create(path.join(outside, "foreign.qcow2"), { size: 1 << 26 });
    await run("qemu-img", [
      "rebase", "-u", "-F", "qcow2", "-b", path.join(outside, "foreign.qcow2"), path.join(root, "vm-2/D0.qcow2"),
    ]);
    const vm2 = (await scanUnchanged(root)).disks[1]!;
    expect(vm2.problems).toEqual([expect.objectContaining({ code: "backing-outside-root", layer: "D0" })]);
    expect(vm2.layers.map((l) => l.name)).toEqual(["D0", "D1", "D2"]);
  });

  it("reports a non-qcow2 file and a truncated one", async () => {
    const root = await seededRoot();
    await mkdir(path.join(root, "vm-3"));
    await writeFile(path.join(root, "vm-3/notes.qcow2"), "this is not an image\n");
    await img.create(path.join(root, "vm-3/cut.qcow2"), { size: 1 << 30 });
    await truncate(path.join(root, "vm-3/cut.qcow2"), 1000);
    const vm3 = (await scanUnchanged(root)).disks.find((d) => d.name === "vm-3")!;
    expect(vm3.layers).toEqual([]);
    expect(vm3.problems.map((p) => [p.code, p.layer]).sort()).toEqual([
      ["not-qcow2", "notes"],
      ["truncated", "cut"],
    ]);
  });

  it("reports images flagged corrupt or dirty", async () => {
    const root = await seededRoot();
    for (const [file, bit] of [["vm-1/1B.qcow2", 1n], ["vm-2/D2.qcow2", 0n]] as const) {
      const fh = await open(path.join(root, file), "r+");
      const buf = Buffer.alloc(8);
      await fh.read(buf, 0, 8, 72);
      buf.writeBigUInt64BE(buf.readBigUInt64BE(0) | (1n << bit));
      await fh.write(buf, 0, 8, 72);
      await fh.close();
    }
    const [vm1, vm2] = (await scanUnchanged(root)).disks;
    expect(vm1!.problems).toEqual([expect.objectContaining({ code: "corrupt", layer: "1B" })]);
    expect(vm2!.problems).toEqual([expect.objectContaining({ code: "dirty", layer: "D2" })]);
  });

  it("warns about a backing file whose format the header does not record, and still follows it", async () => {
    const root = await seededRoot();
    await dropBackingFormat(path.join(root, "vm-2/D1.qcow2"));
    const vm2 = (await scanUnchanged(root)).disks[1]!;
    expect(vm2.layers.map((l) => [l.name, l.parent, l.backingFormat])).toEqual([
      ["D0", null, null],
      ["D1", "D0", null],
      ["D2", "D1", "qcow2"],
    ]);
    expect(vm2.problems).toEqual([{ code: "backing-format-missing", layer: "D1", message: expect.stringMatching(/QEMU will probe it/) }]);
  });

  it("scans one disk by name", async () => {
    const root = await seededRoot();
    const vm2 = await scanDisk(root, "vm-2");
    expect(vm2.layers.map((l) => l.parent)).toEqual([null, "D0", "D1"]);
  });
});
