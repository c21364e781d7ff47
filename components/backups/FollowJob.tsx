"use client";

import Link from "next/link";
import { useEffect, useRef } from "react";
import { useJob, isTerminal } from "@/components/jobs/useJob";
import { JobProgress } from "@/components/jobs/JobProgress";
import { JobStateBadge } from "@/components/jobs/JobStateBadge";

const STAGES = ["replication", "transfer", "storage"];

/** A backup-side job followed to its end: stage (replication / transfer / storage), bytes, outcome or error. */
export function FollowJob({ jobId, label, onEnded, onDismiss }: { jobId: string; label: string; onEnded(): void; onDismiss(): void }) {
  const { data: job, error } = useJob(jobId);
  const ended = useRef(false);
  useEffect(() => {
    if (job && isTerminal(job) && !ended.current) {
      ended.current = true;
      onEnded();
    }
  }, [job, onEnded]);
  return (
    <div className="w-full rounded-md border border-slate-200 px-3 py-2" data-testid="backup-job" data-state={job?.state ?? "loading"}>
      <div className="flex items-center gap-2 text-sm">
        <span className="font-medium text-slate-800">{label}</span>
        {job ? <JobStateBadge job={job} /> : null}
        {job?.stage ? (
          <span className="text-xs text-slate-600">
            {STAGES.includes(job.stage) ? `stage ${STAGES.indexOf(job.stage) + 1}/3: ` : ""}
            {job.stage}
          </span>
        ) : null}
        <Link href="/jobs" className="ml-auto text-xs text-sky-700 hover:underline">
          job {jobId.slice(-8)}
        </Link>
        {job && isTerminal(job) ? (
          <button type="button" className="text-xs text-slate-500 hover:text-slate-800" onClick={onDismiss}>
            Dismiss
          </button>
        ) : null}
      </div>
      {job ? <div className="mt-1.5">{isTerminal(job) && job.state === "succeeded" ? <p className="text-sm text-emerald-700" data-testid="backup-job-summary">{job.summary}</p> : <JobProgress job={job} />}</div> : null}
      {job?.error ? (
        <p role="alert" className="mt-1 text-sm text-red-700">
          {job.error}
        </p>
      ) : null}
      {error ? <p className="mt-1 text-sm text-red-700">{String(error)}</p> : null}
    </div>
  );
}
