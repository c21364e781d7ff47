import "server-only";
import type { CanopyError } from "@/lib/errors";
import { currentDiskJob } from "../disk-activity";
import { busy } from "./create-job";
import { findOrphanedJobs } from "./recover-jobs";

/**
 * Refuses with the busy error while a job holds the disk, before anything is planned: a plan made against a
 * tree that a queued or interrupted job is about to change again would be wrong, or refuse for the wrong
 * reason ("nothing to merge" after a merge that was killed midway). createLockedJob still decides under its
 * transaction; this is the early, explained answer.
 */
export async function refuseIfDiskHeld(disk: string): Promise<void> {
  const error = await diskBusyError(disk);
  if (error) throw error;
}

/** The busy error for the disk's holder, or null when no job holds it (or there is no such disk yet). */
export async function diskBusyError(disk: string): Promise<CanopyError | null> {
  const job = await currentDiskJob(disk);
  if (!job) return null;
  const interrupted = job.state === "running" && (await findOrphanedJobs()).includes(job.id);
  return busy(disk, job, interrupted);
}
