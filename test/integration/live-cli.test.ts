import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeCanopyEnv, type CanopyEnv } from "../support/canopy-env";
import { expectLayerContent, parentsOf, seedContent } from "../support/layer-data";
import { GuestWriter } from "../support/live-writer";
import { WRITER_REGION } from "../support/live-disk";
import { imageMismatches, unitsFromBlocks, withWrites } from "../support/live-content";

/**
 * The CLI on a running disk: `canopy start` runs a qemu-storage-daemon holding vm-1, a guest writes through
 * its NBD export the whole time, and the unchanged operation commands route themselves through QMP.
 */
let env: CanopyEnv | null = null;
let writer: GuestWriter | null = null;
afterEach(async () => {
  await writer?.stop().catch(() => undefined);
  writer = null;
  if (env) await env.cli("stop", "vm-1").catch(() => undefined);
  env = null;
});

describe("operations on a running disk, through the CLI", () => {
  it("live snapshot, active merge down, merge up and a refused merge, while the guest writes", async () => {
    const c = (env = await makeCanopyEnv());
    const before = seedContent(undefined, undefined, "vm-1");
    const started = await c.cli("start", "vm-1", "--json");
    expect(started.code, started.stdout + started.stderr).toBe(0);
    const scan = await c.cli("scan", "--json");
    expect(scan.json.disks.find((d: any) => d.name === "vm-1").status).toBe("running");
    writer = await GuestWriter.start(started.json.nbdUri, WRITER_REGION);
    await writer.moreWrites(30);

    const snap = await c.cli("snapshot", "vm-1", "--name", "S1", "--json");
    expect(snap.code, snap.stdout + snap.stderr).toBe(0);
    await writer.moreWrites(30);
    // Active commit: S1 (the running layer) into 1C, with a pivot; the guest keeps writing.
    const down = await c.cli("merge-down", "vm-1", "--top", "S1", "--base", "1C", "--json");
    expect(down.code, down.stdout + down.stderr).toBe(0);
    expect(down.json.plan.activeAfter).toBe("1C");
    await writer.moreWrites(30);
    // Stream 1B into the running 1C; 1A stays for the branch 1X.
    const up = await c.cli("merge-up", "vm-1", "--top", "1C", "--base", "1A", "--json");
    expect(up.code, up.stdout + up.stderr).toBe(0);
    await writer.moreWrites(30);
    const refused = await c.cli("merge-down", "vm-1", "--top", "1A", "--base", "VM1");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/sibling rule/);
    // A revert would record a new branch as active while QEMU goes on writing to 1C: refused, no file made
    // (the parents checked below are the whole disk).
    const revert = await c.cli("revert", "vm-1", "1A");
    expect(revert.code).toBe(1);
    expect(revert.stderr).toMatch(/disk vm-1 is running: its QEMU process keeps writing to 1C until it is stopped/);

    const writes = await writer.stop();
    writer = null;
    expect(writes.filter((w) => w.ok).length).toBeGreaterThan(100);
    expect((await c.cli("stop", "vm-1")).code).toBe(0);

    expect(await parentsOf(c.root, "vm-1")).toEqual({ Base: null, VM1: "Base", "1A": "VM1", "1X": "1A", "1C": "1A" });
    // Every acknowledged write is in the running layer, on top of what 1C showed before.
    const expected = withWrites(unitsFromBlocks(before["1C"]!), writes);
    expect(await imageMismatches(path.join(c.root, "vm-1/1C.qcow2"), expected)).toEqual([]);
    // The snapshots that stay read exactly as before.
    await expectLayerContent(c.root, "vm-1", { Base: before.Base!, VM1: before.VM1!, "1A": before["1A"]!, "1X": before["1X"]! });
    const tree = await c.cli("tree", "vm-1", "--json");
    expect(tree.json.activeLayer).toBe("1C");
  });

  it("a daemon killed outside Canopy is noticed: the disk is recorded as stopped and the scan is consistent", async () => {
    const c = (env = await makeCanopyEnv());
    const started = await c.cli("start", "vm-1", "--json");
    process.kill(started.json.pid, "SIGKILL");
    await new Promise((r) => setTimeout(r, 300));
    const res = await c.cli("snapshot", "vm-1", "--name", "after-crash", "--json");
    expect(res.code, res.stdout + res.stderr).toBe(0);
    const scan = await c.cli("scan", "--json");
    const vm1 = scan.json.disks.find((d: any) => d.name === "vm-1");
    expect(vm1.status).toBe("stopped");
    expect(vm1.problems).toEqual([]);
    expect(vm1.activeLayer).toBe("after-crash");
  });
});

describe("a worker killed during a live merge", () => {
  it("is resumed by the next worker, which finds the block job still running in QEMU and follows it", async () => {
    const { withoutLayers } = await import("../support/canopy-env");
    const layers = withoutLayers(["1X"]);
    const c = (env = await makeCanopyEnv(layers));
    c.env.CANOPY_LIVE_JOB_SPEED = String(1024 * 1024); // 6 MiB to copy: several seconds, so the kill lands mid-copy
    const before = seedContent(layers, undefined, "vm-1");
    expect((await c.cli("start", "vm-1")).code).toBe(0);
    const queued = await c.cli("merge-down", "vm-1", "--top", "1B", "--base", "VM1", "--background", "--json");
    const jobId: string = queued.json.job.id;
    const Database = (await import("better-sqlite3")).default;
    const db = new Database(c.env.DATABASE_URL!.replace(/^file:/, ""), { readonly: true });
    const step = () => db.prepare("SELECT state FROM JobStep WHERE jobId = ? AND name = 'commit'").get(jobId) as { state: string };
    const job = () => db.prepare("SELECT state, error FROM Job WHERE id = ?").get(jobId) as { state: string; error: string | null };
    const until = async (what: string, ok: () => boolean, ms = 60_000) => {
      const end = Date.now() + ms;
      while (!ok()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      const first = c.startWorker();
      await until("the commit to start", () => step().state === "running");
      await new Promise((r) => setTimeout(r, 1_000));
      first.kill("SIGKILL");
      await first.exited;
      expect(step().state).toBe("running");
      const second = c.startWorker();
      try {
        await until("the job to end", () => job().state !== "running", 120_000);
      } finally {
        second.kill("SIGTERM");
        await second.exited;
      }
      expect(job()).toEqual({ state: "succeeded", error: null });
    } finally {
      db.close();
    }
    expect((await c.cli("stop", "vm-1")).code).toBe(0);
    expect(await parentsOf(c.root, "vm-1")).toEqual({ Base: null, VM1: "Base", "1C": "VM1" });
    await expectLayerContent(c.root, "vm-1", { Base: before.Base!, VM1: before["1B"]!, "1C": before["1C"]! }, { exactly: true });
  });
});
