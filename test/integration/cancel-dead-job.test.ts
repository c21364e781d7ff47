import { stat } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import * as img from "@/lib/qemu/img";
import { makeCanopyEnv } from "../support/canopy-env";
import { BRANCHED, COMMIT_LEAKS_AFTER, CRASH_SIZE, LINEAR } from "../support/crash-seeds";
import { backingNameNow, killWhenBackingChanges } from "../support/kill-at";
import { expectLayerContent, parentsOf, seedContent } from "../support/layer-data";
import { openRawDb } from "../support/raw-db";
import { waitFor } from "../support/wait-for";

/**
 * An admin without the dashboard: `canopy <operation>` is killed (SIGKILL of its process group, its qemu-img
 * with it) and no worker runs. A rerun of the command answers busy, naming the job; `canopy cancel` of the job
 * resolves at once (its process is gone, so nobody else would), leaves every layer reading as before and frees
 * the disk.
 */

const JOB = 'SELECT id, state, error FROM "Job" ORDER BY "createdAt" DESC LIMIT 1';

describe("cancel of a job whose CLI was killed", () => {
  it("merge up killed the instant its header changed: busy on a rerun, cancelled at once, every layer as before", async () => {
    const before = seedContent(LINEAR, CRASH_SIZE);
    const c = await makeCanopyEnv(LINEAR, CRASH_SIZE);
    const top = path.join(c.root, "big", "B3.qcow2");
    const headerBefore = backingNameNow(top);
    const cli = c.startCli("merge-up", "big", "--top", "B3", "--base", "B0");
    killWhenBackingChanges(top, headerBefore, () => cli.kill("SIGKILL"));
    await cli.exited;
    const db = await openRawDb(c.env.DATABASE_URL!, { readonly: true });
    const job = (await db.get<{ id: string; state: string }>(JOB))!;
    await db.close();
    expect(job.state).toBe("running");

    const rerun = await c.cli("merge-up", "big", "--top", "B3", "--base", "B0");
    expect(rerun.code).toBe(1);
    expect(rerun.stderr).toMatch(new RegExp(`busy: job ${job.id} \\(merge-up\\) was interrupted`));

    const started = Date.now();
    const cancel = await c.cli("cancel", job.id, "--json");
    expect(cancel.code, cancel.stdout + cancel.stderr).toBe(0);
    expect(cancel.json).toMatchObject({ id: job.id, state: "cancelled" });
    console.log(`cancel of the dead merge-up answered in ${Date.now() - started} ms (CLI start included)`);

    // Nothing was deleted; B3 reads through B2 again, exactly as before, and holds no leaked cluster.
    expect(await parentsOf(c.root, "big")).toEqual({ B0: null, B1: "B0", B2: "B1", B3: "B2" });
    await expectLayerContent(c.root, "big", before, { exactly: true });
    expect((await img.check(top)).leaks).toBe(0);
    // The disk is free: the same merge now runs and ends as planned.
    const again = await c.cli("merge-up", "big", "--top", "B3", "--base", "B0");
    expect(again.code, again.stdout + again.stderr).toBe(0);
    await expectLayerContent(c.root, "big", { B0: before.B0!, B3: before.B3! }, { exactly: true });
  }, 240_000);

  it("delete of a middle layer killed inside its first pull: cancelled at once, every layer as before", async () => {
    const before = seedContent(BRANCHED, CRASH_SIZE);
    const c = await makeCanopyEnv(BRANCHED, CRASH_SIZE);
    const db = await openRawDb(c.env.DATABASE_URL!, { readonly: true });
    try {
      const cli = c.startCli("delete", "big", "B1");
      const pulling = async () => (await db.get<{ state: string }>(`SELECT state FROM "JobStep" WHERE name = 'pull' ORDER BY "index" LIMIT 1`))?.state === "running";
      await waitFor("the first pull to start", pulling);
      await new Promise((r) => setTimeout(r, 200));
      cli.kill("SIGKILL");
      await cli.exited;
      const job = (await db.get<{ id: string; state: string }>(JOB))!;
      expect(job.state).toBe("running");
      const cancel = await c.cli("cancel", job.id, "--json");
      expect(cancel.json).toMatchObject({ id: job.id, state: "cancelled" });
      expect(await parentsOf(c.root, "big")).toEqual({ B0: null, B1: "B0", B2: "B1", B3: "B2", X: "B1" });
      await expectLayerContent(c.root, "big", before, { exactly: true });
      expect((await img.check(path.join(c.root, "big", "B2.qcow2"))).leaks).toBe(0);
    } finally {
      await db.close();
    }
  }, 240_000);

  it("merge down killed inside its commit: cancelled at once, leaks in the base freed, the layers above as before", async () => {
    const before = seedContent(LINEAR, CRASH_SIZE);
    const c = await makeCanopyEnv(LINEAR, CRASH_SIZE);
    const base = path.join(c.root, "big", "B0.qcow2");
    const sizeBefore = (await stat(base)).size;
    const cli = c.startCli("merge-down", "big", "--top", "B2", "--base", "B0");
    await waitFor("the commit to write into B0", async () => (await stat(base)).size > sizeBefore + COMMIT_LEAKS_AFTER, 120_000);
    cli.kill("SIGKILL");
    await cli.exited;
    const leaked = await img.check(base);
    expect(leaked.leaks).toBeGreaterThan(0);

    const db = await openRawDb(c.env.DATABASE_URL!, { readonly: true });
    const job = (await db.get<{ id: string }>(JOB))!;
    await db.close();
    const cancel = await c.cli("cancel", job.id, "--json");
    expect(cancel.json).toMatchObject({ id: job.id, state: "cancelled" });
    expect(cancel.json.error).toMatch(/the commit of B2 into B0 had started: B0, B1 now hold part of the merged data/);
    expect(await img.check(base)).toMatchObject({ corruptions: 0, leaks: 0 });
    expect(await parentsOf(c.root, "big")).toEqual({ B0: null, B1: "B0", B2: "B1", B3: "B2" });
    await expectLayerContent(c.root, "big", { B2: before.B2!, B3: before.B3! });
    // Running the same merge again finishes it, as the error says.
    const again = await c.cli("merge-down", "big", "--top", "B2", "--base", "B0");
    expect(again.code, again.stdout + again.stderr).toBe(0);
    await expectLayerContent(c.root, "big", { B0: before.B2!, B3: before.B3! }, { exactly: true });
  }, 240_000);
});
