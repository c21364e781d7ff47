import "server-only";
import { isTaskKind } from "../backups/task-job";
import { runBackupSideJob } from "../backups/operations";
import { runJob, type JobOutcome } from "./run-job";
import { getDb } from "../db";

/** The worker's dispatch: tree operations run their plan's steps, backup-side jobs (backup, verify, restore) their engine call. */
export async function runAnyJob(jobId: string): Promise<JobOutcome> {
  const job = await getDb().job.findUniqueOrThrow({ where: { id: jobId }, select: { kind: true } });
  if (isTaskKind(job.kind)) return (await runBackupSideJob(jobId)).state;
  return runJob(jobId);
}
