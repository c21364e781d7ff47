import "server-only";
import { CanopyError } from "@/lib/errors";
import { recordAuditEvent } from "../audit-events";
import { getDb } from "../db";
import { holdsDisk } from "./create-job";
import type { ExecutorTable } from "./executor";
import { claimOrphanedJob } from "./recover-jobs";
import { runAnyJob } from "./run-job";

/**
 * Asks a job to stop. A queued job is cancelled at once (nothing ran) and frees its disk; a running one is
 * stopped by its runner within a heartbeat: the running qemu-img is killed and no further step starts. The
 * tree stays consistent either way, because it is consistent between any two steps and inside a commit or
 * pull (a cancelled commit has written into a base no other branch reads, which the sibling rule ensures).
 *
 * A job whose process died (a killed CLI, a worker that is not running) has nobody to act on the request, so
 * this process takes it over and stops it now: the work the dead process was in is settled (see the executor's run), the
 * disk is freed, and the answer is the job's final state. Every accepted request is in the audit log.
 */
export async function cancelJob(jobId: string, actor: string, executors: ExecutorTable): Promise<CancelOutcome> {
  const result = await requestCancel(jobId, actor, executors);
  // Audited here, so a cancel is recorded wherever it comes from (the dashboard, the CLI).
  const job = await getDb().job.findUnique({ where: { id: jobId }, select: { diskId: true, kind: true, disk: { select: { name: true } } } });
  await recordAuditEvent({
    actor,
    action: "cancel",
    diskId: job?.diskId,
    // The name too: the event outlives the disk's record.
    detail: { jobId, kind: job?.kind, disk: job?.disk?.name, outcome: result.state },
  });
  return result;
}

export interface CancelOutcome {
  id: string;
  state: string;
  error?: string | null;
}

async function requestCancel(jobId: string, actor: string, executors: ExecutorTable): Promise<CancelOutcome> {
  const db = getDb();
  const job = await db.job.findUnique({ where: { id: jobId } });
  if (!job) throw new CanopyError("not-found", `no job with id "${jobId}"`);
  if (!holdsDisk(job)) {
    throw new CanopyError("invalid-input", `job ${jobId} has already ended (${job.state})`);
  }
  const queued = await db.job.updateMany({
    where: { id: jobId, state: "queued" },
    data: { state: "cancelled", cancelRequested: true, endedAt: new Date(), error: `cancelled by ${actor}` },
  });
  if (queued.count === 1) {
    await db.diskLock.deleteMany({ where: { jobId } });
    return { id: jobId, state: "cancelled" };
  }
  if (await claimOrphanedJob(jobId, { cancel: true })) {
    await runAnyJob(jobId, executors);
    const ended = await db.job.findUniqueOrThrow({ where: { id: jobId } });
    return { id: jobId, state: ended.state, error: ended.error };
  }
  await db.job.update({ where: { id: jobId }, data: { cancelRequested: true } });
  return { id: jobId, state: "cancelling" };
}
