"use client";

import { useState } from "react";
import type { JobView } from "@/lib/views/job";
import { formatBytes } from "@/components/format/bytes";
import { WarningIcon } from "@/components/ui/icons";
import { Button } from "./Button";

interface JobProgressBarProps {
  /** The plan's sentence: what the job does. */
  summary: string;
  /** The plan's figure, shown until the job's own total arrives. */
  plannedBytes: number;
  job: JobView | undefined;
  /** The job can no longer be followed (gone, or the session ended): it can only be dismissed. */
  lost: boolean;
  /** Set when the job could not be read (server gone, session ended). */
  pollError: string | null;
  cancelling: boolean;
  cancelError: string | null;
  onCancel: () => void;
  onDismiss: () => void;
  /** Who started it, for a job this page did not start ("started from the CLI by alice"). */
  startedBy?: string;
  /** Tells the bar of a job started elsewhere from the bar of the page's own job. */
  testId?: string;
}

const STATE_TEXT: Record<JobView["state"], string> = {
  queued: "Queued",
  running: "Running",
  succeeded: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
};

const STATE_STYLE: Record<JobView["state"], { box: string; bar: string; pill: string }> = {
  queued: { box: "border-sky-200 bg-white", bar: "bg-sky-500", pill: "bg-slate-100 text-slate-700" },
  running: { box: "border-sky-200 bg-white", bar: "bg-sky-600", pill: "bg-sky-100 text-sky-800" },
  succeeded: { box: "border-emerald-200 bg-emerald-50/50", bar: "bg-emerald-500", pill: "bg-emerald-600 text-white" },
  failed: { box: "border-red-300 bg-red-50", bar: "bg-red-500", pill: "bg-red-600 text-white" },
  cancelled: { box: "border-slate-300 bg-slate-50", bar: "bg-slate-400", pill: "bg-slate-600 text-white" },
};

/** One job followed live: state, stage, bytes copied of the total, and its error when it fails. */
export function JobProgressBar(props: JobProgressBarProps) {
  const { summary, plannedBytes, job, lost, pollError, cancelling, cancelError, onCancel, onDismiss, startedBy } = props;
  const [confirming, setConfirming] = useState(false);
  const state = job?.state ?? "queued";
  const style = STATE_STYLE[state];
  const ended = lost || state === "succeeded" || state === "failed" || state === "cancelled";
  const total = job?.progressTotal ?? plannedBytes;
  const done = Math.min(job?.progressDone ?? 0, total);
  // A job that copies nothing (snapshot, protect) or has not started has no fraction: the bar pulses instead.
  const fraction = state === "succeeded" ? 1 : total > 0 && state !== "queued" ? done / total : null;
  const percent = fraction === null ? null : Math.round(fraction * 100);

  return (
    <section
      aria-label="Job progress"
      data-testid={props.testId ?? "job-progress"}
      data-job-state={state}
      data-job-id={job?.id}
      className={`rounded-lg border px-4 py-3 shadow-sm ${style.box}`}
    >
      <div className="flex flex-wrap items-center gap-x-3 gap-y-1">
        <span
          className={`rounded-full px-2 py-0.5 text-[11px] font-bold uppercase tracking-wider ${style.pill}`}
          data-testid="job-state"
        >
          {lost && !job ? "Unknown" : STATE_TEXT[state]}
        </span>
        <span className="flex min-w-0 flex-1 items-baseline gap-2">
          <span className="min-w-0 truncate text-sm font-medium text-slate-900" title={summary} data-testid="job-summary">
            {summary}
          </span>
          {startedBy ? (
            <span className="shrink-0 text-[13px] text-slate-500" data-testid="job-started-by">
              {startedBy}
            </span>
          ) : null}
        </span>
        <span className="text-sm tabular-nums text-slate-600" data-testid="job-bytes">
          {total > 0 ? `${formatBytes(done)} of ${formatBytes(total)}` : "no data to copy"}
          {percent !== null && total > 0 ? <span className="ml-2 font-semibold text-slate-800">{percent}%</span> : null}
        </span>
        {ended ? (
          <Button variant="ghost" onClick={onDismiss} className="-my-1">
            Dismiss
          </Button>
        ) : cancelling || job?.cancelRequested ? (
          <Button variant="secondary" disabled className="-my-1">
            Cancelling…
          </Button>
        ) : confirming ? (
          // A merge stopped half-way leaves part of its data copied: ask once before stopping it.
          <span className="-my-1 flex items-center gap-1.5" role="group" aria-label="Confirm cancelling the job">
            <span className="text-sm text-slate-700">Stop it half-way?</span>
            <Button variant="danger" onClick={onCancel} autoFocus>
              Yes, cancel
            </Button>
            <Button variant="secondary" onClick={() => setConfirming(false)}>
              Keep running
            </Button>
          </span>
        ) : (
          <Button variant="secondary" onClick={() => setConfirming(true)} className="-my-1">
            Cancel job
          </Button>
        )}
      </div>

      {ended ? null : (
        <div
          role="progressbar"
          aria-label={`Progress of: ${summary}`}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={percent ?? undefined}
          aria-valuetext={total > 0 ? `${formatBytes(done)} of ${formatBytes(total)}` : STATE_TEXT[state]}
          className="mt-2 h-2 overflow-hidden rounded-full bg-slate-200"
        >
          <div
            className={`h-full rounded-full ${style.bar} ${fraction === null ? "w-1/3 animate-pulse" : ""}`}
            style={fraction === null ? undefined : { width: `${Math.max(fraction * 100, 1)}%` }}
          />
        </div>
      )}

      <p aria-live="polite" className={`text-[13px] text-slate-600 ${ended ? "mt-0.5" : "mt-1.5"}`} data-testid="job-stage">
        {lost ? "This job can no longer be followed from here; the Jobs page lists every job." : stageText(job, state)}
      </p>
      {job?.error ? (
        <p role="alert" className="mt-1.5 flex items-start gap-1.5 text-sm text-red-800" data-testid="job-error">
          <WarningIcon className="mt-0.5 size-4 shrink-0" />
          <span>{job.error}</span>
        </p>
      ) : null}
      {pollError ? (
        <p role="alert" className="mt-1.5 text-sm text-amber-800">
          Could not read the job&apos;s progress: {pollError}
        </p>
      ) : null}
      {cancelError ? (
        <p role="alert" className="mt-1.5 text-sm text-red-800">
          Not cancelled: {cancelError}
        </p>
      ) : null}
    </section>
  );
}

function stageText(job: JobView | undefined, state: JobView["state"]): string {
  if (!job) return "Waiting for the job to be picked up…";
  switch (state) {
    case "queued":
      return "Waiting for the worker to pick it up…";
    case "running":
      return job.stage ? `Now: ${job.stage}` : "Starting…";
    case "succeeded":
      return `Finished${duration(job)}. The graph shows the tree as it is now.`;
    case "failed":
      return `Stopped${duration(job)}. The graph shows the tree as it is now.`;
    case "cancelled":
      return `Cancelled${duration(job)}. The graph shows the tree as it is now.`;
  }
}

function duration(job: JobView): string {
  if (!job.startedAt || !job.endedAt) return "";
  const ms = new Date(job.endedAt).getTime() - new Date(job.startedAt).getTime();
  if (!Number.isFinite(ms) || ms < 0) return "";
  return ms < 1000 ? ` in ${ms} ms` : ` in ${(ms / 1000).toFixed(1)} s`;
}
