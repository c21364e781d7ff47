import "server-only";
import { CanopyError } from "@/lib/errors";
import { getDb } from "../db";

/**
 * Asks a job to stop. A queued job is cancelled at once (nothing ran) and frees its disk; a running one is
 * stopped by its runner within a heartbeat: the running qemu-img is killed and no further step starts. The
 * tree stays consistent either way, because it is consistent between any two steps and inside a commit or
 * pull (a cancelled commit has written into a base no other branch reads, which the sibling rule ensures).
 */
export async function cancelJob(jobId: string, actor: string): Promise<{ id: string; state: string }> {
  const db = getDb();
  const job = await db.job.findUnique({ where: { id: jobId } });
  if (!job) throw new CanopyError("not-found", `no job with id "${jobId}"`);
  if (!["queued", "running"].includes(job.state)) {
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
  await db.job.update({ where: { id: jobId }, data: { cancelRequested: true } });
  return { id: jobId, state: "cancelling" };
}
