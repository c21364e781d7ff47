"use client";

import { useQuery } from "@tanstack/react-query";
import { readDiskBackupState } from "@/components/actions/operation-client";
import { diskBackupStateKey } from "@/components/api/query-keys";


const BUSY_POLL_MS = 5_000;
const IDLE_POLL_MS = 60_000;

/**
 * A disk's backup state, read from the browser once the disk page is up (the page's server render leaves it
 * out: on a deep chain the preview holds the server for a while, see app/disks/[name]/page.tsx). Besides the
 * invalidation after the page's own jobs, it is read again now and then: backups the schedule or the CLI make end
 * without this page knowing, and a next run that has passed must give way to the one after. While a job holds
 * the disk the answer is only "busy" (a database read), so that is polled faster.
 */
export function useDiskBackupState(disk: string) {
  return useQuery({
    queryKey: diskBackupStateKey(disk),
    queryFn: () => readDiskBackupState(disk),
    staleTime: 10_000,
    refetchInterval: (query) => (query.state.data?.health.state === "busy" ? BUSY_POLL_MS : IDLE_POLL_MS),
  });
}
