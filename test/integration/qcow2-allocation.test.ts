import { open, stat, truncate } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Qcow2TablesError } from "@/lib/qcow2/allocation";
import { layerDataBytes, readThroughBytes } from "@/lib/qcow2/data-bytes";
import { readQcow2Header } from "@/lib/qcow2/header";
import { measureLayerData, measureReadThrough } from "@/lib/qcow2/measure";
import { run } from "@/lib/proc/run";
import * as img from "@/lib/qemu/img";
import { clusterCounts } from "../support/qcow2-clusters";
import { makeTempDir } from "../support/tmp";

/**
 * The tables reader's figures against qemu-img map's, on images real qemu-img and qemu-io made: a layer's own
 * data (img.layerDataBytes, the layer alone) and what an image reads from below (img.backingDataBytes, one map
 * of the chain). Every case also checks the figure is not trivially zero where the image holds data.
 */

const KiB = 1024;
const MiB = 1024 * KiB;
const TOOL = { timeoutMs: 120_000 };

async function create(file: string, size: number, o: { cluster?: number; backing?: string; compat?: "0.10" | "1.1"; extra?: string } = {}) {
  const options = [
    ...(o.cluster ? [`cluster_size=${o.cluster}`] : []),
    ...(o.compat ? [`compat=${o.compat}`] : []),
    ...(o.extra ? [o.extra] : []),
  ];
  const args = ["create", "-q", "-f", "qcow2", ...(options.length ? ["-o", options.join(",")] : [])];
  if (o.backing) args.push("-b", path.basename(o.backing), "-F", "qcow2");
  await run("qemu-img", [...args, file, String(size)], TOOL);
}

/** qemu-io commands on an image through its chain ("write -P 0x5 0 64k", "write -z 0 1M", "discard ..."). */
async function io(file: string, ...commands: string[]) {
  await run("qemu-io", ["-f", "qcow2", ...commands.flatMap((c) => ["-c", c]), file], TOOL);
}

/** Both figures of one image, the reader's and qemu-img's; returns qemu-img's. */
async function expectAgrees(file: string): Promise<{ own: number; below: number }> {
  const [own, ownQemu, below, belowQemu] = [
    await layerDataBytes(file),
    await img.layerDataBytes(file, { shareLocks: true }),
    await readThroughBytes(file),
    await img.backingDataBytes(file, { shareLocks: true }),
  ];
  expect({ file: path.basename(file), own, below }).toEqual({ file: path.basename(file), own: ownQemu, below: belowQemu });
  return { own: ownQemu, below: belowQemu };
}

/** A small xorshift generator: the random chains are the same on every run, and a failure names its seed. */
function generator(seed: number) {
  let s = seed >>> 0 || 1;
  return (n: number) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}

