import "server-only";
import type { JobView } from "@/lib/views/job";
import { getDb } from "./db";
import { holdsDisk } from "./jobs/create-job";
import { toJobView } from "./job-views";

/** The job holding a disk, as the disk page names it: what it does, and who started it. */
export type DiskJob = Pick<JobView, "id" | "kind" | "summary" | "requestedBy"> & { state: "queued" | "running" };

/**
 * What is happening to a disk now, whoever started it (this tab, another one, the CLI, the backup schedule):
 * the job holding its lock, and the newest job that has ended, so the disk page can tell that a job started and
 * ended between two of its polls (a snapshot takes less than a poll's interval) and read the tree again.
 */
export interface DiskActivity {
  currentJob: DiskJob | null;
  lastEndedJobId: string | null;
}

/** The job holding the disk now: null when none does, undefined when there is no such disk. One indexed read. */
export async function currentDiskJob(name: string): Promise<DiskJob | null | undefined> {
  const disk = await getDb().disk.findUnique({
    where: { name },
    select: { lock: { select: { job: { include: { disk: { select: { name: true } } } } } } },
  });
  return disk ? holder(disk.lock?.job) : undefined;
}

/** Null when there is no such disk. Two indexed reads: cheap enough to poll every few seconds. */
export async function getDiskActivity(name: string): Promise<DiskActivity | null> {
  const currentJob = await currentDiskJob(name);
  if (currentJob === undefined) return null;
  const lastEnded = await getDb().job.findFirst({
    where: { disk: { name }, endedAt: { not: null } },
    orderBy: [{ endedAt: "desc" }, { id: "desc" }],
    select: { id: true },
  });
  return { currentJob, lastEndedJobId: lastEnded?.id ?? null };
}

function holder(job: Parameters<typeof toJobView>[0] | undefined): DiskJob | null {
  if (!job) return null;
  const view = toJobView(job);
  if (!holdsDisk(view)) return null;
  return { id: view.id, kind: view.kind, summary: view.summary, requestedBy: view.requestedBy, state: view.state };
}
