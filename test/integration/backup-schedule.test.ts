// The worker's scheduler against a real database and a seeded storage root: each matching minute queues one
// backup per disk, however many schedulers look at that minute at once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adoptCanopyEnv, makeCanopyEnv, type CanopyEnv } from "../support/canopy-env";

describe("scheduled backups", () => {
  let env: CanopyEnv;
  let db: typeof import("@/server/db");
  let queue: typeof import("@/server/backups/schedule").queueScheduledBackups;

  beforeAll(async () => {
    env = await makeCanopyEnv();
    adoptCanopyEnv(env);
    db = await import("@/server/db");
    queue = (await import("@/server/backups/schedule")).queueScheduledBackups;
  }, 120_000);

  afterAll(async () => {
    await db?.closeDb();
  });

  it("five schedulers on the same minute queue one backup, and none of them trips over the others", async () => {
    await db.getDb().backupPolicy.upsert({
      where: { diskName: "vm-1" },
      create: { diskName: "vm-1", schedule: "* * * * *" },
      update: { schedule: "* * * * *" },
    });
    const minute = new Date(2026, 2, 4, 10, 15);
    const lines: string[] = [];
    const queued = (await Promise.all(Array.from({ length: 5 }, () => queue(minute, (l) => lines.push(l))))).flat();

    expect(queued).toHaveLength(1);
    // The minute is claimed before a job is asked for: the others do not reach the disk's lock at all.
    expect(lines.filter((l) => l.startsWith("scheduled backup of vm-1 ("))).toHaveLength(1);
    expect(lines.filter((l) => l.includes("skipped"))).toEqual([]);
    const jobs = await db.getDb().job.findMany({ where: { kind: "backup", requestedBy: "schedule" } });
    expect(jobs.map((j) => j.id)).toEqual(queued);

    // The same minute again queues nothing; the next one does (once its disk is free).
    await db.getDb().diskLock.deleteMany({});
    await db.getDb().job.updateMany({ where: { id: queued[0] }, data: { state: "cancelled", endedAt: new Date() } });
    expect(await queue(minute)).toEqual([]);
    expect(await queue(new Date(2026, 2, 4, 10, 16))).toHaveLength(1);
  }, 60_000);
});
