import { rm } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { handOverBitmapsOffline } from "@/lib/backup/hand-over-bitmaps";
import { mergeBitmapsBeforeCommit, mergeBitmapsBeforePull } from "@/lib/backup/merge-bitmaps";
import { runBackup, type RunBackupResult } from "@/lib/backup/run-backup";
import * as img from "@/lib/qemu/img";
import {
  bitmapsOf,
  captureOffline,
  createOverlay,
  expectRestoresTo,
  makeBackupTestDisk,
  MiB,
  randomWrites,
  writeOffline,
  type BackupTestDisk,
} from "../support/backup-disk";

/**
 * Dirty tracking across the tree, offline: snapshots hand the bitmap over, merges carry the bitmaps of the
 * layers they delete into the receiving layer, and an incremental after each of them still restores exactly.
 * Each step writes data the next incremental can only get right through that step's bitmap handling (e.g.
 * writes into B after a backup, then B merged away).
 */

const LONG = 300_000;

async function backup(
  disk: BackupTestDisk,
  active: string,
  mergedInto: Record<string, string> = {},
): Promise<{ result: RunBackupResult; capture: string }> {
  const result = await runBackup({
    diskName: disk.disk,
    layers: await disk.layers(),
    active,
    repoRoot: disk.repo,
    runDir: disk.runDir,
    mergedInto,
  });
  const capture = await captureOffline(disk.file(active), path.join(disk.dir, `capture-${result.backup.id}.qcow2`));
  await expectRestoresTo(disk, result.backup.id, capture);
  return { result, capture };
}

const kindOf = (r: RunBackupResult) => `${r.kind}:${r.reason}`;

