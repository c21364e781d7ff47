import path from "node:path";
import { describe, expect, it } from "vitest";
import { planRestore } from "@/lib/backup/plan-restore";
import { restore } from "@/lib/backup/restore";
import { runBackup, type RunBackupResult } from "@/lib/backup/run-backup";
import { verifyChain } from "@/lib/backup/verify";
import {
  backupInput,
  captureNbd,
  captureOffline,
  expectRestoresTo,
  makeBackupTestDisk,
  MiB,
  randomWrites,
  serveDisk,
  stopsAfterEach,
  writeNbd,
  writeOffline,
  type BackupTestDisk,
} from "../support/backup-disk";
import { clusterCounts, compressionType } from "../support/qcow2-clusters";

/**
 * Compressed backups (the policy's `compress`): QEMU's backup job compresses every cluster it writes, also the
 * ones copy-before-write saves while a running guest writes. Each file must really hold compressed clusters,
 * be smaller than a plain backup of the same data, restore byte-identical to the disk at its point in time and
 * pass verify. The guest data here are byte patterns: every data cluster compresses.
 */

const LONG = 300_000;
const stops = stopsAfterEach();

function fileOf(repo: string, disk: BackupTestDisk, r: RunBackupResult): string {
  return path.join(repo, disk.disk, r.chain.chainId, r.backup.file);
}

/** The manifest says compressed, and every data cluster of the file (the file alone, not its chain) is. */
async function expectCompressedBackup(file: string, r: RunBackupResult): Promise<void> {
  expect(r.backup.compressed).toBe(true);
  expect(r.backup.verify.status).toBe("ok");
  const clusters = await clusterCounts(file);
  expect(clusters.compressed, `${r.backup.id} holds compressed clusters`).toBeGreaterThan(0);
  expect(clusters.compressed, `${r.backup.id}: every data cluster compressed`).toBe(clusters.allocated);
  expect(await compressionType(file)).toBe("zstd");
}

describe("compressed backups", () => {
  it("of a stopped disk: full and incrementals are compressed, smaller than plain, and restore exactly", async () => {
    const disk = await makeBackupTestDisk();
    const layers = await disk.layers();
    await writeOffline(disk.file("base"), [
      { op: "write", pattern: 0x11, offset: 0, length: 8 * MiB },
      { op: "write", pattern: 0x12, offset: 40 * MiB, length: 3 * MiB + 512 },
      ...randomWrites(1, 12, 64),
    ]);
    // The same content backed up plain, into a repository of its own: the size to beat.
    const plainRepo = path.join(disk.dir, "plain-backups");
    const plain = await runBackup(backupInput(disk, layers, { repoRoot: plainRepo }));
    expect(plain.backup.compressed).toBe(false);
    expect((await clusterCounts(fileOf(plainRepo, disk, plain))).compressed).toBe(0);
    expect(await compressionType(fileOf(plainRepo, disk, plain))).toBe("zlib"); // qcow2's default: any QEMU reads it

    const made: RunBackupResult[] = [];
    const captures: Array<[string, string]> = [];
    for (let round = 0; round < 3; round++) {
      if (round > 0) await writeOffline(disk.file("base"), randomWrites(10 + round, 12, 64));
      const r = await runBackup(backupInput(disk, layers, { compress: true }));
      // Nothing writes to a stopped disk while its backup runs: the view right after is the point in time.
      captures.push([r.backup.id, await captureOffline(disk.file("base"), path.join(disk.dir, `capture-${round}.qcow2`))]);
      made.push(r);
    }
    expect(made.map((r) => `${r.kind}:${r.reason}`)).toEqual(["full:first-backup", "incremental:incremental", "incremental:incremental"]);
    for (const r of made) await expectCompressedBackup(fileOf(disk.repo, disk, r), r);
    expect(made[0]!.backup.fileSize).toBeLessThan(plain.backup.fileSize / 4);

    for (const [id, capture] of captures) await expectRestoresTo(disk, id, capture);
    expect((await verifyChain({ repoRoot: disk.repo, disk: disk.disk, chainId: made[0]!.chain.chainId })).ok).toBe(true);

    // A restored disk is plain: a guest write into a compressed cluster would have to rewrite the whole cluster.
    const out = path.join(disk.dir, "restored.qcow2");
    await restore(await planRestore({ repoRoot: disk.repo, disk: disk.disk, backupId: made[2]!.backup.id, target: { kind: "file", path: out } }));
    const restored = await clusterCounts(out);
    expect(restored.allocated).toBeGreaterThan(0);
    expect(restored.compressed).toBe(0);
  }, LONG);

  it("of a running disk while the guest writes during each job: compressed and exact at every point", async () => {
    const disk = await makeBackupTestDisk();
    const layers = await disk.layers();
    const vm = await serveDisk(disk, ["base"]);
    stops.push(vm.stop);
    await writeNbd(vm.uri, [{ op: "write", pattern: 0x70, offset: 4 * MiB, length: 12 * MiB }]);

    const made: RunBackupResult[] = [];
    const captures: Array<[string, string]> = [];
    for (let round = 0; round < 3; round++) {
      if (round > 0) await writeNbd(vm.uri, randomWrites(100 + round, 10, 64));
      const capture = await captureNbd(vm.uri, path.join(disk.dir, `capture-${round}.qcow2`));
      let during: Promise<void> = Promise.resolve();
      let writerDone = Infinity;
      let jobDone = 0;
      const r = await runBackup(
        backupInput(disk, layers, {
          qmp: vm.client,
          compress: true,
          // Slow enough that the writer lands in the middle of the job: its writes go through copy-before-write.
          speed: 4 * MiB,
          onPointInTime: () => {
            during = writeNbd(vm.uri, randomWrites(200 + round, 8, 64)).then(() => void (writerDone = performance.now()));
          },
          onStage: (stage) => void (stage === "transfer" && (jobDone = performance.now())),
        }),
      );
      await during;
      expect(writerDone, "the guest wrote while the job was copying").toBeLessThan(jobDone);
      captures.push([r.backup.id, capture]);
      made.push(r);
    }
    expect(made.map((r) => `${r.kind}:${r.reason}`)).toEqual(["full:first-backup", "incremental:incremental", "incremental:incremental"]);
    for (const r of made) await expectCompressedBackup(fileOf(disk.repo, disk, r), r);

    await vm.stop();
    stops.length = 0;
    for (const [id, capture] of captures) await expectRestoresTo(disk, id, capture);
    expect((await verifyChain({ repoRoot: disk.repo, disk: disk.disk, chainId: made[0]!.chain.chainId })).ok).toBe(true);
  }, LONG);
});
