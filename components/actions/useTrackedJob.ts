"use client";

import { useCallback, useEffect, useState } from "react";

/** The job this page started on a disk, and the plan's sentence for it. */
export interface TrackedJob {
  jobId: string;
  summary: string;
  /** The plan's bytes to move: the total to show before the job's own figures arrive. */
  bytesToMove: number;
}

const storageKey = (disk: string) => `canopy.job.${disk}`;

/**
 * Remembers the job started from the disk page for the browser tab's session, so a reload (or a visit to
 * another page and back) still shows its progress instead of silently losing it. `restored` turns true once
 * the session's job has been read: until then a job holding the disk may be this tab's own.
 */
export function useTrackedJob(disk: string) {
  const [job, setJobState] = useState<TrackedJob | null>(null);
  const [restored, setRestored] = useState(false);

  // Read after mount: the server render has no sessionStorage, and both renders must agree.
  useEffect(() => {
    setJobState(read(disk));
    setRestored(true);
  }, [disk]);

  const setJob = useCallback(
    (next: TrackedJob | null) => {
      setJobState(next);
      try {
        if (next) sessionStorage.setItem(storageKey(disk), JSON.stringify(next));
        else sessionStorage.removeItem(storageKey(disk));
      } catch {
        // Storage can be full or disabled; progress then simply does not survive a reload.
      }
    },
    [disk],
  );

  return [job, setJob, restored] as const;
}

function read(disk: string): TrackedJob | null {
  try {
    const raw = sessionStorage.getItem(storageKey(disk));
    if (!raw) return null;
    const value = JSON.parse(raw) as Partial<TrackedJob>;
    return typeof value.jobId === "string" && typeof value.summary === "string"
      ? { jobId: value.jobId, summary: value.summary, bytesToMove: Number(value.bytesToMove) || 0 }
      : null;
  } catch {
    return null;
  }
}