describe("qcow2 tables reader against qemu-img map", () => {
  it.each([512, 4 * KiB, 64 * KiB, 2 * MiB])("one layer, cluster size %i: writes, zero writes, discards", async (cluster) => {
    const dir = await makeTempDir();
    const file = path.join(dir, "one.qcow2");
    // Not a whole number of clusters at 2 MiB: the last cluster is cut at the virtual size.
    await create(file, 24 * MiB + 512, { cluster });
    await io(
      file,
      "write -P 0x11 0 3k",
      "write -P 0x12 1000 5000",
      "write -P 0x13 1M 1536k",
      "write -P 0x14 7M 64k",
      "write -P 0x15 8M 4M",
      "write -P 0x16 24M 512",
      "write -z 9M 1M", // zero flag over data
      "write -z -u 10M 1M", // zero flag, clusters freed
      "write -z 16M 2M", // zero flag where nothing was
      "discard 1M 512k",
      "discard 20M 64k",
    );
    const { own, below } = await expectAgrees(file);
    expect(own).toBeGreaterThan(3 * MiB);
    expect(below).toBe(0);
  });

  it("counts compressed clusters as data, from qemu-img convert -c and qemu-io write -c", async () => {
    const dir = await makeTempDir();
    const src = path.join(dir, "src.qcow2");
    await create(src, 16 * MiB, { cluster: 64 * KiB });
    await io(src, "write -P 0x21 0 3M", "write -P 0x22 5M 100k", "write -z 1M 64k");
    const packed = path.join(dir, "packed.qcow2");
    await run("qemu-img", ["convert", "-c", "-O", "qcow2", src, packed], TOOL);
    expect((await clusterCounts(packed)).compressed).toBeGreaterThan(0);
    expect((await expectAgrees(packed)).own).toBeGreaterThan(2 * MiB);

    const top = path.join(dir, "top.qcow2");
    await create(top, 16 * MiB, { cluster: 4 * KiB, backing: packed });
    await io(top, "write -c -P 0x23 2M 64k", "write -c -P 0x24 6M 8k", "write -P 0x25 100k 4k");
    expect((await clusterCounts(top)).compressed).toBeGreaterThan(0);
    const { own, below } = await expectAgrees(top);
    expect(own).toBeGreaterThan(64 * KiB);
    expect(below).toBeGreaterThan(2 * MiB);
  });

  it("reads version 2 images (no zero flag: zero writes are data there)", async () => {
    const dir = await makeTempDir();
    const base = path.join(dir, "base.qcow2");
    await create(base, 16 * MiB, { cluster: 64 * KiB, compat: "0.10" });
    await io(base, "write -P 0x31 0 2M", "write -z 4M 1M", "write -z -u 6M 64k", "discard 1M 256k");
    const top = path.join(dir, "top.qcow2");
    await create(top, 16 * MiB, { cluster: 4 * KiB, compat: "0.10", backing: base });
    await io(top, "write -P 0x32 512k 12k", "write -z 4M 128k", "discard 0 8k");
    expect((await readQcow2Header(top)).version).toBe(2);
    expect((await expectAgrees(base)).own).toBeGreaterThan(MiB);
    const { own, below } = await expectAgrees(top);
    expect(own).toBeGreaterThan(12 * KiB);
    expect(below).toBeGreaterThan(MiB);
  });

  it("follows a chain of mixed cluster sizes, with a backing file longer and one shorter than its overlay", async () => {
    const dir = await makeTempDir();
    const base = path.join(dir, "base.qcow2"); // 64 KiB clusters, 20 MiB: longer than mid
    await create(base, 20 * MiB, { cluster: 64 * KiB });
    await io(base, "write -P 0x41 0 20M");
    const mid = path.join(dir, "mid.qcow2"); // 512 B clusters, 12 MiB + 512
    await create(mid, 12 * MiB + 512, { cluster: 512, backing: base });
    await io(mid, "write -P 0x42 3000 70000", "write -z 2M 1M", "write -z -u 4M 100k", "discard 6M 1M");
    const upper = path.join(dir, "upper.qcow2"); // 2 MiB clusters, 16 MiB: its backing (mid) is shorter
    await create(upper, 16 * MiB, { cluster: 2 * MiB, backing: mid });
    await io(upper, "write -P 0x43 1M 4k", "write -z 10M 2M");
    const top = path.join(dir, "top.qcow2"); // 4 KiB clusters, 9 MiB + 512
    await create(top, 9 * MiB + 512, { cluster: 4 * KiB, backing: upper });
    await io(top, "write -P 0x44 8M 64k", "discard 0 4k");
    for (const f of [base, mid, upper]) await expectAgrees(f);
    const { below } = await expectAgrees(top);
    // What top reads from below: upper's 2 MiB cluster at 0, then mid and base up to 9 MiB + 512, less
    // mid's zeros and top's own 64 KiB; a figure well away from 0 and from the whole disk.
    expect(below).toBeGreaterThan(4 * MiB);
    expect(below).toBeLessThan(9 * MiB);
  });

  it("reads a 1 TiB disk's chain without touching its empty tables", async () => {
    const dir = await makeTempDir();
    const base = path.join(dir, "base.qcow2");
    await create(base, 1024 * 1024 * MiB);
    await io(base, "write -P 0x51 0 1M", "write -P 0x52 1023G 2M", "write -P 0x53 512G 64k");
    const top = path.join(dir, "top.qcow2");
    await create(top, 1024 * 1024 * MiB, { cluster: 2 * MiB, backing: base });
    await io(top, "write -P 0x54 1023G 4k", "write -z 0 512k");
    const heapBefore = process.memoryUsage().heapUsed;
    const { below } = await expectAgrees(top);
    expect(below).toBe(64 * KiB);
    // Nothing per cluster of the disk (16 million of base's clusters): a few tables' worth at most.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * MiB);
  });

  it.each([7, 1234, 98765])("a random chain of 20 layers agrees at every layer (seed %i)", async (seed) => {
    const random = generator(seed);
    const dir = await makeTempDir();
    const clusters = [512, 4 * KiB, 64 * KiB, 256 * KiB, 2 * MiB];
    let below: string | undefined;
    const files: string[] = [];
    for (let i = 0; i < 20; i++) {
      const file = path.join(dir, `layer-${i}.qcow2`);
      const cluster = clusters[random(clusters.length)]!;
      const size = (4 + random(28)) * MiB + random(4) * 512 * 3;
      await create(file, size, { cluster, backing: below, compat: random(5) === 0 ? "0.10" : "1.1" });
      const commands: string[] = [];
      // Compressed writes go first: QEMU writes a compressed cluster only where the layer has none yet.
      const compressed = new Set<number>();
      for (let w = 0, n = 2 + random(6); w < n; w++) {
        const offset = random(size / 512) * 512;
        const length = Math.min(size - offset, (1 + random(256)) * 512 * (random(3) === 0 ? 64 : 1));
        if (length <= 0) continue;
        const what = random(10);
        if (what < 5) commands.push(`write -P 0x${(i + 1).toString(16)} ${offset} ${length}`);
        else if (what === 5) commands.push(`write -z ${offset} ${length}`);
        else if (what === 6) commands.push(`write -z -u ${offset} ${length}`);
        else if (what === 7) commands.push(`discard ${offset} ${length}`);
        else {
          // Compressed writes take whole clusters.
          const start = Math.floor(offset / cluster) * cluster;
          if (start + cluster <= size) compressed.add(start);
        }
      }
      const first = [...compressed].map((start) => `write -c -P 0x${(i + 100).toString(16)} ${start} ${cluster}`);
      if (first.length + commands.length) await io(file, ...first, ...commands);
      files.push(file);
      below = file;
    }
    let reads = 0;
    for (const file of files) reads += (await expectAgrees(file)).below;
    expect(reads, `seed ${seed}: some layer reads data from below`).toBeGreaterThan(0);
  });
});

