"use client";

import { useQuery } from "@tanstack/react-query";
import { TERMINAL_JOB_STATES, type JobView } from "@/lib/views/job";
import { fetchJson, isFinalApiError } from "@/components/api/fetch-json";

/** How often a job that is still queued or running is asked for. */
export const ACTIVE_POLL_MS = 1_000;
/** How often the jobs list looks for jobs started elsewhere (the CLI, another browser) when none is active. */
export const IDLE_POLL_MS = 5_000;

export const jobKey = (jobId: string) => ["job", jobId] as const;
export const jobsKey = (filter: JobsFilter = {}) => ["jobs", filter] as const;

export interface JobsFilter {
  disk?: string;
  limit?: number;
}

export function isTerminal(job: Pick<JobView, "state"> | undefined): boolean {
  return !!job && (TERMINAL_JOB_STATES as readonly string[]).includes(job.state);
}

export function isActive(job: Pick<JobView, "state">): boolean {
  return job.state === "queued" || job.state === "running";
}

/**
 * One job, polled every second until it ends (succeeded, failed, cancelled), then left alone: the
 * `refetchInterval` callback returns false once the job is terminal, or when asking again cannot help (the
 * session ended, the job is gone). `jobId` null: nothing to follow yet.
 */
export function useJob(jobId: string | null, options: { initialData?: JobView } = {}) {
  return useQuery({
    queryKey: jobKey(jobId ?? ""),
    queryFn: ({ signal }) => fetchJson<JobView>(`/api/jobs/${encodeURIComponent(jobId ?? "")}`, signal),
    enabled: jobId !== null,
    initialData: options.initialData,
    staleTime: 0,
    retry: (failures, err) => !isFinalApiError(err) && failures < 3,
    refetchInterval: (query) => (isTerminal(query.state.data) || isFinalApiError(query.state.error) ? false : ACTIVE_POLL_MS),
  });
}

/**
 * Running and recent jobs, newest first: every second while any is queued or running, every five seconds
 * otherwise, so a job started by the CLI shows up without a reload.
 */
export function useJobs(filter: JobsFilter = {}, options: { initialData?: JobView[] } = {}) {
  const params = new URLSearchParams();
  if (filter.disk) params.set("disk", filter.disk);
  if (filter.limit) params.set("limit", String(filter.limit));
  const search = params.toString();
  const query = search ? `?${search}` : "";
  return useQuery({
    queryKey: jobsKey(filter),
    queryFn: ({ signal }) => fetchJson<JobView[]>(`/api/jobs${query}`, signal),
    initialData: options.initialData,
    // Server-rendered data is fresh for the first tick only.
    initialDataUpdatedAt: options.initialData ? Date.now() : undefined,
    staleTime: 0,
    retry: (failures, err) => !isFinalApiError(err) && failures < 3,
    refetchInterval: (q) => {
      if (isFinalApiError(q.state.error)) return false;
      return q.state.data?.some(isActive) ? ACTIVE_POLL_MS : IDLE_POLL_MS;
    },
  });
}
