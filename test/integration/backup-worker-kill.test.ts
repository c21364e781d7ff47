import { readdir } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "@/lib/proc/run";
import { makeCanopyEnv, type CanopyEnv } from "../support/canopy-env";
import { bitmapsOf, captureOffline, writeOffline, MiB } from "../support/backup-disk";
import { fingerprintTree } from "../support/files";
import { waitFor } from "../support/wait-for";

/**
 * The worker killed (SIGKILL of its process group, so the qemu-storage-daemon it started for the job dies too)
 * while a backup of the stopped vm-1 is copying. Nothing may be lost: every layer reads as before, the earlier
 * backups are untouched, and the next worker runs the job again. The daemon's death leaves the chain's bitmap
 * "in use" on 1C, so the re-run is a full backup that says why, and every backup point restores exactly.
 */

const TOOL = { timeoutMs: 120_000 };

async function same(a: string, b: string): Promise<boolean> {
  const r = await run("qemu-img", ["compare", "-U", "-f", "qcow2", "-F", "qcow2", a, b], { ...TOOL, okExitCodes: [0, 1] });
  return r.exitCode === 0;
}

async function backupOk(c: CanopyEnv) {
  const r = await c.cli("backup", "vm-1", "--json");
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return r.json.backup as { backupId: string; kind: string; reason: string; chainId: string };
}

/** Every file below `dir` whose name ends with one of `suffixes`, relative to `dir`. */
async function filesEndingWith(dir: string, ...suffixes: string[]): Promise<string[]> {
  const all = (await readdir(dir, { recursive: true })) as string[];
  return all.filter((f) => suffixes.some((s) => f.endsWith(s))).sort();
}

describe("a worker killed during a backup", () => {
  it("leaves every layer and earlier backup intact; the next worker re-runs the job as a full that says why", async () => {
    const c = await makeCanopyEnv();
    const active = path.join(c.root, "vm-1/1C.qcow2");
    const backups = path.join(c.dir, "backups");
    const caps: Record<string, string> = {};

    const full = await backupOk(c);
    caps[full.backupId] = await captureOffline(active, path.join(c.dir, "cap-0.qcow2"));
    await writeOffline(active, [{ op: "write", pattern: 0x51, offset: 8 * MiB, length: 24 * MiB }]);
    const inc = await backupOk(c);
    expect(inc).toMatchObject({ kind: "incremental", chainId: full.chainId });
    caps[inc.backupId] = await captureOffline(active, path.join(c.dir, "cap-1.qcow2"));
    // What the interrupted incremental has to copy: 40 MiB, about ten seconds at the cap below.
    await writeOffline(active, [{ op: "write", pattern: 0x52, offset: 16 * MiB + 512, length: 40 * MiB }]);
    const expected = await captureOffline(active, path.join(c.dir, "cap-2.qcow2"));

    const layersBefore = await fingerprintTree(c.root);
    const earlierFiles = await filesEndingWith(backups, ".qcow2");
    expect(earlierFiles).toHaveLength(2);
    const backupsBefore = await fingerprintTree(backups);

    const queued = await c.cli("backup", "vm-1", "--background", "--json");
    expect(queued.code, queued.stdout + queued.stderr).toBe(0);
    const jobId: string = queued.json.job.id;

    const Database = (await import("better-sqlite3")).default;
    const db = new Database(c.env.DATABASE_URL!.replace(/^file:/, ""), { readonly: true });
    type JobRow = { state: string; stage: string | null; progressDone: number | bigint; error: string | null; plan: string };
    const job = () => db.prepare("SELECT state, stage, progressDone, error, plan FROM Job WHERE id = ?").get(jobId) as JobRow;
    try {
      c.env.CANOPY_BACKUP_SPEED = String(4 * MiB);
      const worker = c.startWorker();
      await waitFor("the copy to be under way", () => {
        const j = job();
        return j.stage === "replication" && Number(j.progressDone) > 0 ? j : null;
      });
      worker.kill("SIGKILL");
      await worker.exited;
      expect(job()).toMatchObject({ state: "running", stage: "replication" }); // it really died mid-copy

      // Nothing lost: the layers read as before (1C's header now says its bitmap was in use), the earlier
      // backups are byte for byte as they were, and nothing of the interrupted one is under a backup's name.
      expect(await same(active, expected), "1C reads as before").toBe(true);
      const layersAfter = await fingerprintTree(c.root);
      for (const [file, print] of Object.entries(layersBefore)) {
        if (file !== "vm-1/1C.qcow2") expect(layersAfter[file], file).toBe(print);
      }
      expect((await bitmapsOf(active)).find((b) => b.name === `canopy-${full.chainId}`)?.flags).toContain("in-use");
      const backupsAfterKill = await fingerprintTree(backups);
      for (const file of earlierFiles) expect(backupsAfterKill[file], file).toBe(backupsBefore[file]);
      expect(await filesEndingWith(backups, ".qcow2")).toEqual(earlierFiles);

      // The next worker finds the job orphaned and runs it again, unthrottled.
      delete c.env.CANOPY_BACKUP_SPEED;
      const again = c.startWorker();
      try {
        const ended = await waitFor("the job to end", () => (["succeeded", "failed", "cancelled"].includes(job().state) ? job() : null), 120_000);
        expect(ended, ended.error ?? "").toMatchObject({ state: "succeeded", error: null });
      } finally {
        again.kill("SIGTERM");
        await again.exited;
      }
    } finally {
      db.close();
    }

    const list = await c.cli("backups", "vm-1", "--json");
    expect(list.code, list.stdout + list.stderr).toBe(0);
    const made = list.json.backups as Array<{ id: string; kind: string; reason: string; verifyStatus: string; jobId: string }>;
    expect(made.map((b) => `${b.kind}:${b.reason}`)).toEqual(["full:first-backup", "incremental:incremental", "full:bitmap-inconsistent"]);
    expect(made.every((b) => b.verifyStatus === "ok")).toBe(true);
    expect(made[2]!.jobId).toBe(jobId);
    caps[made[2]!.id] = expected;
    expect(await filesEndingWith(backups, ".partial")).toEqual([]);

    for (const [id, cap] of Object.entries(caps)) {
      const out = path.join(c.dir, `restored-${id}.qcow2`);
      const r = await c.cli("restore", id, "--to", out, "--json");
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(await same(out, cap), `backup ${id} restores to what the disk held then`).toBe(true);
    }

    // Tracking is whole again: after a write, the next backup is an incremental of the new chain, and exact.
    await writeOffline(active, [{ op: "write", pattern: 0x53, offset: 2 * MiB, length: MiB }]);
    const next = await backupOk(c);
    expect(next).toMatchObject({ kind: "incremental", reason: "incremental" });
    const out = path.join(c.dir, "restored-next.qcow2");
    expect((await c.cli("restore", next.backupId, "--to", out, "--json")).code).toBe(0);
    expect(await same(out, await captureOffline(active, path.join(c.dir, "cap-3.qcow2")))).toBe(true);
  }, 240_000);
});
