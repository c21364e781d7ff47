"use client";

import { useEffect, useRef } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { DiskActivity } from "@/server/disk-activity";
import { fetchJson, isFinalApiError } from "@/components/api/fetch-json";
import { diskBackupStateKey, diskTreeKey } from "@/components/api/query-keys";

export const diskActivityKey = (disk: string) => ["disk-activity", disk] as const;

/** A job started elsewhere shows on the page within this; the read is two indexed rows. */
export const ACTIVITY_POLL_MS = 3_000;

/**
 * What is happening to the disk now, whoever started it: read every 3 s while the tab is visible (react-query
 * skips interval reads in a hidden tab, and reads at once when the tab gets the focus back). A job that started
 * and ended between two reads (a snapshot from the CLI) is never seen holding the disk, but it moves the
 * newest ended job: the tree and the backup state are then read again, as after a job the page followed.
 * A job taking the disk has the backup state read again too: its panel then says the disk is busy.
 */
export function useDiskActivity(disk: string, initial: DiskActivity | null) {
  const client = useQueryClient();
  const query = useQuery({
    queryKey: diskActivityKey(disk),
    queryFn: ({ signal }) => fetchJson<DiskActivity>(`/api/disks/${encodeURIComponent(disk)}/activity`, signal),
    initialData: initial ?? undefined,
    staleTime: 0,
    refetchOnWindowFocus: true,
    retry: (failures, err) => !isFinalApiError(err) && failures < 2,
    refetchInterval: (q) => (isFinalApiError(q.state.error) ? false : ACTIVITY_POLL_MS),
  });

  // A job now holds the disk: the backup panel then says so (and watches it more often) instead of
  // describing the next backup as if nothing ran.
  useChangeAfterFirst(query.data ? (query.data.currentJob?.id ?? null) : undefined, (holder) => {
    if (holder) void client.invalidateQueries({ queryKey: diskBackupStateKey(disk) });
  });
  useChangeAfterFirst(query.data?.lastEndedJobId, () => {
    void client.invalidateQueries({ queryKey: diskTreeKey(disk) });
    void client.invalidateQueries({ queryKey: diskBackupStateKey(disk) });
  });

  return query;
}

/**
 * Calls `onChange` each time `value` changes, but not for its first known value: that one is what the page
 * was drawn with (undefined: not known yet).
 */
function useChangeAfterFirst<T>(value: T | undefined, onChange: (value: T) => void): void {
  const seen = useRef(value);
  useEffect(() => {
    if (value === undefined || value === seen.current) return;
    const first = seen.current === undefined;
    seen.current = value;
    if (!first) onChange(value);
    // Not on onChange: callers make a new one on every render; only a new value counts.
  }, [value]);
}
