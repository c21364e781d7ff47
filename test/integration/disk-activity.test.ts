// What the disk page polls to learn of jobs it did not start: the lock's holder and the newest ended job, read
// for real from a migrated database after jobs made by the CLI (no worker runs here, so a queued job stays).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adoptCanopyEnv, makeCanopyEnv, type CanopyEnv } from "../support/canopy-env";

describe("a disk's activity", () => {
  let env: CanopyEnv;
  let db: typeof import("@/server/db");
  let read: typeof import("@/server/disk-activity").getDiskActivity;

  beforeAll(async () => {
    env = await makeCanopyEnv();
    adoptCanopyEnv(env);
    db = await import("@/server/db");
    read = (await import("@/server/disk-activity")).getDiskActivity;
  }, 120_000);

  afterAll(async () => {
    await db?.closeDb();
  });

  it("is nothing for a disk no job has touched, and null for a disk that does not exist", async () => {
    expect(await read("vm-2")).toEqual({ currentJob: null, lastEndedJobId: null });
    expect(await read("no-such-disk")).toBeNull();
  });

  it("names the job holding the disk, who started it and what it does; once it ends, it is the newest ended", async () => {
    const queued = await env.cli("snapshot", "vm-2", "--name", "s1", "--background", "--json");
    expect(queued.code).toBe(0);
    const id = queued.json.job.id as string;
    expect(await read("vm-2")).toEqual({
      currentJob: { id, kind: "snapshot", state: "queued", requestedBy: expect.stringMatching(/^cli:/), summary: expect.stringContaining("s1") },
      lastEndedJobId: null,
    });
    expect((await read("vm-1"))?.currentJob).toBeNull();

    expect((await env.cli("cancel", id, "--json")).code).toBe(0);
    expect(await read("vm-2")).toEqual({ currentJob: null, lastEndedJobId: id });
  });

  it("does not count a job that has recorded its end but not yet let go of the lock", async () => {
    const queued = await env.cli("snapshot", "vm-2", "--name", "s2", "--background", "--json");
    const id = queued.json.job.id as string;
    await db.getDb().job.update({ where: { id }, data: { state: "succeeded", endedAt: new Date() } });
    expect(await db.getDb().diskLock.count({ where: { jobId: id } })).toBe(1);
    expect(await read("vm-2")).toEqual({ currentJob: null, lastEndedJobId: id });
    await db.getDb().diskLock.deleteMany({ where: { jobId: id } });
  });

  it("lets the next job take a lock left behind by a job that ended (its process stopped before letting go)", async () => {
    const first = (await env.cli("snapshot", "vm-2", "--name", "s3", "--background", "--json")).json.job.id as string;
    await db.getDb().job.update({ where: { id: first }, data: { state: "cancelled", endedAt: new Date() } });
    const next = await env.cli("snapshot", "vm-2", "--name", "s4", "--background", "--json");
    expect(next.code, next.stdout + next.stderr).toBe(0);
    const id = next.json.job.id as string;
    expect((await db.getDb().diskLock.findMany()).map((l) => l.jobId)).toEqual([id]);
    expect((await read("vm-2"))?.currentJob?.id).toBe(id);
    // A lock whose job is still queued is not taken over.
    const refused = await env.cli("snapshot", "vm-2", "--name", "s5", "--background", "--json");
    expect(refused.json).toMatchObject({ error: { code: "busy" }, jobId: id });
    expect((await env.cli("cancel", id, "--json")).code).toBe(0);
  });
});
