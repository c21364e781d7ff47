import { afterEach, describe, expect, it } from "vitest";
import { executeLiveStep } from "@/lib/live/execute-live";
import { inspectLive, activeChain } from "@/lib/live/inspect";
import { run } from "@/lib/proc/run";
import { makeCanopyEnv, type CanopyEnv } from "../support/canopy-env";
import { fingerprintTree } from "../support/files";
import { expectLayerContent, parentsOf, seedContent } from "../support/layer-data";
import { startLiveDisk } from "../support/live-disk";
import { openRawDb } from "../support/raw-db";

/**
 * make-active on real qcow2 files through the real CLI: the record of the layer the VM writes to moves to another
 * branch tip, a rescan keeps it, and no file changes. Every refusal leaves the record and every byte as they were.
 */

/** A dozen CLI commands each (a second or two apiece, several on a loaded 2-core machine) and a daemon started. */
const CLI_TEST_MS = 180_000;

let env: CanopyEnv | null = null;
afterEach(async () => {
  if (env) await env.cli("stop", "vm-1").catch(() => undefined);
  env = null;
});

async function recorded(c: CanopyEnv, disk = "vm-1"): Promise<string | null> {
  const db = await openRawDb(c.env.DATABASE_URL!, { readonly: true });
  try {
    return (await db.get<{ activeLayer: string | null }>('SELECT "activeLayer" FROM "Disk" WHERE name = ?', disk))!.activeLayer;
  } finally {
    await db.close();
  }
}

/** What the disk's QEMU serves to the guest, read over its NBD export: true when every range reads as its pattern. */
async function guestReads(nbdUri: string, reads: string[]): Promise<boolean> {
  const args = ["-f", "raw", "-r", ...reads.flatMap((r) => ["-c", `read -P ${r}`]), nbdUri];
  const { stdout, stderr } = await run("qemu-io", args, { timeoutMs: 60_000, okExitCodes: [0, 1] });
  const out = stdout + stderr;
  return (out.match(/^read \d+\/\d+ bytes/gm) ?? []).length === reads.length && !/verification failed|error/i.test(out);
}

