import type { DiskJob } from "@/server/disk-activity";
import { startedByText } from "@/components/actions/job-requester";

/**
 * The job started elsewhere (the CLI, another tab, the backup schedule) that the disk page shows: the one
 * holding the disk now, else the last one it showed, whose outcome stays until dismissed. Never a job in
 * `notOutside`: the tab's own jobs (its own bar follows them) and the ones already dismissed.
 */
export function outsideJobToShow(current: DiskJob | null, lastShown: DiskJob | null, notOutside: readonly string[]): DiskJob | null {
  if (current && !notOutside.includes(current.id)) return current;
  if (lastShown && !notOutside.includes(lastShown.id)) return lastShown;
  return null;
}

/** Why the layer actions are off while a job started elsewhere holds the disk: which job, and who started it. */
export function outsideJobBusyText(job: DiskJob): string {
  const what = job.summary ? `: ${job.summary}` : "";
  return `A ${job.kind} job ${startedByText(job.requestedBy)} holds this disk${what}. Its actions come back when it ends.`;
}
