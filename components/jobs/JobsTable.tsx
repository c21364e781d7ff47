import Link from "next/link";
import type { JobView } from "@/lib/views/job";
import { formatDuration } from "@/components/format/time";
import { Timestamp } from "@/components/ui/Timestamp";
import { CancelJobButton } from "./CancelJobButton";
import { JobProgress } from "./JobProgress";
import { JobStateBadge } from "./JobStateBadge";
import { isActive } from "./useJob";
import { diskHref } from "@/components/disks/disk-links";

const th = "whitespace-nowrap px-3 py-2.5 text-left text-xs font-semibold text-slate-600 first:pl-4 last:pr-4";
const td = "px-3 py-3 align-top first:pl-4 last:pr-4";

/**
 * One row per job: what it does, on which disk, how far it got, who asked, when and for how long. Fixed
 * column widths, so the running and the recent tables line up one above the other.
 */
export function JobsTable({ jobs, now, testId }: { jobs: readonly JobView[]; now: number; testId: string }) {
  return (
    <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm" data-testid={testId}>
      <table className="w-full min-w-[56rem] table-fixed divide-y divide-slate-200 text-sm">
        <colgroup>
          <col className="w-28" />
          <col />
          <col className="w-28" />
          <col className="w-44" />
          <col className="w-28" />
          <col className="w-32" />
          <col className="w-24" />
        </colgroup>
        <thead className="bg-slate-50">
          <tr>
            <th scope="col" className={th}>State</th>
            <th scope="col" className={th}>Job</th>
            <th scope="col" className={th}>Disk</th>
            <th scope="col" className={th}>Progress</th>
            <th scope="col" className={th}>Requested by</th>
            <th scope="col" className={th}>Started</th>
            <th scope="col" className={th}>
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {jobs.map((job) => (
            <JobRow key={job.id} job={job} now={now} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function JobRow({ job, now }: { job: JobView; now: number }) {
  return (
    <tr data-testid={`job-row-${job.id}`} data-job-state={job.state} className="hover:bg-slate-50/60">
      <td className={td}>
        <JobStateBadge job={job} />
      </td>
      <td className={td}>
        <div className="font-medium text-slate-900">{job.summary ?? job.kind}</div>
        <div className="mt-0.5 truncate text-xs text-slate-500" title={`Job id ${job.id} (canopy cancel <id>)`}>
          <span className="font-mono">{job.kind}</span>
          <span aria-hidden="true"> · </span>
          <span className="font-mono">{job.id}</span>
        </div>
        {job.stage && isActive(job) ? (
          <div className="mt-1 text-xs text-sky-800" data-testid="job-stage">
            Now: {job.stage}
          </div>
        ) : null}
        {job.error ? (
          <p className="mt-1.5 whitespace-pre-line break-words text-xs leading-relaxed text-red-800" data-testid="job-error">
            {job.error}
          </p>
        ) : null}
      </td>
      <td className={`${td} truncate`}>
        {job.disk ? (
          <Link href={diskHref(job.disk)} className="font-medium text-sky-700 hover:underline" title={job.disk}>
            {job.disk}
          </Link>
        ) : (
          <span className="text-slate-400">—</span>
        )}
      </td>
      <td className={td}>
        <JobProgress job={job} />
      </td>
      <td className={`${td} truncate text-slate-700`} title={job.requestedBy}>
        {job.requestedBy}
      </td>
      {/* A running job's duration counts up from the server's clock to the browser's: expected to differ. */}
      <td className={`${td} text-slate-600`}>
        {job.startedAt ? <Timestamp iso={job.startedAt} /> : <span className="text-slate-400">not yet</span>}
        <div suppressHydrationWarning className="text-xs tabular-nums text-slate-500">
          {duration(job, now)}
        </div>
      </td>
      <td className={`${td} text-right`}>{isActive(job) ? <CancelJobButton job={job} /> : null}</td>
    </tr>
  );
}

/** "took 3 min 05 s" once ended, "for 12 s" while it runs; nothing before it starts. */
function duration(job: JobView, now: number): string | null {
  if (!job.startedAt) return null;
  const end = job.endedAt ? Date.parse(job.endedAt) : now;
  const took = formatDuration(Math.max(0, end - Date.parse(job.startedAt)));
  return job.endedAt ? `took ${took}` : `for ${took}`;
}
