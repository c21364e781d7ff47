import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { liveHandOverActions } from "@/lib/backup/live-hand-over";
import { runBackup } from "@/lib/backup/run-backup";
import {
  bitmapsOf,
  captureNbd,
  createOverlay,
  expectRestoresTo,
  makeBackupTestDisk,
  MiB,
  randomWrites,
  serveDisk,
  writeNbd,
  writeOffline,
} from "../support/backup-disk";

/**
 * A running disk: a qemu-storage-daemon holds the chain and exports the active layer over NBD, where a writer
 * (qemu-io) plays the guest. The backup runs inside that daemon through its QMP socket.
 *
 * The point in time: the writer is paused, the guest view captured through NBD, the backup started (its
 * transaction fixes the point); then the writer resumes and writes WHILE the job copies (the job is slowed
 * down so that it surely does). The backup must hold the captured view, none of the later writes; and the next
 * incremental must hold them (they went into the bitmap's successor, which replaced it on success).
 */

const LONG = 300_000;
const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
}, 30_000);

describe("backup of a running disk", () => {
  it("full and incrementals while the guest writes during each job restore to their points in time", async () => {
    const disk = await makeBackupTestDisk();
    await writeOffline(disk.file("base"), [{ op: "write", pattern: 0x0b, offset: 0, length: 6 * MiB }]);
    await createOverlay(disk, "base", "top");
    const layers = await disk.layers();
    const vm = await serveDisk(disk, ["base", "top"]);
    stops.push(vm.stop);
    await writeNbd(vm.uri, [{ op: "write", pattern: 0x70, offset: 10 * MiB, length: 14 * MiB }]);

    const captures: Array<[string, string]> = [];
    const kinds: string[] = [];
    for (let round = 0; round < 4; round++) {
      if (round > 0) await writeNbd(vm.uri, randomWrites(100 + round, 10, 64));
      const capture = await captureNbd(vm.uri, path.join(disk.dir, `capture-${round}.qcow2`));
      let during: Promise<void> = Promise.resolve();
      let writerDone = Infinity;
      let jobDone = 0;
      let jobBytes = 0;
      const result = await runBackup({
        diskName: disk.disk,
        layers,
        active: "top",
        qmp: vm.client,
        repoRoot: disk.repo,
        runDir: disk.runDir,
        // A second or more per backup: long enough for the writer to land in the middle of the job.
        speed: 2 * MiB,
        onPointInTime: () => {
          during = writeNbd(vm.uri, randomWrites(200 + round, 8, 64)).then(() => void (writerDone = performance.now()));
        },
        onStage: (stage) => void (stage === "transfer" && (jobDone = performance.now())),
        onProgress: (done, total) => void (jobBytes = Math.max(jobBytes, total)),
      });
      await during;
      expect(writerDone, "the guest wrote while the job was copying").toBeLessThan(jobDone);
      captures.push([result.backup.id, capture]);
      kinds.push(`${result.kind}:${result.reason}`);
      expect(result.backup.sourceLayer).toBe("top");
      expect(jobBytes).toBeGreaterThan(0);
    }
    expect(kinds).toEqual(["full:first-backup", "incremental:incremental", "incremental:incremental", "incremental:incremental"]);
    // The client belongs to the caller: still open, and the staging nodes are gone from the VM.
    const nodes = await vm.client.execute("query-named-block-nodes", { flat: true });
    expect(nodes.filter((n) => n["node-name"]?.startsWith("canopy-stage"))).toEqual([]);
    await vm.stop();
    stops.length = 0;
    expect((await bitmapsOf(disk.file("top"))).map((b) => b.flags)).toEqual([["auto"]]);
    for (const [id, capture] of captures) await expectRestoresTo(disk, id, capture);
  }, LONG);

  it("a live snapshot with the bitmap handed over in its transaction: the next incremental spans both layers", async () => {
    const disk = await makeBackupTestDisk();
    const vm = await serveDisk(disk, ["base"]);
    stops.push(vm.stop);
    await writeNbd(vm.uri, randomWrites(300, 20, 64));
    const backup = async (active: string) =>
      runBackup({ diskName: disk.disk, layers: await disk.layers(), active, qmp: vm.client, repoRoot: disk.repo, runDir: disk.runDir });
    const full = await backup("base");
    await writeNbd(vm.uri, randomWrites(301, 8, 64));

    // The live snapshot as the snapshot code would do it, with the hand-over in the same transaction.
    await createOverlay(disk, "base", "snap");
    await vm.client.execute("blockdev-add", {
      driver: "qcow2",
      "node-name": "n-snap",
      file: { driver: "file", filename: disk.file("snap") },
      backing: null,
    });
    const nodes = await vm.client.execute("query-named-block-nodes", { flat: true });
    const bitmaps = nodes.find((n) => n["node-name"] === "n-base")?.["dirty-bitmaps"] ?? [];
    const handOver = liveHandOverActions(bitmaps, "n-base", "n-snap");
    expect(handOver).toHaveLength(2);
    await vm.client.execute("transaction", {
      actions: [{ type: "blockdev-snapshot", data: { node: "n-base", overlay: "n-snap" } }, ...handOver],
    });
    await writeNbd(vm.uri, randomWrites(302, 8, 64));
    const capture = await captureNbd(vm.uri, path.join(disk.dir, "after-snapshot.qcow2"));
    const inc = await backup("snap");
    expect(`${inc.kind}:${inc.reason}`).toBe("incremental:incremental");
    expect(inc.backup.sourceLayers).toEqual(["snap", "base"]);
    expect(inc.backup.parentId).toBe(full.backup.id);

    await vm.stop();
    stops.length = 0;
    expect((await bitmapsOf(disk.file("base"))).map((b) => b.flags)).toEqual([[]]);
    expect((await bitmapsOf(disk.file("snap"))).map((b) => b.flags)).toEqual([["auto"]]);
    await expectRestoresTo(disk, inc.backup.id, capture);
  }, LONG);
});
