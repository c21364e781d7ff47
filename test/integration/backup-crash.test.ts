import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { listChains } from "@/lib/backup/repository";
import { runBackup, type RunBackupInput } from "@/lib/backup/run-backup";
import { verifyChain } from "@/lib/backup/verify";
import { readQcow2Header } from "@/lib/qcow2/header";
import {
  bitmapsOf,
  captureNbd,
  captureOffline,
  expectRestoresTo,
  findJobDaemonPid,
  makeBackupTestDisk,
  MiB,
  randomWrites,
  serveDisk,
  writeNbd,
  writeOffline,
  type BackupTestDisk,
} from "../support/backup-disk";

/**
 * Backups that do not finish: the job's daemon killed (SIGKILL) mid-copy, the disk's own QEMU killed, a
 * cancel. What must hold: earlier backups are untouched (checksums, restores), nothing half-written is left
 * in the repository, and the next backup is full exactly when the tracking can no longer be trusted.
 */

const LONG = 300_000;
const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
}, 30_000);

function stoppedInput(disk: BackupTestDisk, layers: RunBackupInput["layers"], extra: Partial<RunBackupInput> = {}): RunBackupInput {
  return { diskName: disk.disk, layers, active: "base", repoRoot: disk.repo, runDir: disk.runDir, ...extra };
}

async function untouched(disk: BackupTestDisk, chainId: string, captures: Record<string, string>): Promise<void> {
  expect((await verifyChain({ repoRoot: disk.repo, disk: disk.disk, chainId })).ok).toBe(true);
  for (const [id, capture] of Object.entries(captures)) await expectRestoresTo(disk, id, capture);
}

