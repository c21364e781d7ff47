import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { liveHandOverActions } from "@/lib/backup/live-hand-over";
import { runBackup } from "@/lib/backup/run-backup";
import type { QmpClient } from "@/lib/qmp/client";
import {
  bitmapsOf,
  captureNbd,
  createOverlay,
  expectRestoresTo,
  makeBackupTestDisk,
  MiB,
  randomWrites,
  serveDisk,
  touchedBytes,
  type GuestWrite,
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
const SIZE = 64 * MiB; // makeBackupTestDisk's default
const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
}, 30_000);

/** The granularity of the one dirty bitmap on a node of the running disk, as its QEMU reports it. */
async function bitmapGranularity(client: QmpClient, node: string): Promise<number> {
  const nodes = await client.execute("query-named-block-nodes", { flat: true });
  const bitmaps = nodes.find((n) => n["node-name"] === node)?.["dirty-bitmaps"] ?? [];
  expect(bitmaps, `${node} carries one bitmap`).toHaveLength(1);
  return bitmaps[0]!.granularity;
}

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
    /** What the guest wrote since the last backup's point in time: what the next incremental must copy. */
    let since: GuestWrite[] = [];
    for (let round = 0; round < 4; round++) {
      if (round > 0) {
        const before = randomWrites(100 + round, 10, 64);
        await writeNbd(vm.uri, before);
        since.push(...before);
      }
      const capture = await captureNbd(vm.uri, path.join(disk.dir, `capture-${round}.qcow2`));
      // A full copies the whole disk; an incremental every granule the tracking bitmap holds: those the writes
      // since touched. The guest's discards change nothing (the daemon opens the disk with discard=ignore, QEMU's
      // default), so they mark nothing either.
      const granularity = round === 0 ? 0 : await bitmapGranularity(vm.client, "n-top");
      const toCopy = round === 0 ? SIZE : touchedBytes(since.filter((w) => w.op !== "discard"), granularity);
      const duringWrites = randomWrites(200 + round, 8, 64);
      let during: Promise<void> = Promise.resolve();
      let writerDone = Infinity;
      let jobDone = 0;
      let jobBytes = 0;
      let stage = "";
      const last: Record<string, { done: number; total: number }> = {};
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
          during = writeNbd(vm.uri, duringWrites).then(() => void (writerDone = performance.now()));
        },
        onStage: (s) => {
          stage = s;
          if (s === "transfer") jobDone = performance.now();
        },
        onProgress: (done, total) => {
          jobBytes = Math.max(jobBytes, total);
          last[stage] = { done, total };
        },
      });
      await during;
      expect(writerDone, "the guest wrote while the job was copying").toBeLessThan(jobDone);
      captures.push([result.backup.id, capture]);
      kinds.push(`${result.kind}:${result.reason}`);
      expect(result.backup.sourceLayer).toBe("top");
      // The figures are the copy's own: QEMU's job counts the bytes it was to copy and did, to the granule; the
      // transfer hashes the staged file; the job's largest total is what a finished job's bar shows.
      expect(last.replication, `round ${round}: the copy's progress`).toEqual({ done: toCopy, total: toCopy });
      expect(last.transfer, `round ${round}: the transfer's progress`).toEqual({ done: result.backup.fileSize, total: result.backup.fileSize });
      expect(jobBytes).toBe(Math.max(toCopy, result.backup.fileSize));
      // The guest's writes during this job went to the bitmap's successor: the next incremental copies them.
      since = [...duringWrites];
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
