import { open } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readQcow2FileSync, readQcow2Header, Qcow2FormatError } from "@/lib/qcow2/header";
import * as img from "@/lib/qemu/img";
import { run } from "@/lib/proc/run";
import { dropBackingFormat } from "../support/backing-format";
import { makeTempDir } from "../support/tmp";

/** The header reader must say exactly what qemu-img info says, on images qemu-img itself made. */
async function expectAgreesWithQemuImg(file: string) {
  const [mine, theirs] = await Promise.all([readQcow2Header(file), img.info(file)]);
  const data = theirs["format-specific"]?.data;
  expect(mine.version).toBe(data?.compat === "0.10" ? 2 : 3);
  expect(mine.virtualSize).toBe(theirs["virtual-size"]);
  expect(mine.clusterSize).toBe(theirs["cluster-size"]);
  expect(mine.backingFile).toBe(theirs["backing-filename"] ?? null);
  expect(mine.backingFormat).toBe(theirs["backing-filename-format"] ?? null);
  expect(mine.dirty).toBe(theirs["dirty-flag"] ?? false);
  expect(mine.corrupt).toBe(data?.corrupt ?? false);
  expect(mine.bitmaps.map((b) => ({ name: b.name, flags: flagsOf(b), granularity: b.granularity }))).toEqual(
    (data?.bitmaps ?? []).map((b) => ({ name: b.name, flags: [...b.flags].sort(), granularity: b.granularity })),
  );
  return mine;
}

function flagsOf(b: { inUse: boolean; auto: boolean }): string[] {
  return [...(b.auto ? ["auto"] : []), ...(b.inUse ? ["in-use"] : [])].sort();
}

async function setIncompatibleBit(file: string, bit: number) {
  const fh = await open(file, "r+");
  try {
    const buf = Buffer.alloc(8);
    await fh.read(buf, 0, 8, 72);
    buf.writeBigUInt64BE(buf.readBigUInt64BE(0) | (1n << BigInt(bit)));
    await fh.write(buf, 0, 8, 72);
  } finally {
    await fh.close();
  }
}