describe("interrupted backups", () => {
  it("SIGKILL of the job daemon mid-backup: bitmap left in use, next backup full (bitmap-inconsistent), earlier backups intact", async () => {
    const disk = await makeBackupTestDisk();
    const layers = await disk.layers();
    await writeOffline(disk.file("base"), [{ op: "write", pattern: 0x31, offset: 0, length: 24 * MiB }]);
    const captures: Record<string, string> = {};
    for (let i = 0; i < 2; i++) {
      if (i) await writeOffline(disk.file("base"), randomWrites(30 + i, 10, 64));
      const r = await runBackup(stoppedInput(disk, layers));
      captures[r.backup.id] = await captureOffline(disk.file("base"), path.join(disk.dir, `c${i}.qcow2`));
    }
    const chainId = (await listChains(disk.repo, disk.disk)).chains[0]!.chainId;

    await writeOffline(disk.file("base"), [{ op: "write", pattern: 0x32, offset: 0, length: 16 * MiB }]);
    let killed = false;
    const attempt = runBackup(
      stoppedInput(disk, layers, {
        speed: 1 * MiB, // 16 MiB to copy: ~16 s, so the kill lands mid-job
        onProgress: (done) => {
          if (killed || done === 0) return;
          killed = true;
          void findJobDaemonPid(disk.runDir).then((pid) => pid && process.kill(pid, "SIGKILL"));
        },
      }),
    );
    await expect(attempt).rejects.toThrow(/lost|closed|failed/i);
    expect(killed).toBe(true);
    expect((await readQcow2Header(disk.file("base"))).bitmaps).toEqual([expect.objectContaining({ inUse: true })]);
    const afterKill = (await listChains(disk.repo, disk.disk)).chains[0]!;
    expect(afterKill.attempt).toMatchObject({ state: "failed" });
    expect(afterKill.backups).toHaveLength(2);
    await untouched(disk, chainId, captures);

    const next = await runBackup(stoppedInput(disk, layers));
    expect(`${next.kind}:${next.reason}`).toBe("full:bitmap-inconsistent");
    // The inconsistent bitmap is gone, the new chain's is stored cleanly.
    expect(await bitmapsOf(disk.file("base"))).toEqual([expect.objectContaining({ name: next.chain.bitmap, flags: ["auto"] })]);
    await expectRestoresTo(disk, next.backup.id, await captureOffline(disk.file("base"), path.join(disk.dir, "c-next.qcow2")));
    await untouched(disk, chainId, captures);
    const { problems } = await listChains(disk.repo, disk.disk);
    expect(problems).toEqual([]);
  }, LONG);

  it("the running disk's QEMU killed mid-backup: the next backup is full, whether the bitmap was stored or not", async () => {
    const disk = await makeBackupTestDisk();
    const layers = await disk.layers();
    let vm = await serveDisk(disk, ["base"]);
    stops.push(vm.stop);
    const backup = (extra: Partial<RunBackupInput> = {}) =>
      runBackup({ diskName: disk.disk, layers, active: "base", qmp: vm.client, repoRoot: disk.repo, runDir: disk.runDir, ...extra });
    const killMidJob = async () => {
      await writeNbd(vm.uri, [{ op: "write", pattern: 0x42, offset: 0, length: 16 * MiB }]);
      const attempt = backup({ speed: 1 * MiB, onPointInTime: () => void setTimeout(() => void vm.daemon.kill("SIGKILL"), 500) });
      await expect(attempt).rejects.toThrow(/lost|closed/i);
      stops.length = 0;
      vm = await serveDisk(disk, ["base"]);
      stops.push(vm.stop);
    };
    const restart = async () => {
      await vm.stop();
      vm = await serveDisk(disk, ["base"]);
      stops.splice(0, stops.length, vm.stop);
    };
    const checked: Array<[string, string]> = [];

    await writeNbd(vm.uri, [{ op: "write", pattern: 0x41, offset: 0, length: 20 * MiB }]);
    const first = await backup();
    checked.push([first.backup.id, await captureNbd(vm.uri, path.join(disk.dir, "first.qcow2"))]);
    // Killed in the session that created the bitmap: QEMU had not stored it yet, so the image has none.
    await killMidJob();
    const afterUnstored = await backup();
    expect(`${afterUnstored.kind}:${afterUnstored.reason}`).toBe("full:bitmap-missing");
    checked.push([afterUnstored.backup.id, await captureNbd(vm.uri, path.join(disk.dir, "second.qcow2"))]);

    // A clean restart stores the bitmap; the next session loads it (marked in use in the image) and tracks on.
    await restart();
    await writeNbd(vm.uri, [{ op: "write", pattern: 0x43, offset: 30 * MiB, length: 1 * MiB }]);
    const incremental = await backup();
    expect(incremental.kind).toBe("incremental");
    checked.push([incremental.backup.id, await captureNbd(vm.uri, path.join(disk.dir, "third.qcow2"))]);
    // Killed now, the stored bitmap stays "in use": on restart QEMU reports it inconsistent.
    await killMidJob();
    const afterStored = await backup();
    expect(`${afterStored.kind}:${afterStored.reason}`).toBe("full:bitmap-inconsistent");
    checked.push([afterStored.backup.id, await captureNbd(vm.uri, path.join(disk.dir, "fourth.qcow2"))]);

    await vm.stop();
    stops.length = 0;
    for (const [id, capture] of checked) await expectRestoresTo(disk, id, capture);
  }, LONG);

  it("a cancelled incremental leaves the tracking intact: the next backup is still incremental and exact", async () => {
    const disk = await makeBackupTestDisk();
    const layers = await disk.layers();
    await writeOffline(disk.file("base"), randomWrites(50, 20, 64));
    await runBackup(stoppedInput(disk, layers));
    await writeOffline(disk.file("base"), [{ op: "write", pattern: 0x51, offset: 0, length: 16 * MiB }]);
    const abort = new AbortController();
    const cancelled = runBackup(
      stoppedInput(disk, layers, { speed: 1 * MiB, signal: abort.signal, onPointInTime: () => void setTimeout(() => abort.abort(), 300) }),
    );
    await expect(cancelled).rejects.toThrow(/cancel/i);
    const chain = (await listChains(disk.repo, disk.disk)).chains[0]!;
    expect(chain.attempt).toBeNull();
    expect(chain.backups).toHaveLength(1);

    await writeOffline(disk.file("base"), randomWrites(51, 5, 64));
    const next = await runBackup(stoppedInput(disk, layers));
    expect(`${next.kind}:${next.reason}`).toBe("incremental:incremental");
    await expectRestoresTo(disk, next.backup.id, await captureOffline(disk.file("base"), path.join(disk.dir, "c.qcow2")));
  }, LONG);
});
