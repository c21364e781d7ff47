"use client";

import { useQuery } from "@tanstack/react-query";
import type { DiskBackupState } from "@/server/backups/disk-backup-state";
import { readDiskBackupState } from "@/components/actions/operation-client";
import { useServerSeed } from "@/components/api/useServerSeed";

/** The react-query key of a disk's backup state: invalidated with the tree when a job on the disk ends. */
export const diskBackupStateKey = (disk: string) => ["disk-backup-state", disk] as const;

const BUSY_POLL_MS = 5_000;
const IDLE_POLL_MS = 60_000;

/**
 * A disk's backup state, seeded with the server's render when it had one. Besides the invalidation after the
 * page's own jobs, it is read again now and then: backups the schedule or the CLI make end without this page
 * knowing, and a next run that has passed must give way to the one after. While a job holds the disk the
 * answer is only "busy" (a database read), so that is polled faster.
 */
export function useDiskBackupState(disk: string, initial: DiskBackupState | null) {
  useServerSeed(diskBackupStateKey(disk), initial, (server, cached) => server.checkedAt > cached.checkedAt);
  return useQuery({
    queryKey: diskBackupStateKey(disk),
    queryFn: () => readDiskBackupState(disk),
    initialData: initial ?? undefined,
    staleTime: 10_000,
    refetchInterval: (query) => (query.state.data?.health.state === "busy" ? BUSY_POLL_MS : IDLE_POLL_MS),
  });
}
