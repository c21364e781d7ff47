"use client";

import { useEffect } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { TERMINAL_JOB_STATES, type JobView } from "@/lib/views/job";
import { useJob } from "@/components/jobs/useJob";
import { isFinalApiError } from "@/components/api/fetch-json";
import { diskBackupStateKey, diskTreeKey } from "@/components/api/query-keys";
import { readableError } from "./operation-client";

const isTerminal = (state: JobView["state"]) => (TERMINAL_JOB_STATES as readonly string[]).includes(state);

/**
 * Follows a job started on a disk (useJob polls until it ends) and, when it ends however it ends, invalidates
 * the disk's tree so the graph redraws from the files as they now are, without a reload; and its backup state,
 * since a snapshot, revert or merge moves the bitmaps the next backup depends on.
 */
export function useFollowedJob(disk: string, jobId: string | null) {
  const client = useQueryClient();
  const query = useJob(jobId);
  const job = jobId && query.data?.id === jobId ? query.data : undefined;
  // A job the server no longer knows (404) or may not show (401) will never report an end: stop waiting for it,
  // or the disk's actions would stay disabled until a reload.
  const lost = jobId !== null && isFinalApiError(query.error);
  const ended = (job ? isTerminal(job.state) : false) || lost;

  useEffect(() => {
    if (!ended) return;
    void client.invalidateQueries({ queryKey: diskTreeKey(disk) });
    void client.invalidateQueries({ queryKey: diskBackupStateKey(disk) });
  }, [client, disk, ended, jobId]);

  return { job, ended, lost, pollError: query.error ? readableError(query.error) : null };
}