describe("what the tables reader does not read itself", () => {
  it("falls back to qemu-img for extended L2 entries (subclusters), giving qemu-img's figures", async () => {
    const dir = await makeTempDir();
    const base = path.join(dir, "base.qcow2");
    await create(base, 16 * MiB, { cluster: 64 * KiB });
    await io(base, "write -P 0x61 0 4M");
    const top = path.join(dir, "top.qcow2");
    await create(top, 16 * MiB, { cluster: 64 * KiB, backing: base, extra: "extended_l2=on" });
    await io(top, "write -P 0x62 4k 8k", "write -z 1M 64k");
    await expect(layerDataBytes(top)).rejects.toMatchObject({ kind: "unsupported" });
    await expect(readThroughBytes(top)).rejects.toMatchObject({ kind: "unsupported" });
    const own = await img.layerDataBytes(top, { shareLocks: true });
    const below = await img.backingDataBytes(top, { shareLocks: true });
    expect(own).toBe(8 * KiB); // subclusters of 2 KiB: only the written part is data
    expect(below).toBeGreaterThan(3 * MiB);
    expect(await measureLayerData(top)).toBe(own);
    expect(await measureReadThrough(top)).toBe(below);
  });

  it("falls back to qemu-img for a raw backing file", async () => {
    const dir = await makeTempDir();
    const raw = path.join(dir, "base.raw");
    await run("qemu-img", ["create", "-q", "-f", "raw", raw, String(8 * MiB)], TOOL);
    const top = path.join(dir, "top.qcow2");
    await run("qemu-img", ["create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw", top], TOOL);
    await io(top, "write -P 0x63 0 1M");
    await expect(readThroughBytes(top)).rejects.toMatchObject({ kind: "unsupported" });
    expect(await measureReadThrough(top)).toBe(await img.backingDataBytes(top, { shareLocks: true }));
    expect(await measureLayerData(top)).toBe(MiB);
  });

  it("refuses an L2 table pointer past the end of the file, with a clear error (qemu-img reads it as empty)", async () => {
    const { file, l1 } = await imageToBreak("cut.qcow2");
    const size = (await stat(file)).size;
    await writeEntry(file, l1, BigInt(Math.ceil(size / (64 * KiB)) * 64 * KiB + 64 * KiB));
    await expect(layerDataBytes(file)).rejects.toMatchObject({ kind: "corrupt", message: expect.stringMatching(/L2 table .* past the end of the file/) });
    await expect(measureLayerData(file)).rejects.toMatchObject({ code: "failed", message: expect.stringMatching(/^cannot measure cut\.qcow2: /) });
    await expect(measureReadThrough(file)).rejects.toMatchObject({ code: "failed" });
  });

  it("refuses a file cut short inside its L2 table, and a data cluster past the end", async () => {
    const cut = await imageToBreak("cut.qcow2");
    await truncate(cut.file, cut.l2 + 100);
    await expect(layerDataBytes(cut.file)).rejects.toMatchObject({ kind: "corrupt" });

    const far = await imageToBreak("far.qcow2");
    await writeEntry(far.file, far.l2 + 8, (1n << 63n) | 0x10000000000n); // guest cluster 1 at 1 TiB in a small file
    await expect(layerDataBytes(far.file)).rejects.toMatchObject({ kind: "corrupt", message: expect.stringMatching(/data cluster .* past the end/) });
  });

  it("refuses an unaligned L2 pointer (qemu-img refuses it too)", async () => {
    const { file, l1 } = await imageToBreak("odd.qcow2");
    await writeEntry(file, l1, (await readEntry(file, l1)) + 512n);
    await expect(layerDataBytes(file)).rejects.toBeInstanceOf(Qcow2TablesError);
    await expect(layerDataBytes(file)).rejects.toMatchObject({ kind: "corrupt", message: expect.stringMatching(/not at a cluster/) });
    await expect(img.layerDataBytes(file, { shareLocks: true })).rejects.toThrow();
  });

  it("refuses a backing chain that loops", async () => {
    const dir = await makeTempDir();
    const a = path.join(dir, "a.qcow2");
    const b = path.join(dir, "b.qcow2");
    await create(a, 8 * MiB);
    await create(b, 8 * MiB, { backing: a });
    await run("qemu-img", ["rebase", "-u", "-b", "b.qcow2", "-F", "qcow2", a], TOOL);
    await expect(readThroughBytes(b)).rejects.toMatchObject({ kind: "corrupt", message: expect.stringMatching(/loops/) });
  });
});

