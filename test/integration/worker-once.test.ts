import { rm } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { processGone } from "@/server/jobs/recover-jobs";
import { makeCanopyEnv } from "../support/canopy-env";
import { expectLayerContent, parentsOf, seedContent } from "../support/layer-data";
import { openRawDb } from "../support/raw-db";
import { waitFor } from "../support/wait-for";
import { CRASH_SIZE, LINEAR } from "../support/crash-seeds";

/**
 * `canopy worker --once`: what a CLI-only admin runs to finish what a killed command left, and to run the jobs
 * queued with --background. Everything through the real CLI, on real qcow2 files.
 */

/** Each test makes several CLI calls of a second or more each (several on a loaded machine), and copies data. */
const CLI_CALLS_MS = 150_000;

describe("canopy worker --once", () => {
  it("runs a job queued with --background: the job succeeds and the tree and data change as planned", async () => {
    const c = await makeCanopyEnv();
    const before = seedContent();
    const queued = await c.cli("merge-up", "vm-1", "--top", "1C", "--base", "VM1", "--background", "--json");
    expect(queued.json.job.state).toBe("queued");
    expect(await parentsOf(c.root, "vm-1")).toEqual({ Base: null, VM1: "Base", "1A": "VM1", "1B": "1A", "1X": "1A", "1C": "1B" });

    const ran = await c.cli("worker", "--once", "--json");
    expect(ran.code, ran.stdout + ran.stderr).toBe(0);
    expect(ran.json.jobs).toHaveLength(1);
    expect(ran.json.jobs[0]).toMatchObject({ id: queued.json.job.id, kind: "merge-up", disk: "vm-1", state: "succeeded", resumed: false });
    // 1B was pulled into 1C and deleted; every remaining layer reads exactly as before.
    expect(await parentsOf(c.root, "vm-1")).toEqual({ Base: null, VM1: "Base", "1A": "VM1", "1X": "1A", "1C": "VM1" });
    await expectLayerContent(
      c.root,
      "vm-1",
      { "1C": before["1C"]!, "1X": before["1X"]!, "1A": before["1A"]!, VM1: before.VM1!, Base: before.Base! },
      { exactly: true },
    );
    const jobs = await c.cli("jobs", "--json");
    expect(jobs.json.jobs.find((j: { id: string }) => j.id === queued.json.job.id).state).toBe("succeeded");

    const again = await c.cli("worker", "--once");
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toBe("no interrupted or queued jobs");
  }, CLI_CALLS_MS);

  it("prints one line per job it ran, and exits 1 when one of them failed", async () => {
    const c = await makeCanopyEnv();
    const before = seedContent();
    const failing = await c.cli("merge-up", "vm-1", "--top", "1C", "--base", "VM1", "--background", "--json");
    const fine = await c.cli("snapshot", "vm-2", "--name", "D3", "--background", "--json");
    // The merge's middle layer goes missing before the job runs: the merge cannot be done.
    await rm(path.join(c.root, "vm-1", "1B.qcow2"));

    const ran = await c.cli("worker", "--once");
    expect(ran.code, ran.stdout + ran.stderr).toBe(1);
    const lines = ran.stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain(`job ${failing.json.job.id} (${failing.json.plan.summary}): failed: `);
    expect(lines[0]).toContain("1B.qcow2");
    expect(lines[1]).toBe(`job ${fine.json.job.id} (${fine.json.plan.summary}): succeeded`);
    // The snapshot really happened: D3 is the new active layer on D2, reading as D2 did.
    expect((await parentsOf(c.root, "vm-2")).D3).toBe("D2");
    await expectLayerContent(c.root, "vm-2", { D3: before.D2!, D2: before.D2! });
  }, CLI_CALLS_MS);
});

describe("a CLI merge killed midway", () => {
  it("holds the disk as interrupted: a rerun says how to recover, and worker --once finishes the job", async () => {
    // Hundreds of MiB to pull, so that the kill lands inside the copy.
    const before = seedContent(LINEAR, CRASH_SIZE);
    const c = await makeCanopyEnv(LINEAR, CRASH_SIZE);
    const merge = ["merge-up", "big", "--top", "B3", "--base", "B0"];
    const db = await openRawDb(c.env.DATABASE_URL!, { readonly: true });
    try {
      const cli = c.startCli(...merge);
      const jobId = await waitFor("the merge's job", async () => (await db.get<{ id: string }>('SELECT id FROM "Job"'))?.id);
      const pull = () => db.get<{ state: string }>(`SELECT state FROM "JobStep" WHERE "jobId" = ? AND name = 'pull'`, jobId);
      await waitFor("the pull to start", async () => (await pull())?.state === "running");
      await new Promise((r) => setTimeout(r, 150)); // inside the copy
      cli.kill("SIGKILL");
      await cli.exited;
      // The CLI's own process (the job's workerPid, a child of bin/canopy.mjs) is orphaned by the kill and is a
      // zombie until the system's init reaps it, which some inits do only every second or two; till then it
      // looks alive to the rule that tells an interrupted job.
      const { workerPid } = (await db.get<{ workerPid: number }>('SELECT "workerPid" FROM "Job" WHERE id = ?', jobId))!;
      await waitFor("the killed CLI's process to be reaped", () => processGone({ workerPid, heartbeatAt: new Date() }), 30_000);
      expect((await pull())?.state).toBe("running"); // it really died mid-step
      expect((await db.get<{ state: string }>('SELECT state FROM "Job" WHERE id = ?', jobId))?.state).toBe("running");

      // Rerunning the command is refused before planning, naming the job and the way out.
      const rerun = await c.cli(...merge);
      expect(rerun.code).toBe(1);
      expect(rerun.stderr.trim()).toBe(
        `canopy: disk "big" is busy: job ${jobId} (merge-up) was interrupted (its process is gone): run "canopy worker --once" to finish it, or "canopy cancel ${jobId}"`,
      );
      const json = await c.cli(...merge, "--json");
      expect(json.json).toMatchObject({ error: { code: "busy" }, jobId });
      // A dry run still plans, and says the same; so does any other job on the disk.
      const dry = await c.cli(...merge, "--dry-run");
      expect(dry.code).toBe(0);
      expect(dry.stdout).toContain(`BUSY: disk "big" is busy: job ${jobId} (merge-up) was interrupted`);
      const backup = await c.cli("backup", "big");
      expect(backup.code).toBe(1);
      expect(backup.stderr).toContain(`job ${jobId} (merge-up) was interrupted (its process is gone)`);

      const ran = await c.cli("worker", "--once", "--json");
      expect(ran.code, ran.stdout + ran.stderr).toBe(0);
      expect(ran.json.jobs).toEqual([expect.objectContaining({ id: jobId, state: "succeeded", resumed: true })]);
    } finally {
      await db.close();
    }
    expect(await parentsOf(c.root, "big")).toEqual({ B0: null, B3: "B0" });
    await expectLayerContent(c.root, "big", { B3: before.B3!, B0: before.B0! }, { exactly: true });
    // The disk is free again.
    expect((await c.cli("snapshot", "big", "--name", "B4")).code).toBe(0);
  }, 2 * CLI_CALLS_MS);
});
