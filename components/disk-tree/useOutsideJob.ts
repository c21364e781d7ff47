"use client";

import { useCallback, useEffect, useState } from "react";
import { useMutation } from "@tanstack/react-query";
import type { DiskJob } from "@/server/disk-activity";
import { cancelJob, readableError } from "@/components/actions/operation-client";
import { useFollowedJob } from "@/components/actions/useFollowedJob";
import { outsideJobToShow } from "./outside-job";

/**
 * A job on the disk that this tab did not start (`current`: the lock's holder, from useDiskActivity), followed
 * like the tab's own: progress every second, the tree and backup state read again when it ends, cancel. Its
 * outcome stays on screen until dismissed, as the tab's own job's does.
 */
export function useOutsideJob(disk: string, current: DiskJob | null, ownJobId: string | null) {
  const [lastShown, setLastShown] = useState<DiskJob | null>(null);
  // The tab's own jobs, remembered past their own bar's dismissal, and the outside jobs dismissed here.
  const [notOutside, setNotOutside] = useState<readonly string[]>([]);
  const skip = ownJobId && !notOutside.includes(ownJobId) ? [...notOutside, ownJobId] : notOutside;
  const job = outsideJobToShow(current, lastShown, skip);

  useEffect(() => {
    if (ownJobId) setNotOutside((ids) => (ids.includes(ownJobId) ? ids : [...ids, ownJobId]));
  }, [ownJobId]);
  useEffect(() => {
    if (job) setLastShown(job);
  }, [job]);

  const followed = useFollowedJob(disk, job?.id ?? null);
  const cancel = useMutation({ mutationFn: (jobId: string) => cancelJob(jobId) });
  // The cancel's outcome belongs to the job it was asked for, not to a later one in the same bar.
  const cancelFor = job !== null && cancel.variables === job.id;

  const dismiss = useCallback(() => {
    if (job) setNotOutside((ids) => [...ids, job.id]);
    setLastShown(null);
  }, [job]);

  return {
    job,
    followed,
    running: job !== null && !followed.ended,
    cancelling: cancelFor && cancel.isPending,
    cancelError: cancelFor && cancel.isError ? readableError(cancel.error) : null,
    cancel: () => {
      if (job) cancel.mutate(job.id);
    },
    dismiss,
  };
}
