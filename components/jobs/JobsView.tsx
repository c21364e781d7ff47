"use client";

import Link from "next/link";
import { useEffect, useState } from "react";
import type { JobView } from "@/lib/views/job";
import { ApiError } from "@/components/api/fetch-json";
import { EmptyState, ErrorState } from "@/components/ui/StatePanel";
import { JobsTable } from "./JobsTable";
import { isActive, useJobs } from "./useJob";

/**
 * The jobs page's live part: jobs that are queued or running on top, the rest below, refreshed by polling
 * (any job started elsewhere, e.g. by the CLI, appears within seconds). A failed refresh keeps the last list
 * and says so above it.
 */
export function JobsView({ initialJobs, limit }: { initialJobs: JobView[]; limit: number }) {
  const { data: jobs = initialJobs, error, isFetching } = useJobs({ limit }, { initialData: initialJobs });
  const now = useNow(jobs.some(isActive));
  const active = jobs.filter(isActive);
  const ended = jobs.filter((j) => !isActive(j));

  return (
    <div className="space-y-8">
      {error ? <RefreshError error={error} /> : null}
      <section aria-labelledby="active-jobs" className="space-y-3">
        <SectionTitle id="active-jobs" count={active.length} live={!error && isFetching}>
          Running and queued
        </SectionTitle>
        {active.length > 0 ? (
          <JobsTable jobs={active} now={now} testId="active-jobs" />
        ) : (
          <p className="rounded-lg border border-dashed border-slate-300 bg-white px-4 py-3 text-sm text-slate-600" data-testid="no-active-jobs">
            No job is running. Operations started from a disk&apos;s page or with the CLI (
            <code className="font-mono text-[13px]">canopy ... --background</code>) show up here at once.
          </p>
        )}
      </section>
      <section aria-labelledby="recent-jobs" className="space-y-3">
        <SectionTitle id="recent-jobs" count={ended.length}>
          Recent
        </SectionTitle>
        {ended.length > 0 ? (
          <JobsTable jobs={ended} now={now} testId="recent-jobs" />
        ) : (
          <EmptyState title="No finished jobs yet" testId="no-recent-jobs">
            <p>
              Every snapshot, revert, merge, delete or flatten runs as a job. Start one from a{" "}
              <Link href="/" className="font-medium text-sky-700 hover:underline">
                disk&apos;s page
              </Link>{" "}
              and it is listed here with its outcome.
            </p>
          </EmptyState>
        )}
      </section>
    </div>
  );
}

function SectionTitle({ id, count, live, children }: { id: string; count: number; live?: boolean; children: string }) {
  return (
    <h2 id={id} className="flex items-center gap-2 text-sm font-semibold uppercase tracking-wide text-slate-500">
      {children}
      <span className="rounded-full bg-slate-200 px-2 py-0.5 text-xs font-semibold text-slate-700 tabular-nums">{count}</span>
      {live ? <span className="size-1.5 rounded-full bg-sky-500" title="Refreshing" aria-hidden="true" /> : null}
    </h2>
  );
}

function RefreshError({ error }: { error: Error }) {
  const sessionEnded = error instanceof ApiError && error.status === 401;
  return (
    <ErrorState title={sessionEnded ? "Your session has ended" : "Could not refresh the jobs"}>
      <p>{error.message}</p>
      {sessionEnded ? (
        <p className="mt-2">
          <a href="/login?next=%2Fjobs" className="font-medium underline">
            Log in again
          </a>
        </p>
      ) : (
        <p className="mt-2">The list below is from the last refresh that worked; it retries on its own.</p>
      )}
    </ErrorState>
  );
}

/** The current time, ticking every second while something runs, so running durations count up. */
function useNow(ticking: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    setNow(Date.now());
    if (!ticking) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [ticking]);
  return now;
}
