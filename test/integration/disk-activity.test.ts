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
});