describe("make-active through the CLI", () => {
  it("moves the record to the branch tip 1X: audited, kept by a rescan, no file changed; the disk then runs on 1X", async () => {
    const c = (env = await makeCanopyEnv());
    const files = await fingerprintTree(c.root);

    const dry = await c.cli("make-active", "vm-1", "1X", "--dry-run", "--json");
    expect(dry.code, dry.stdout + dry.stderr).toBe(0);
    expect(dry.json.plan).toMatchObject({
      operation: "make-active",
      steps: [{ kind: "switch-active", layer: "1X", from: "1C" }],
      activeBefore: "1C",
      activeAfter: "1X",
      bytesToMove: 0,
      changes: [],
      deletes: [],
      creates: [],
      refused: null,
    });
    expect(dry.json.plan.summary).toBe("Make 1X the active layer: the VM's writes go to 1X from now on, no longer to 1C");
    expect(dry.json.plan.notes).toContain(
      "the writes 1C received since the two branches parted at 1A stay on its branch: 1X does not see them, and 1C keeps them as a branch tip",
    );
    expect(await recorded(c)).toBe("1C");

    const res = await c.cli("make-active", "vm-1", "1X", "--json");
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.json.job.state).toBe("succeeded");
    expect(await recorded(c)).toBe("1X");
    // 1C is a leaf too, and the newest one: a rescan keeps the record all the same.
    const scan = await c.cli("scan", "--json");
    expect(scan.json.disks.find((d: any) => d.name === "vm-1").activeLayer).toBe("1X");
    expect((await c.cli("tree", "vm-1", "--json")).json.activeLayer).toBe("1X");
    expect(await recorded(c)).toBe("1X");

    // Only the record moved: every file keeps its bytes and its time, and every layer reads as the seed made it.
    expect(await fingerprintTree(c.root)).toEqual(files);
    await expectLayerContent(c.root, "vm-1", seedContent(undefined, undefined, "vm-1"), { exactly: true });

    const db = await openRawDb(c.env.DATABASE_URL!, { readonly: true });
    try {
      const events = await db.all<{ actor: string; detail: string }>('SELECT actor, detail FROM "AuditEvent" WHERE action = ?', "make-active");
      expect(events).toHaveLength(1);
      expect(JSON.parse(events[0]!.detail)).toMatchObject({ jobId: res.json.job.id, outcome: "succeeded", plan: { activeBefore: "1C", activeAfter: "1X" } });
    } finally {
      await db.close();
    }

    // The disk now runs on 1X: the guest reads 1X's own blocks, and not 1C's.
    const started = await c.cli("start", "vm-1", "--json");
    expect(started.code, started.stdout + started.stderr).toBe(0);
    expect(await guestReads(started.json.nbdUri, ["0x5a 20M 2M", "0xa5 12M 1M"])).toBe(true);
    expect(await guestReads(started.json.nbdUri, ["0x1c 16M 2M"])).toBe(false);
    expect((await c.cli("stop", "vm-1")).code).toBe(0);
    // And a snapshot now freezes 1X.
    expect((await c.cli("snapshot", "vm-1", "--name", "after", "--json")).code).toBe(0);
    expect((await parentsOf(c.root, "vm-1")).after).toBe("1X");
  }, CLI_TEST_MS);

  it("refuses a layer with layers on it, the template, the active layer, another disk's layer, a busy or a running disk, changing nothing", async () => {
    const c = (env = await makeCanopyEnv());
    const files = await fingerprintTree(c.root);
    const refusedWith = async (layer: string, code: string, message: RegExp) => {
      const res = await c.cli("make-active", "vm-1", layer, "--json");
      expect(res.code, `${layer}: ${res.stdout}${res.stderr}`).toBe(1);
      expect(res.json.error.code, layer).toBe(code);
      expect(res.json.error.message, layer).toMatch(message);
      return res;
    };

    const middle = await refusedWith("1A", "refused", /1A is not a branch tip: 1B, 1C, 1X are stacked on it/);
    expect(middle.json.plan.refused.dependents).toEqual(["1B", "1C", "1X"]);
    expect(middle.json.plan.refused.alternative).toMatchObject({ operation: "revert", params: { snapshot: "1A" } });
    expect(middle.json.error.message).toContain("canopy revert vm-1 1A");
    await refusedWith("Base", "refused", /Base is a shared template/);
    await refusedWith("1C", "refused", /1C is the active layer already/);
    await refusedWith("D2", "not-found", /disk "vm-1" has no layer named "D2"/);
    await refusedWith("nope", "not-found", /no layer named "nope"/);
    // The human form: one line on stderr.
    const human = await c.cli("make-active", "vm-1", "1A");
    expect(human.code).toBe(1);
    expect(human.stderr.trim().split("\n")).toHaveLength(1);

    // Another job holds the disk (a snapshot queued for a worker that is not running).
    const queued = await c.cli("snapshot", "vm-1", "--name", "queued", "--background", "--json");
    expect(queued.code, queued.stdout + queued.stderr).toBe(0);
    const busy = await refusedWith("1X", "busy", new RegExp(`disk "vm-1" is busy: job ${queued.json.job.id} \\(snapshot\\)`));
    expect(busy.json.jobId).toBe(queued.json.job.id);
    expect((await c.cli("cancel", queued.json.job.id, "--json")).json.state).toBe("cancelled");

    expect(await fingerprintTree(c.root)).toEqual(files);
    expect(await recorded(c)).toBe("1C");

    // The disk runs (Canopy's own daemon serves 1C): refused, and the guest still reads 1C.
    const started = await c.cli("start", "vm-1", "--json");
    expect(started.code, started.stdout + started.stderr).toBe(0);
    const whileRunning = await fingerprintTree(c.root);
    await refusedWith("1X", "refused", /disk vm-1 is running: its QEMU process writes to 1C until it is stopped; stop it first \("canopy stop vm-1"\)/);
    expect(await fingerprintTree(c.root)).toEqual(whileRunning);
    expect(await recorded(c)).toBe("1C");
    expect(await guestReads(started.json.nbdUri, ["0x1c 16M 2M"])).toBe(true);
    expect((await c.cli("stop", "vm-1")).code).toBe(0);

    const db = await openRawDb(c.env.DATABASE_URL!, { readonly: true });
    try {
      expect(await db.all('SELECT id FROM "Job" WHERE kind = ?', "make-active")).toEqual([]);
    } finally {
      await db.close();
    }
    await expectLayerContent(c.root, "vm-1", seedContent(undefined, undefined, "vm-1"), { exactly: true });
  }, CLI_TEST_MS);

  it("a switch that reaches a running disk anyway (started after the plan) is refused by the step, before any record", async () => {
    const live = await startLiveDisk();
    const chainBefore = activeChain(await inspectLive(live.qmp)).map((n) => n.name);
    await expect(executeLiveStep({ kind: "switch-active", layer: "1X", from: "1C" }, await live.ctx())).rejects.toMatchObject({
      code: "refused",
      message: expect.stringContaining("disk vm-1 is running"),
    });
    expect(live.activeLog).toEqual([]);
    expect(activeChain(await inspectLive(live.qmp)).map((n) => n.name)).toEqual(chainBefore);
    await live.stopAll();
    await expectLayerContent(live.root, "vm-1", { "1X": seedContent()["1X"]! });
  });
});
