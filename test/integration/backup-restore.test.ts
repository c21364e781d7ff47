import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { planRestore } from "@/lib/backup/plan-restore";
import { restore } from "@/lib/backup/restore";
import { runBackup } from "@/lib/backup/run-backup";
import { scanDisk } from "@/lib/inventory/scan";
import { run } from "@/lib/proc/run";
import { fingerprintTree } from "../support/files";
import {
  captureOffline,
  createOverlay,
  makeBackupTestDisk,
  MiB,
  randomWrites,
  serveDisk,
  writeOffline,
  type BackupTestDisk,
} from "../support/backup-disk";

/** The three restore targets besides a plain file: a new disk, a new branch of the disk, and in place. */

const LONG = 300_000;
const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
}, 30_000);

async function same(a: string, b: string): Promise<boolean> {
  return (await run("qemu-img", ["compare", "-U", a, b], { okExitCodes: [0, 1] })).exitCode === 0;
}

/** base <- top (active), two backups; returns the capture of each backup's point. */
async function diskWithBackups(): Promise<{ disk: BackupTestDisk; ids: string[]; captures: string[] }> {
  const disk = await makeBackupTestDisk();
  await writeOffline(disk.file("base"), [{ op: "write", pattern: 0x0b, offset: 0, length: 8 * MiB }]);
  await createOverlay(disk, "base", "top");
  const ids: string[] = [];
  const captures: string[] = [];
  for (let i = 0; i < 2; i++) {
    await writeOffline(disk.file("top"), randomWrites(70 + i, 10, 64));
    const r = await runBackup({ diskName: disk.disk, layers: await disk.layers(), active: "top", repoRoot: disk.repo, runDir: disk.runDir });
    ids.push(r.backup.id);
    captures.push(await captureOffline(disk.file("top"), path.join(disk.dir, `point-${i}.qcow2`)));
  }
  await writeOffline(disk.file("top"), randomWrites(79, 10, 64)); // the disk moves on after the last backup
  return { disk, ids, captures };
}

describe("restore", () => {
  it("as a new disk and as a new branch: standalone layers the scan finds, with the backup's content", async () => {
    const { disk, ids, captures } = await diskWithBackups();
    const toDisk = await planRestore({
      repoRoot: disk.repo,
      disk: disk.disk,
      backupId: ids[1]!,
      target: { kind: "new-disk", storageRoot: disk.storage, disk: "vm-restored", layer: "root" },
    });
    expect(toDisk.chainFiles.map((f) => path.basename(f))).toEqual(["0000-full.qcow2", "0001-incremental.qcow2"]);
    const steps: string[] = [];
    await restore(toDisk, { onStep: (s) => steps.push(s) });
    expect(steps).toEqual(["convert", "compare", "swap"]);
    const restoredDisk = await scanDisk(disk.storage, "vm-restored");
    expect(restoredDisk.layers.map((l) => [l.name, l.parent])).toEqual([["root", null]]);
    expect(await same(path.join(disk.storage, "vm-restored/root.qcow2"), captures[1]!)).toBe(true);

    const branch = await planRestore({
      repoRoot: disk.repo,
      disk: disk.disk,
      backupId: ids[0]!,
      target: { kind: "new-layer", diskFolder: disk.folder, layer: "from-backup" },
    });
    await restore(branch);
    const inv = await scanDisk(disk.storage, disk.disk);
    expect(inv.layers.map((l) => [l.name, l.parent]).sort()).toEqual([
      ["base", null],
      ["from-backup", null],
      ["top", "base"],
    ]);
    expect(await same(disk.file("from-backup"), captures[0]!)).toBe(true);
    // No leftovers next to it.
    expect((await readdir(disk.folder)).sort()).toEqual(["base.qcow2", "from-backup.qcow2", "top.qcow2"]);
    // A name that exists is refused at planning.
    await expect(
      planRestore({ repoRoot: disk.repo, disk: disk.disk, backupId: ids[0]!, target: { kind: "new-layer", diskFolder: disk.folder, layer: "top" } }),
    ).rejects.toThrow(/already exists/);
  }, LONG);

  it("in place over a stopped disk: the plan says what is replaced; the swap is refused while the disk runs", async () => {
    const { disk, ids, captures } = await diskWithBackups();
    const plan = await planRestore({
      repoRoot: disk.repo,
      disk: disk.disk,
      backupId: ids[0]!,
      target: { kind: "in-place", diskFolder: disk.folder, activeLayer: "top" },
    });
    expect(plan.replaces).toMatchObject({ layer: "top", file: disk.file("top"), backingFile: "base.qcow2", virtualSize: 64 * MiB });
    expect(plan.replaces!.bitmaps).toHaveLength(1);
    expect(plan.warnings.join("\n")).toMatch(/replaced by backup/);
    expect(plan.warnings.join("\n")).toMatch(/no longer reads base\.qcow2/);

    // Running: the restore refuses at the swap, and the disk is untouched.
    const vm = await serveDisk(disk, ["base", "top"]);
    stops.push(vm.stop);
    const before = await fingerprintTree(disk.folder);
    await expect(restore(plan)).rejects.toThrow(/in use/);
    // Compared while the daemon still holds it (opening and closing rewrites the bitmap header itself).
    expect(await fingerprintTree(disk.folder)).toEqual(before);
    await vm.stop();
    stops.length = 0;

    const done = await restore(plan, { keepReplaced: true });
    expect(await same(disk.file("top"), captures[0]!)).toBe(true);
    expect(done.replacedKeptAs).not.toBeNull();
    expect((await stat(done.replacedKeptAs!)).isFile()).toBe(true);
    const inv = await scanDisk(disk.storage, disk.disk);
    expect(inv.layers.find((l) => l.name === "top")).toMatchObject({ parent: null, bitmaps: [] });

    // The content jumped: the restored layer has no bitmap, so the next backup is full.
    const next = await runBackup({ diskName: disk.disk, layers: await disk.layers(), active: "top", repoRoot: disk.repo, runDir: disk.runDir });
    expect(`${next.kind}:${next.reason}`).toBe("full:bitmap-missing");
  }, LONG);

  it("in place is refused when another layer is stacked on the one to replace", async () => {
    const { disk, ids } = await diskWithBackups();
    await createOverlay(disk, "top", "child");
    await expect(
      planRestore({ repoRoot: disk.repo, disk: disk.disk, backupId: ids[0]!, target: { kind: "in-place", diskFolder: disk.folder, activeLayer: "top" } }),
    ).rejects.toThrow(/child\.qcow2 is stacked on top/);
  }, LONG);
});
