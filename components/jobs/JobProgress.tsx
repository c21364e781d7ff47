import type { JobView } from "@/lib/views/job";
import { formatBytes } from "@/components/format/bytes";

const BAR: Record<JobView["state"], string> = {
  queued: "bg-slate-300",
  running: "bg-sky-600",
  succeeded: "bg-emerald-500",
  failed: "bg-red-500",
  cancelled: "bg-amber-500",
};

/**
 * Bytes copied of the plan's total, as a bar with its percentage and in figures below. A job that copies
 * nothing (a snapshot, protect) has no fraction to show: it reads "no data to copy", and its bar fills when it
 * is done.
 */
export function JobProgress({ job }: { job: JobView }) {
  const total = job.progressTotal;
  const done = Math.min(job.progressDone, total);
  const fraction = total > 0 ? done / total : job.state === "succeeded" ? 1 : 0;
  const percent = Math.floor(fraction * 100);
  return (
    <div data-testid="job-progress">
      <div className="flex items-center gap-2">
        <div
          role="progressbar"
          aria-label="Progress"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={percent}
          className="h-1.5 min-w-0 flex-1 overflow-hidden rounded-full bg-slate-200"
        >
          <div
            className={`h-full rounded-full transition-[width] duration-500 ${BAR[job.state]} ${job.state === "queued" ? "animate-pulse" : ""}`}
            style={{ width: `${job.state === "queued" ? 100 : percent}%` }}
          />
        </div>
        {total > 0 ? <span className="w-9 text-right text-xs font-medium tabular-nums text-slate-800">{percent}%</span> : null}
      </div>
      <div className="mt-1 whitespace-nowrap text-xs tabular-nums text-slate-600">
        {total > 0 ? (
          <span title={`${done.toLocaleString("en-US")} of ${total.toLocaleString("en-US")} bytes`}>
            {formatBytes(done)} of {formatBytes(total)}
          </span>
        ) : (
          <span className="text-slate-500">no data to copy</span>
        )}
      </div>
    </div>
  );
}