describe("qcow2 header reader against qemu-img info", () => {
  it.each([
    { compat: "0.10" as const, clusterSize: 65536 },
    { compat: "1.1" as const, clusterSize: 512 },
    { compat: "1.1" as const, clusterSize: 4096 },
    { compat: "1.1" as const, clusterSize: 65536 },
    { compat: "1.1" as const, clusterSize: 2 * 1024 * 1024 },
    { compat: "0.10" as const, clusterSize: 4096 },
  ])("compat $compat, cluster size $clusterSize", async ({ compat, clusterSize }) => {
    const dir = await makeTempDir();
    const base = path.join(dir, "base.qcow2");
    await img.create(base, { size: 3 * 1024 * 1024 * 1024 + 512, compat, clusterSize });
    const h = await expectAgreesWithQemuImg(base);
    expect(h.version).toBe(compat === "0.10" ? 2 : 3);
    expect(h.clusterSize).toBe(clusterSize);
  });

  it("reads relative and absolute backing names exactly as stored, and the backing format given with -F", async () => {
    const dir = await makeTempDir();
    const base = path.join(dir, "base.qcow2");
    await img.create(base, { size: 1 << 24 });
    const rel = path.join(dir, "rel.qcow2");
    await img.create(rel, { backing: "base.qcow2", backingFormat: "qcow2" });
    const abs = path.join(dir, "abs.qcow2");
    await img.create(abs, { backing: base, backingFormat: "qcow2" });
    const v2 = path.join(dir, "v2.qcow2");
    await img.create(v2, { backing: "./rel.qcow2", backingFormat: "qcow2", compat: "0.10" });
    expect(await expectAgreesWithQemuImg(rel)).toMatchObject({ backingFile: "base.qcow2", backingFormat: "qcow2" });
    expect((await expectAgreesWithQemuImg(abs)).backingFile).toBe(base);
    expect((await expectAgreesWithQemuImg(v2)).backingFile).toBe("./rel.qcow2");
  });

  it("reads a null backing format when the header records none", async () => {
    const dir = await makeTempDir();
    // What `qemu-img create -u -b x` made before -F was required; qemu-img 7.2 refuses to, so the header is edited.
    // A bitmap's extension follows the format's, so the extensions after it must still be read.
    const noFormat = path.join(dir, "no-format.qcow2");
    await run("qemu-img", ["create", "-q", "-f", "qcow2", "-u", "-F", "qcow2", "-b", "x", noFormat, "16M"]);
    await run("qemu-img", ["bitmap", "--add", noFormat, "backup-0"]);
    await dropBackingFormat(noFormat);
    const h = await expectAgreesWithQemuImg(noFormat);
    expect(h).toMatchObject({ backingFile: "x", backingFormat: null });
    expect(h.bitmaps.map((b) => b.name)).toEqual(["backup-0"]);
  });

  it("lists persistent bitmaps with their flags", async () => {
    const dir = await makeTempDir();
    const file = path.join(dir, "bm.qcow2");
    await img.create(file, { size: 1 << 26 });
    await run("qemu-img", ["bitmap", "--add", file, "backup-0"]);
    await run("qemu-img", ["bitmap", "--add", "-g", "131072", file, "a-much-longer-bitmap-name"]);
    await run("qemu-img", ["bitmap", "--add", file, "frozen"]);
    await run("qemu-img", ["bitmap", "--disable", file, "frozen"]);
    const h = await expectAgreesWithQemuImg(file);
    expect(h.bitmaps.map((b) => b.name)).toEqual(["backup-0", "a-much-longer-bitmap-name", "frozen"]);
    expect(h.bitmaps.find((b) => b.name === "frozen")?.auto).toBe(false);
  });

  it("reads the dirty and corrupt bits", async () => {
    const dir = await makeTempDir();
    const dirty = path.join(dir, "dirty.qcow2");
    const corrupt = path.join(dir, "corrupt.qcow2");
    await img.create(dirty, { size: 1 << 24 });
    await img.create(corrupt, { size: 1 << 24 });
    await setIncompatibleBit(dirty, 0);
    await setIncompatibleBit(corrupt, 1);
    expect((await expectAgreesWithQemuImg(dirty)).dirty).toBe(true);
    expect((await expectAgreesWithQemuImg(corrupt)).corrupt).toBe(true);
  });

  it("refuses a file that is not qcow2, and one cut short", async () => {
    const dir = await makeTempDir();
    const raw = path.join(dir, "raw.qcow2");
    await run("qemu-img", ["create", "-q", "-f", "raw", raw, "1M"]);
    await expect(readQcow2Header(raw)).rejects.toMatchObject({ kind: "not-qcow2" });
    const cut = path.join(dir, "cut.qcow2");
    await img.create(cut, { size: 1 << 30 });
    await run("truncate", ["-s", "200", cut]);
    const err = await readQcow2Header(cut).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Qcow2FormatError);
    expect((err as Qcow2FormatError).kind).toBe("truncated");
  });

  // A 1 TiB image has 2,048 L1 entries: the first and the second-to-last are used, and the L2 table written
  // last is cut short, so the entry that finds the cut sits at one end of the table or the other.
  it.each([["0", "1023G"], ["1023G", "0"]])("refuses a file whose last L2 table is cut short (writes at %s, then %s)", async (...offsets) => {
    const dir = await makeTempDir();
    const file = path.join(dir, "wide.qcow2");
    await img.create(file, { size: 2 ** 40 });
    for (const offset of offsets) await run("qemu-io", ["-f", "qcow2", "-c", `write -P 0x11 ${offset} 64k`, file]);
    expect((await expectAgreesWithQemuImg(file)).l1.entries).toBe(2048);
    // Header, refcount table, refcount block, L1, then an L2 table and a data cluster per write: the second L2
    // table starts at 384 KiB. Cut 4 KiB into it; the header and the L1 table stay whole.
    await run("truncate", ["-s", String(384 * 1024 + 4096), file]);
    const check = await run("qemu-img", ["check", "--output=json", file], { okExitCodes: [2] });
    const { corruptions, "image-end-offset": end } = JSON.parse(check.stdout) as { corruptions: number; "image-end-offset": number };
    expect(corruptions).toBeGreaterThan(0);
    const message = `the file is ${384 * 1024 + 4096} bytes but its metadata clusters reach ${end} bytes`;
    // The reader others use and the scan's synchronous one find the same.
    await expect(readQcow2Header(file)).rejects.toEqual(new Qcow2FormatError("truncated", message));
    expect(() => readQcow2FileSync(file)).toThrow(new Qcow2FormatError("truncated", message));
  });
});
