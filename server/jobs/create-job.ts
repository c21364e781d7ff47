import "server-only";
import { CanopyError } from "@/lib/errors";
import type { Plan } from "@/lib/ops/types";
import { getDb } from "../db";
import type { Prisma } from "../generated/prisma/client";
import { writeTransaction } from "../db-retry";
import type { TaskRecord } from "./job-record";

export interface CreateJobInput {
  disk: string;
  plan: Plan;
  requestedBy: string;
  /** The CLI runs its job itself and claims it at once; the dashboard leaves it queued for the worker. */
  claimNow: boolean;
}

/**
 * Records a job, its steps, and the disk's lock in one transaction. The lock row (one per disk, unique) is
 * what makes "one job per disk" hold across the CLI, the worker and the web server, even when two requests
 * race: the second insert fails and is reported as busy.
 */
export async function createJob({ disk, plan, requestedBy, claimNow }: CreateJobInput): Promise<string> {
  const row = await getDb().disk.findUnique({ where: { name: disk } });
  if (!row) throw new CanopyError("not-found", `no disk named "${disk}"`);
  const now = new Date();
  return createLockedJob(disk, row.id, (tx) =>
    tx.job.create({
      data: {
        diskId: row.id,
        kind: plan.operation,
        state: claimNow ? "running" : "queued",
        params: JSON.stringify(plan.params),
        plan: JSON.stringify(plan),
        progressTotal: BigInt(plan.bytesToMove),
        requestedBy,
        ...(claimNow ? { workerPid: process.pid, startedAt: now, heartbeatAt: now } : {}),
        steps: {
          create: plan.steps.map((s, index) => ({ index, name: s.kind, state: "pending", detail: JSON.stringify(s) })),
        },
      },
    }),
  );
}

/**
 * Records a job that runs one piece of work (a backup, a verify, a restore) with the disk's lock. A disk whose
 * record is gone (the restore of an old disk's backup) has no lock to take: the job is recorded without one.
 */
export async function createTaskJob(input: {
  kind: string;
  disk: string;
  params: Record<string, unknown>;
  summary: string;
  requestedBy: string;
  claimNow: boolean;
}): Promise<string> {
  const db = getDb();
  const row = await db.disk.findUnique({ where: { name: input.disk } });
  const record: TaskRecord = { task: input.kind, disk: input.disk, params: input.params, summary: input.summary, result: null };
  const now = new Date();
  const data = {
    diskId: row?.id ?? null,
    kind: input.kind,
    state: input.claimNow ? "running" : "queued",
    params: JSON.stringify(input.params),
    plan: JSON.stringify(record),
    requestedBy: input.requestedBy,
    ...(input.claimNow ? { workerPid: process.pid, startedAt: now, heartbeatAt: now } : {}),
  };
  if (!row) return (await db.job.create({ data })).id;
  return createLockedJob(input.disk, row.id, (tx) => tx.job.create({ data }));
}

/**
 * Creates a job and takes the disk's lock for it in one transaction, or refuses with the job that holds it.
 * Every kind of job (tree operations, backups, restores) goes through here. A job records its end before it lets
 * go of the lock, so a process stopped in between (a worker's SIGTERM, a kill) leaves the row of an ended job
 * behind: that lock holds nothing, and is taken over.
 */
export async function createLockedJob(
  disk: string,
  diskId: string,
  insert: (tx: Prisma.TransactionClient) => Promise<{ id: string }>,
): Promise<string> {
  const db = getDb();
  try {
    return await writeTransaction(db, async (tx) => {
      const held = await tx.diskLock.findUnique({ where: { diskId }, include: { job: true } });
      if (held && holdsDisk(held.job)) throw busy(disk, held.job);
      if (held) await tx.diskLock.delete({ where: { diskId } });
      const job = await insert(tx);
      await tx.diskLock.create({ data: { diskId, jobId: job.id } });
      return job.id;
    });
  } catch (err) {
    if (err instanceof CanopyError) throw err;
    // A concurrent request took the lock between our read and our insert (unique constraint).
    const held = await db.diskLock.findUnique({ where: { diskId }, include: { job: true } });
    if (held && holdsDisk(held.job)) throw busy(disk, held.job);
    throw err;
  }
}

/**
 * Whether the job on a disk's lock row still holds the disk. A job records its end before it lets go of the
 * lock, so an ended job's row may linger: it holds nothing.
 */
export function holdsDisk<J extends { state: string }>(job: J): job is J & { state: "queued" | "running" } {
  return job.state === "queued" || job.state === "running";
}

/**
 * The refusal while a job holds the disk. A queued job waits for a worker, which a CLI-only installation may not
 * run; an `interrupted` one is running in name only, its process is gone (see findOrphanedJobs), and nothing
 * finishes it until a worker runs. The message says how to go on.
 */
export function busy(disk: string, job: { id: string; kind: string; state: string }, interrupted = false): CanopyError {
  const cancel = `"canopy cancel ${job.id}"`;
  const how = interrupted
    ? `was interrupted (its process is gone): run "canopy worker --once" to finish it, or ${cancel}`
    : job.state === "queued"
      ? `is queued for the worker; wait for it (with no worker running, "canopy worker --once" runs it) or ${cancel}`
      : `is ${job.state}; wait for it to finish or cancel it (${cancel})`;
  return new CanopyError("busy", `disk "${disk}" is busy: job ${job.id} (${job.kind}) ${how}`, { jobId: job.id });
}
