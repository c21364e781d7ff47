import path from "node:path";
import { describe, expect, it } from "vitest";
import { applyRetention, deleteBackups } from "@/lib/backup/delete-backups";
import { planRestore } from "@/lib/backup/plan-restore";
import { importRepository, listChains } from "@/lib/backup/repository";
import { restore } from "@/lib/backup/restore";
import { runBackup, type RunBackupResult } from "@/lib/backup/run-backup";
import { verifyChain } from "@/lib/backup/verify";
import { CanopyError } from "@/lib/errors";
import { fingerprintTree } from "../support/files";
import {
  captureOffline,
  expectRestoresTo,
  flipDataByte,
  makeBackupTestDisk,
  randomWrites,
  writeOffline,
  type BackupTestDisk,
} from "../support/backup-disk";

/** Verification catches a flipped byte; deletions the rules refuse change nothing; allowed ones are exact. */

const LONG = 300_000;

const captures = new Map<string, string>();

/** Guest writes, a backup, and the capture of the guest view at its point (nothing writes in between). */
async function backupAfterWrites(disk: BackupTestDisk, seed: number, requestedFull = false): Promise<RunBackupResult> {
  await writeOffline(disk.file("base"), randomWrites(seed, 6, 64));
  const result = await runBackup({
    diskName: disk.disk,
    layers: await disk.layers(),
    active: "base",
    repoRoot: disk.repo,
    runDir: disk.runDir,
    requestedFull,
  });
  captures.set(result.backup.id, await captureOffline(disk.file("base"), path.join(disk.dir, `point-${result.backup.id}.qcow2`)));
  return result;
}

describe("verify", () => {
  it("a flipped byte in a backup file fails verification, is recorded, and makes the next backup full", async () => {
    const disk = await makeBackupTestDisk();
    const full = await backupAfterWrites(disk, 1);
    const inc = await backupAfterWrites(disk, 2);
    const chainId = full.chain.chainId;
    expect((await verifyChain({ repoRoot: disk.repo, disk: disk.disk, chainId })).ok).toBe(true);

    await flipDataByte(path.join(disk.repo, disk.disk, chainId, inc.backup.file));
    const report = await verifyChain({ repoRoot: disk.repo, disk: disk.disk, chainId });
    expect(report.ok).toBe(false);
    expect(report.backups.map((b) => b.result.status)).toEqual(["ok", "failed"]);
    expect(report.backups[1]!.result.problems.join()).toMatch(/sha256 .* differs/);
    const stored = (await listChains(disk.repo, disk.disk)).chains[0]!;
    expect(stored.backups.map((b) => b.verify.status)).toEqual(["ok", "failed"]);

    // A restore refuses a chain that does not match its checksums.
    const plan = await planRestore({
      repoRoot: disk.repo,
      disk: disk.disk,
      backupId: inc.backup.id,
      target: { kind: "file", path: path.join(disk.dir, "out.qcow2") },
    });
    expect(plan.warnings.join()).toMatch(/known bad/);
    await expect(restore(plan)).rejects.toThrow(/does not match its checksum/);

    const next = await backupAfterWrites(disk, 3);
    expect(`${next.kind}:${next.reason}`).toBe("full:previous-failed-or-unverified");
    expect(next.reasonDetail).toContain(inc.backup.id);
  }, LONG);
});

describe("deletion", () => {
  it("refused deletions change nothing; allowed ones remove exactly what the plan says; retention keeps whole chains", async () => {
    const disk = await makeBackupTestDisk();
    const c1 = [await backupAfterWrites(disk, 10), await backupAfterWrites(disk, 11), await backupAfterWrites(disk, 12)];
    const c2 = [await backupAfterWrites(disk, 13, true), await backupAfterWrites(disk, 14)];
    expect(c2[0]!.reason).toBe("requested-full");
    const before = await fingerprintTree(disk.repo);

    const refusals: Array<[Parameters<typeof deleteBackups>[0]["request"], RegExp]> = [
      [{ chainId: c2[0]!.chain.chainId }, /no newer full/],
      [{ backupIds: [c2[1]!.backup.id] }, /no newer full/],
      [{ backupIds: [c2[0]!.backup.id] }, new RegExp(`--full.*${c2[1]!.backup.id} depends on it.*the whole chain`)],
    ];
    for (const [request, why] of refusals) {
      const err = await deleteBackups({ repoRoot: disk.repo, disk: disk.disk, request }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CanopyError);
      expect((err as CanopyError).code).toBe("refused");
      expect((err as CanopyError).message).toMatch(why);
      expect(await fingerprintTree(disk.repo)).toEqual(before);
    }
    const refused = (await deleteBackups({
      repoRoot: disk.repo,
      disk: disk.disk,
      request: { backupIds: [c2[0]!.backup.id] },
    }).catch((e: CanopyError) => e)) as CanopyError;
    expect(refused.details).toEqual({ dependents: [{ backup: "(the next incremental)", dependsOn: c2[1]!.backup.id }] });

    // With a newer verified full, the older chain's full goes with everything stacked on it (a dry run here).
    const wholeOld = await deleteBackups({ repoRoot: disk.repo, disk: disk.disk, request: { backupIds: [c1[0]!.backup.id] }, dryRun: true });
    expect(wholeOld).toMatchObject({ chains: [c1[0]!.chain.chainId], along: [c1[1]!.backup.id, c1[2]!.backup.id] });
    expect(await fingerprintTree(disk.repo)).toEqual(before);

    // The tip of the older chain may go: the manifest and the file, nothing else.
    const tip = await deleteBackups({ repoRoot: disk.repo, disk: disk.disk, request: { backupIds: [c1[2]!.backup.id] } });
    expect(tip.backups.map((b) => b.id)).toEqual([c1[2]!.backup.id]);
    const after = await fingerprintTree(disk.repo);
    const changed = Object.keys({ ...before, ...after }).filter((k) => before[k] !== after[k]).sort();
    const folder1 = c1[0]!.chain.chainId;
    expect(changed).toEqual([`${disk.disk}/${folder1}/${c1[2]!.backup.file}`, `${disk.disk}/${folder1}/manifest.json`].sort());
    await expectRestoresTo(disk, c1[1]!.backup.id, captures.get(c1[1]!.backup.id)!);

    // Retention with 1 chain to keep: previews the older chain, then deletes it whole.
    const preview = await applyRetention({ repoRoot: disk.repo, disk: disk.disk, keepChains: 1, dryRun: true });
    expect(preview).toMatchObject({ keep: [c2[0]!.chain.chainId], delete: [folder1] });
    expect(await fingerprintTree(disk.repo)).toEqual(after);
    await applyRetention({ repoRoot: disk.repo, disk: disk.disk, keepChains: 1 });
    const imported = await importRepository(disk.repo);
    expect(imported.disks[0]!.chains.map((c) => c.chainId)).toEqual([c2[0]!.chain.chainId]);
    expect(imported.problems).toEqual([]);
    await expectRestoresTo(disk, c2[1]!.backup.id, captures.get(c2[1]!.backup.id)!);
  }, LONG);
});
