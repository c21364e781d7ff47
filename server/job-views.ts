import "server-only";
import type { JobView } from "@/lib/views/job";
import { getDb } from "./db";
import { parseJobRecord } from "./jobs/job-record";

/** Read side of jobs for pages and the polling API: plain JSON, newest first. */

type JobRow = Awaited<ReturnType<typeof findJobs>>[number];

const JOB_STATES: readonly JobView["state"][] = ["queued", "running", "succeeded", "failed", "cancelled"];

function findJobs(where: { disk?: { name: string }; id?: string }, take: number) {
  return getDb().job.findMany({ where, orderBy: [{ createdAt: "desc" }, { id: "desc" }], take, include: { disk: { select: { name: true } } } });
}

export function toJobView(job: JobRow): JobView {
  const plan = parseJobRecord(job.plan);
  return {
    id: job.id,
    // The plan names the disk too, so a job outlives its disk's record with its name.
    disk: job.disk?.name ?? plan?.disk ?? null,
    kind: job.kind,
    // "rolled-back" is an older state no job reaches today; it ended the job, as failing does.
    state: (JOB_STATES as readonly string[]).includes(job.state) ? (job.state as JobView["state"]) : "failed",
    stage: job.stage,
    progressDone: Number(job.progressDone),
    progressTotal: Number(job.progressTotal),
    requestedBy: job.requestedBy,
    cancelRequested: job.cancelRequested,
    createdAt: job.createdAt.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null,
    endedAt: job.endedAt?.toISOString() ?? null,
    error: job.error,
    summary: plan?.summary ?? null,
  };
}

export async function listJobViews({ disk, limit }: { disk?: string; limit: number }): Promise<JobView[]> {
  const rows = await findJobs(disk ? { disk: { name: disk } } : {}, limit);
  return rows.map(toJobView);
}

export async function getJobView(id: string): Promise<JobView | null> {
  const [row] = await findJobs({ id }, 1);
  return row ? toJobView(row) : null;
}