/** A 16 MiB image with its first MiB written, and where its L1 table and first L2 table are, to break them. */
async function imageToBreak(name: string): Promise<{ file: string; l1: number; l2: number }> {
  const file = path.join(await makeTempDir(), name);
  await create(file, 16 * MiB, { cluster: 64 * KiB });
  await io(file, "write -P 0x71 0 1M");
  const l1 = (await readQcow2Header(file)).l1.offset;
  return { file, l1, l2: Number((await readEntry(file, l1)) & 0x00fffffffffffe00n) };
}

/** Reads, or with `value` overwrites, the 8-byte table entry at `offset`: how the corrupt cases are made. */
async function entry(file: string, offset: number, value?: bigint): Promise<bigint> {
  const fh = await open(file, value === undefined ? "r" : "r+");
  try {
    const buf = Buffer.alloc(8);
    if (value === undefined) {
      await fh.read(buf, 0, 8, offset);
      return buf.readBigUInt64BE(0);
    }
    buf.writeBigUInt64BE(value);
    await fh.write(buf, 0, 8, offset);
    return value;
  } finally {
    await fh.close();
  }
}

const readEntry = (file: string, offset: number) => entry(file, offset);
const writeEntry = (file: string, offset: number, value: bigint) => entry(file, offset, value);
