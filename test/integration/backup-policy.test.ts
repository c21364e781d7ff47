import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { importRepository } from "@/lib/backup/repository";
import { runBackup } from "@/lib/backup/run-backup";
import {
  bitmapsOf,
  captureNbd,
  captureOffline,
  expectRestoresTo,
  makeBackupTestDisk,
  serveDisk,
  writeNbd,
  writeOffline,
} from "../support/backup-disk";

/** The policy on real backups: after maxIncrementals incrementals the next backup is full, in a new chain. */

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
}, 30_000);

describe("backup policy", () => {
  it("with a limit of 3, the 4th backup after a full is full (policy) and starts a new chain", async () => {
    const disk = await makeBackupTestDisk();
    const layers = await disk.layers();
    const kinds: string[] = [];
    let last = "";
    for (let i = 0; i < 6; i++) {
      await writeOffline(disk.file("base"), [{ op: "write", pattern: 0x20 + i, offset: i * 65536 * 3, length: 4096 }]);
      const r = await runBackup({
        diskName: disk.disk,
        layers,
        active: "base",
        repoRoot: disk.repo,
        runDir: disk.runDir,
        policy: { maxIncrementals: 3 },
      });
      kinds.push(`${r.kind}:${r.reason}`);
      last = r.backup.id;
    }
    expect(kinds).toEqual([
      "full:first-backup",
      "incremental:incremental",
      "incremental:incremental",
      "incremental:incremental",
      "full:policy",
      "incremental:incremental",
    ]);
    const chains = (await importRepository(disk.repo)).disks[0]!.chains;
    expect(chains.map((c) => c.backups.length)).toEqual([4, 2]);
    // The new chain's full took over tracking: the old chain's bitmap is gone from the active layer.
    expect((await bitmapsOf(disk.file("base"))).map((b) => b.name)).toEqual([chains[1]!.bitmap]);
    await expectRestoresTo(disk, last, await captureOffline(disk.file("base"), path.join(disk.dir, "now.qcow2")));
  }, 240_000);

  it("with the default (63), the 64th backup after a full is full", async () => {
    const disk = await makeBackupTestDisk({ sizeMiB: 16 });
    const layers = await disk.layers();
    const vm = await serveDisk(disk, ["base"]);
    stops.push(vm.stop);
    const kinds: string[] = [];
    let lastIncremental = "";
    let captureOfLast = "";
    for (let i = 0; i < 65; i++) {
      await writeNbd(vm.uri, [{ op: "write", pattern: 1 + (i % 250), offset: (i % 200) * 65536, length: 512 }]);
      if (i === 63) captureOfLast = await captureNbd(vm.uri, path.join(disk.dir, "capture-63.qcow2"));
      const r = await runBackup({
        diskName: disk.disk,
        layers,
        active: "base",
        qmp: vm.client,
        repoRoot: disk.repo,
        runDir: disk.runDir,
      });
      kinds.push(r.kind === "full" ? `full:${r.reason}` : "inc");
      if (i === 63) lastIncremental = r.backup.id;
    }
    expect(kinds[0]).toBe("full:first-backup");
    expect(kinds.slice(1, 64)).toEqual(new Array(63).fill("inc"));
    expect(kinds[64]).toBe("full:policy");
    // The 63rd incremental, 64 files deep, still restores exactly.
    await vm.stop();
    stops.length = 0;
    await expectRestoresTo(disk, lastIncremental, captureOfLast);
  }, 600_000);
});
