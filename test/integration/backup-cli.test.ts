import path from "node:path";
import { describe, expect, it } from "vitest";
import { SEED_VIRTUAL_SIZE } from "@/lib/demo/seed";
import { run } from "@/lib/proc/run";
import { makeCanopyEnv, type CanopyEnv } from "../support/canopy-env";
import { captureOffline, flipDataByte, writeOffline, MiB } from "../support/backup-disk";
import { fingerprintTree } from "../support/files";

/**
 * Backups through the real CLI (child processes, a real database, real QEMU): backup / backups / verify /
 * restore / backup-delete / policy on the seed's vm-1 (stopped; its active layer is 1C).
 */

const TOOL = { timeoutMs: 120_000 };

async function same(a: string, b: string): Promise<boolean> {
  const r = await run("qemu-img", ["compare", "-U", "-f", "qcow2", "-F", "qcow2", a, b], { ...TOOL, okExitCodes: [0, 1] });
  return r.exitCode === 0;
}

async function backupOk(c: CanopyEnv, ...extra: string[]) {
  const r = await c.cli("backup", "vm-1", ...extra, "--json");
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return r.json.backup as { backupId: string; kind: string; reason: string; chainId: string; seq: number };
}

describe("backups through the CLI", () => {
  it("full then incrementals restore byte-identical at every point; the policy limit forces a full; refused delete changes nothing", async () => {
    const c = await makeCanopyEnv();
    const active = path.join(c.root, "vm-1/1C.qcow2");
    const caps: Record<string, string> = {};
    const capture = async (id: string) => (caps[id] = await captureOffline(active, path.join(c.dir, `cap-${id}.qcow2`)));

    const pol = await c.cli("policy", "--disk", "vm-1", "--max-incrementals", "3", "--json");
    expect(pol.code, pol.stdout + pol.stderr).toBe(0);
    expect(pol.json.policy).toMatchObject({ disk: "vm-1", maxIncrementals: 3, overrides: ["maxIncrementals"] });

    const full = await backupOk(c);
    expect(full).toMatchObject({ kind: "full", reason: "first-backup", seq: 0 });
    await capture(full.backupId);
    const human = await c.cli("backups", "vm-1");
    expect(human.stdout).toContain("0/3 incrementals");

    const incs = [];
    for (let i = 0; i < 3; i++) {
      await writeOffline(active, [{ op: "write", pattern: 0x40 + i, offset: (30 + i * 3) * MiB + 4096 * i, length: MiB + 512 }]);
      const b = await backupOk(c);
      expect(b).toMatchObject({ kind: "incremental", reason: "incremental", seq: i + 1, chainId: full.chainId });
      await capture(b.backupId);
      incs.push(b);
    }
    await writeOffline(active, [{ op: "zero", offset: 30 * MiB, length: MiB }]);
    const fourth = await backupOk(c);
    expect(fourth).toMatchObject({ kind: "full", reason: "policy", seq: 0 });
    expect(fourth.chainId).not.toBe(full.chainId);
    await capture(fourth.backupId);

    const list = await c.cli("backups", "vm-1", "--json");
    expect(list.code).toBe(0);
    expect(list.json.backups.map((b: { kind: string; reason: string }) => `${b.kind}:${b.reason}`)).toEqual([
      "full:first-backup",
      "incremental:incremental",
      "incremental:incremental",
      "incremental:incremental",
      "full:policy",
    ]);
    expect(list.json.chains.map((ch: { incrementals: number }) => ch.incrementals)).toEqual([3, 0]);
    expect(list.json.backups.every((b: { verifyStatus: string; jobId: string }) => b.verifyStatus === "ok" && b.jobId)).toBe(true);

    // Every point restores byte-identical to what the disk held then.
    for (const [id, cap] of Object.entries(caps)) {
      const out = path.join(c.dir, `restored-${id}.qcow2`);
      const r = await c.cli("restore", id, "--to", out, "--json");
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(await same(out, cap), `backup ${id} restores to its capture`).toBe(true);
    }

    // With a newer verified full, the old chain's full goes with everything stacked on it: the whole chain (a dry
    // run here). The newest chain is kept whole, and its refusal says how to get there. Nothing changes.
    const before = await fingerprintTree(path.join(c.dir, "backups"));
    const wholeOld = await c.cli("backup-delete", full.backupId, "--dry-run", "--json");
    expect(wholeOld.code, wholeOld.stdout + wholeOld.stderr).toBe(0);
    expect(wholeOld.json.plan).toMatchObject({ chains: [full.chainId], along: incs.map((b) => b.backupId) });
    expect(wholeOld.json.plan.backups).toHaveLength(4);
    const wholeOldHuman = await c.cli("backup-delete", full.backupId, "--dry-run");
    expect(wholeOldHuman.stdout).toContain(`would delete chain ${full.chainId} (4 backups`);
    const newest = await c.cli("backup-delete", fourth.backupId);
    expect(newest.code).toBe(1);
    expect(newest.stderr).toMatch(/no newer full backup.*canopy backup vm-1 --full/);
    expect(await fingerprintTree(path.join(c.dir, "backups"))).toEqual(before);
    // The tip of the old chain may go (a newer verified full exists).
    const dry = await c.cli("backup-delete", incs[2]!.backupId, "--dry-run", "--json");
    expect(dry.json.plan.backups.map((b: { id: string }) => b.id)).toEqual([incs[2]!.backupId]);
    expect(await fingerprintTree(path.join(c.dir, "backups"))).toEqual(before);
    const del = await c.cli("backup-delete", incs[2]!.backupId, "--json");
    expect(del.code, del.stdout + del.stderr).toBe(0);
    expect((await c.cli("backups", "vm-1", "--json")).json.backups).toHaveLength(4);

    // Restore as a new disk: the scan lists it, with the backup's content.
    const asDisk = await c.cli("restore", fourth.backupId, "--as-disk", "vm-1-restored", "--json");
    expect(asDisk.code, asDisk.stdout + asDisk.stderr).toBe(0);
    const scan = await c.cli("scan", "--json");
    expect(JSON.stringify(scan.json)).toContain("vm-1-restored");
    expect(await same(path.join(c.root, "vm-1-restored/1C.qcow2"), caps[fourth.backupId]!)).toBe(true);

    // As a new branch of the same disk.
    const branch = await c.cli("restore", full.backupId, "--branch", "--layer", "R0", "--json");
    expect(branch.code, branch.stdout + branch.stderr).toBe(0);
    const tree = await c.cli("tree", "vm-1", "--json");
    expect(JSON.stringify(tree.json)).toContain('"R0"');
    expect(await same(path.join(c.root, "vm-1/R0.qcow2"), caps[full.backupId]!)).toBe(true);

    // In place over the stopped disk's active layer.
    const inPlace = await c.cli("restore", incs[0]!.backupId, "--in-place", "--json");
    expect(inPlace.code, inPlace.stdout + inPlace.stderr).toBe(0);
    expect(await same(active, caps[incs[0]!.backupId]!)).toBe(true);
    // Its bitmaps went with the old content: the next backup is full.
    const after = await backupOk(c);
    expect(after.kind).toBe("full");
  }, 420_000); // some 40 CLI runs with real QEMU: about 280 s on a loaded 2-core machine

  it("a flipped byte is caught by verify, and the next backup is full", async () => {
    const c = await makeCanopyEnv();
    const active = path.join(c.root, "vm-1/1C.qcow2");
    const first = await backupOk(c, "--full");
    expect(first.reason).toBe("first-backup"); // the first reason that applies wins
    const full = await backupOk(c, "--full");
    expect(full).toMatchObject({ kind: "full", reason: "requested-full" });
    await writeOffline(active, [{ op: "write", pattern: 0x77, offset: 40 * MiB, length: MiB }]);
    const inc = await backupOk(c);
    expect(inc.kind).toBe("incremental");

    const ok = await c.cli("verify", inc.backupId, "--json");
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.json.verify).toMatchObject({ status: "ok", ok: true });

    await flipDataByte(path.join(c.dir, "backups/vm-1", inc.chainId, "0001-incremental.qcow2"));
    // A failed check is a failed command (exit 1), with the whole result printed all the same.
    const bad = await c.cli("verify", inc.backupId, "--json");
    expect(bad.code, bad.stdout + bad.stderr).toBe(1);
    expect(bad.json.verify.status).toBe("failed");
    expect(bad.json.verify.problems.join(" ")).toMatch(/sha256|checksum/i);
    const badHuman = await c.cli("verify", inc.backupId);
    expect(badHuman.code).toBe(1);
    expect(badHuman.stdout).toContain(`${inc.backupId}: failed`);
    // The full it stacks on passes its own check, but the chain verify reads has a failed backup: exit 1 too.
    const chain = await c.cli("verify", full.backupId, "--json");
    expect(chain.code, chain.stdout + chain.stderr).toBe(1);
    expect(chain.json.verify).toMatchObject({ status: "ok", ok: false });
    const listed = await c.cli("backups", "vm-1", "--json");
    expect(listed.json.backups.find((b: { id: string }) => b.id === inc.backupId).verifyStatus).toBe("failed");

    const next = await backupOk(c);
    expect(next).toMatchObject({ kind: "full", reason: "previous-failed-or-unverified" });
    // The jobs list shows what each backup was, and a finished backup's bar is full: the bytes of its copy.
    const jobs = await c.cli("jobs", "--json");
    expect(jobs.code).toBe(0);
    type JobRow = { kind: string; summary: string; progressDone: number; progressTotal: number; requestedBy: string };
    const backupJobs = (jobs.json.jobs as JobRow[]).filter((j) => j.kind === "backup").reverse();
    expect(backupJobs.map((j) => j.summary)).toEqual([
      `full backup of vm-1 (first backup): ${first.backupId}`,
      `full backup of vm-1 (full requested): ${full.backupId}`,
      `incremental backup of vm-1: ${inc.backupId}`,
      `full backup of vm-1 (previous failed / unverified): ${next.backupId}`,
    ]);
    // The bar's total is the job's largest stage: the copy (a full reads the whole 64 MiB disk, the incremental
    // the 1 MiB written since) or the reading of the file it stored, whichever is more.
    const stored = (await c.cli("backups", "vm-1", "--json")).json.backups as Array<{ id: string; fileSize: number }>;
    const fileSize = (id: string) => stored.find((b) => b.id === id)!.fileSize;
    const copied = [
      [first.backupId, SEED_VIRTUAL_SIZE],
      [full.backupId, SEED_VIRTUAL_SIZE],
      [inc.backupId, MiB],
      [next.backupId, SEED_VIRTUAL_SIZE],
    ] as const;
    expect(backupJobs.map((j) => j.progressTotal)).toEqual(copied.map(([id, bytes]) => Math.max(bytes, fileSize(id))));
    for (const j of backupJobs) {
      expect(j.progressDone, j.summary).toBe(j.progressTotal);
      expect(j.requestedBy).toMatch(/^cli:[^:]+$/);
      expect(j.requestedBy).not.toBe("cli:unknown");
    }
  }, 180_000);

  it("retention keeps the newest chains after a backup; the worker runs the schedule", async () => {
    const c = await makeCanopyEnv();
    expect((await c.cli("policy", "--keep-chains", "1", "--json")).json.policy.keepChains).toBe(1);
    const a = await backupOk(c);
    const b = await c.cli("backup", "vm-1", "--full", "--json");
    expect(b.json.backup.retention.deleted).toEqual([a.chainId]);
    const list = await c.cli("backups", "vm-1", "--json");
    expect(list.json.chains.map((ch: { chainId: string }) => ch.chainId)).toEqual([b.json.backup.chainId]);

    const bad = await c.cli("policy", "--schedule", "61 * * * *");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/minute field "61"/);
    const never = await c.cli("policy", "--schedule", "0 0 31 4,6,9,11 *");
    expect(never.code).toBe(1);
    expect(never.stderr).toMatch(/would never run/);
    expect((await c.cli("policy", "--json")).json.policy.schedule, "a refused schedule is not saved").toBeNull();
    expect((await c.cli("policy", "--disk", "vm-2", "--schedule", "* * * * *", "--json")).code).toBe(0);
    const worker = c.startWorker();
    try {
      let done = null;
      for (let i = 0; i < 120 && !done; i++) {
        await new Promise((r) => setTimeout(r, 500));
        const jobs = (await c.cli("jobs", "--json")).json.jobs as Array<{ kind: string; state: string; disk: string; requestedBy?: string }>;
        done = jobs.find((j) => j.kind === "backup" && j.disk === "vm-2" && j.state === "succeeded") ?? null;
      }
      expect(done, "the schedule queued a backup of vm-2 and the worker ran it").not.toBeNull();
    } finally {
      worker.kill();
      await worker.exited;
    }
    const vm2 = await c.cli("backups", "vm-2", "--json");
    expect(vm2.json.backups[0]).toMatchObject({ kind: "full", reason: "first-backup" });

    // Clearing an override's only field removes the override: vm-2 follows the default again.
    const cleared = await c.cli("policy", "--disk", "vm-2", "--schedule", "default", "--json");
    expect(cleared.json.policy).toMatchObject({ disk: "vm-2", schedule: null, overrides: [] });
    expect(cleared.json.disks.map((d: { disk: string }) => d.disk)).not.toContain("vm-2");
  }, 180_000);
});
