import { readdir } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { previewBackup } from "@/lib/backup/preview-backup";
import { importRepository, listChains } from "@/lib/backup/repository";
import { runBackup, type RunBackupInput } from "@/lib/backup/run-backup";
import type { BackupStage } from "@/lib/backup/types";
import { verifyChain } from "@/lib/backup/verify";
import { readQcow2Header } from "@/lib/qcow2/header";
import { CanopyError } from "@/lib/errors";
import {
  bitmapsOf,
  captureOffline,
  expectRestoresTo,
  makeBackupTestDisk,
  MiB,
  randomWrites,
  writeOffline,
  serveDisk,
  type BackupTestDisk,
} from "../support/backup-disk";

/**
 * A stopped disk: each backup runs in a qemu-storage-daemon started for it. Between backups the "guest" writes
 * (qemu-io on the active layer: data, zeroes over data, discards); right after each backup's point in time the
 * guest view is captured, and every backup must restore to exactly that.
 */

const LONG = 240_000;

function input(disk: BackupTestDisk, layers: RunBackupInput["layers"], extra: Partial<RunBackupInput> = {}): RunBackupInput {
  return { diskName: disk.disk, layers, active: "base", repoRoot: disk.repo, runDir: disk.runDir, ...extra };
}

describe("backup of a stopped disk", () => {
  it("full then incrementals: every point restores byte-identical, stages and manifest as documented", async () => {
    const disk = await makeBackupTestDisk();
    const layers = await disk.layers();
    await writeOffline(disk.file("base"), [
      { op: "write", pattern: 0x11, offset: 0, length: 8 * MiB },
      { op: "write", pattern: 0x12, offset: 40 * MiB, length: 3 * MiB + 512 },
    ]);
    const captures: Record<string, string> = {};
    const kinds: string[] = [];
    for (let round = 0; round < 4; round++) {
      if (round > 0) await writeOffline(disk.file("base"), randomWrites(round, 12, 64));
      const preview = await previewBackup(input(disk, layers));
      const stages: BackupStage[] = [];
      let capture = "";
      const result = await runBackup(
        input(disk, layers, {
          onStage: (s) => stages.push(s),
          // Nothing writes to a stopped disk while its backup runs: any moment after the point in time will do.
          onPointInTime: () => void (capture = path.join(disk.dir, `capture-${round}.qcow2`)),
        }),
      );
      await captureOffline(disk.file("base"), capture);
      captures[result.backup.id] = capture;
      kinds.push(`${result.kind}:${result.reason}`);
      expect(preview.decision).toMatchObject({ kind: result.kind, reason: result.reason });
      expect(stages).toEqual(["replication", "transfer", "storage"]);
      expect(result.backup.verify.status).toBe("ok");
      expect(result.warnings).toEqual([]);
    }
    expect(kinds).toEqual(["full:first-backup", "incremental:incremental", "incremental:incremental", "incremental:incremental"]);

    // The daemon quit cleanly: the chain's bitmap is stored, recording, not in use.
    const [chain] = (await importRepository(disk.repo)).disks[0]!.chains;
    expect(await bitmapsOf(disk.file("base"))).toEqual([{ name: chain!.bitmap, flags: ["auto"], granularity: 65536 }]);
    // Incrementals are qcow2 files backed by the previous backup, by a relative name; only changes are stored.
    const folder = path.join(disk.repo, disk.disk, chain!.chainId);
    for (const b of chain!.backups.slice(1)) {
      expect((await readQcow2Header(path.join(folder, b.file))).backingFile).toBe(b.backingFile);
      expect(b.fileSize).toBeLessThan(chain!.backups[0]!.fileSize);
    }
    for (const [id, capture] of Object.entries(captures)) await expectRestoresTo(disk, id, capture);
    expect((await verifyChain({ repoRoot: disk.repo, disk: disk.disk, chainId: chain!.chainId })).ok).toBe(true);
  }, LONG);

  it("the repository re-imports from its manifests alone, and a chain copied elsewhere still restores", async () => {
    const disk = await makeBackupTestDisk();
    const layers = await disk.layers();
    await writeOffline(disk.file("base"), randomWrites(7, 10, 64));
    await runBackup(input(disk, layers));
    await writeOffline(disk.file("base"), randomWrites(8, 10, 64));
    const second = await runBackup(input(disk, layers));
    const capture = await captureOffline(disk.file("base"), path.join(disk.dir, "capture.qcow2"));

    const imported = await importRepository(disk.repo);
    expect(imported.problems).toEqual([]);
    expect(imported.disks.map((d) => d.disk)).toEqual([disk.disk]);
    const chain = imported.disks[0]!.chains[0]!;
    expect(chain.backups.map((b) => [b.kind, b.reason, b.sourceLayer, b.bitmap, b.verify.status])).toEqual([
      ["full", "first-backup", "base", chain.bitmap, "ok"],
      ["incremental", "incremental", "base", chain.bitmap, "ok"],
    ]);
    expect(chain.backups[1]).toEqual(second.backup);

    // Move the whole repository: relative backing names keep the chain readable.
    const moved = path.join(disk.dir, "moved-repo");
    const { rename } = await import("node:fs/promises");
    await rename(disk.repo, moved);
    await expectRestoresTo({ ...disk, repo: moved }, second.backup.id, capture);
  }, LONG);

  it("refuses, leaving nothing behind, when another process holds the disk (a VM running without its QMP client)", async () => {
    const disk = await makeBackupTestDisk();
    const layers = await disk.layers();
    const vm = await serveDisk(disk, ["base"]);
    try {
      const err = await runBackup(input(disk, layers)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CanopyError);
      expect((err as CanopyError).code).toBe("busy");
      expect((err as CanopyError).message).toMatch(/QMP/);
    } finally {
      await vm.stop();
    }
    expect(await listChains(disk.repo, disk.disk)).toEqual({ chains: [], problems: [] });
    expect(await readdir(disk.runDir)).toEqual([]);
  }, LONG);
});