describe("dirty tracking across snapshots and merges", () => {
  it("snapshot (bitmap handed over), merge down and merge up (bitmaps merged first): incrementals stay exact", async () => {
    const disk = await makeBackupTestDisk({ first: "A" });
    await writeOffline(disk.file("A"), randomWrites(1, 20, 64));
    const all: Array<{ result: RunBackupResult; capture: string }> = [];
    all.push(await backup(disk, "A"));

    // Snapshot B: A's bitmap is frozen with the writes since the backup; B's twin records from now on.
    await writeOffline(disk.file("A"), randomWrites(2, 8, 64));
    await createOverlay(disk, "A", "B");
    expect(await handOverBitmapsOffline(disk.file("A"), disk.file("B"))).toMatchObject({ handedOver: [all[0]!.result.backup.bitmap] });
    expect((await bitmapsOf(disk.file("A")))[0]?.flags).toEqual([]);
    await writeOffline(disk.file("B"), randomWrites(3, 8, 64));
    all.push(await backup(disk, "B"));
    expect(all[1]!.result.backup.sourceLayers).toEqual(["B", "A"]);

    // Writes into B after that backup, then snapshot C, then B merged down into A: B's marks must reach A.
    await writeOffline(disk.file("B"), randomWrites(4, 8, 64));
    await createOverlay(disk, "B", "C");
    await handOverBitmapsOffline(disk.file("B"), disk.file("C"));
    await writeOffline(disk.file("C"), randomWrites(5, 8, 64));
    expect(await mergeBitmapsBeforeCommit({ base: disk.file("A"), merged: [disk.file("B")] })).toMatchObject({ dropped: [] });
    await img.commit(disk.file("B"), disk.file("A"));
    await img.rebase(disk.file("C"), "A.qcow2", { pull: false });
    await rm(disk.file("B"));
    all.push(await backup(disk, "C", { B: "A" }));
    expect(all[2]!.result.backup.sourceLayers).toEqual(["C", "A"]);

    // Writes into C, snapshot D, then C pulled up into D (merge up): C's marks must reach D.
    await writeOffline(disk.file("C"), randomWrites(6, 8, 64));
    await createOverlay(disk, "C", "D");
    await handOverBitmapsOffline(disk.file("C"), disk.file("D"));
    await writeOffline(disk.file("D"), randomWrites(7, 4, 64));
    await mergeBitmapsBeforePull({ top: disk.file("D"), pulled: [disk.file("C")] });
    await img.rebase(disk.file("D"), "A.qcow2", { pull: true });
    await rm(disk.file("C"));
    all.push(await backup(disk, "D", { B: "A", C: "D" }));

    expect(all.map((b) => kindOf(b.result))).toEqual([
      "full:first-backup",
      "incremental:incremental",
      "incremental:incremental",
      "incremental:incremental",
    ]);
    for (const { result, capture } of all) await expectRestoresTo(disk, result.backup.id, capture);
  }, LONG);

  it("a revert makes the next backup full (disk-reverted); a snapshot without hand-over too (bitmap-missing)", async () => {
    const disk = await makeBackupTestDisk({ first: "A" });
    await writeOffline(disk.file("A"), [{ op: "write", pattern: 0xa0, offset: 0, length: 4 * MiB }]);
    await createOverlay(disk, "A", "B");
    await writeOffline(disk.file("B"), [{ op: "write", pattern: 0xb0, offset: 2 * MiB, length: 4 * MiB }]);
    const first = await backup(disk, "B");

    // Revert to A: a new overlay on A. The content went back: B's data is no longer the disk's.
    await createOverlay(disk, "A", "A-2");
    await handOverBitmapsOffline(disk.file("A"), disk.file("A-2"));
    await writeOffline(disk.file("A-2"), [{ op: "write", pattern: 0xa2, offset: 5 * MiB, length: 1 * MiB }]);
    const reverted = await backup(disk, "A-2");
    expect(kindOf(reverted.result)).toBe("full:disk-reverted");
    expect(reverted.result.reasonDetail).toContain("A-2 is not B");

    // A snapshot whose overlay never got the bitmap: its writes were not tracked.
    await createOverlay(disk, "A-2", "S");
    await writeOffline(disk.file("S"), [{ op: "write", pattern: 0x55, offset: 9 * MiB, length: 1 * MiB }]);
    const untracked = await backup(disk, "S");
    expect(kindOf(untracked.result)).toBe("full:bitmap-missing");
    expect(untracked.result.reasonDetail).toContain("layer S");

    // And the chain continues incrementally from there.
    await writeOffline(disk.file("S"), [{ op: "write", pattern: 0x56, offset: 11 * MiB, length: 1 * MiB }]);
    expect(kindOf((await backup(disk, "S")).result)).toBe("incremental:incremental");
    await expectRestoresTo(disk, first.result.backup.id, first.capture);
  }, LONG);

  it("a merge that cannot carry a bitmap over drops it, so the next backup is full rather than wrong", async () => {
    const disk = await makeBackupTestDisk({ first: "A" });
    await writeOffline(disk.file("A"), [{ op: "write", pattern: 0xa0, offset: 0, length: 4 * MiB }]);
    await backup(disk, "A");
    // B is stacked without the hand-over: its writes are untracked; merging it into A must not hide that.
    await createOverlay(disk, "A", "B");
    await writeOffline(disk.file("B"), [{ op: "write", pattern: 0xb0, offset: 8 * MiB, length: 1 * MiB }]);
    await createOverlay(disk, "B", "C");
    const merge = await mergeBitmapsBeforeCommit({ base: disk.file("A"), merged: [disk.file("B")] });
    expect(merge.dropped.map((d) => d.why)).toEqual([expect.stringMatching(/missing on .*B\.qcow2/)]);
    await img.commit(disk.file("B"), disk.file("A"));
    await img.rebase(disk.file("C"), "A.qcow2", { pull: false });
    await rm(disk.file("B"));
    expect(kindOf((await backup(disk, "C", { B: "A" })).result)).toBe("full:bitmap-missing");
  }, LONG);
});
