import { rm } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { makeCanopyEnv } from "../support/canopy-env";
import { expectLayerContent, parentsOf, seedContent } from "../support/layer-data";

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
