"use client";

import { useEffect, useRef } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { DiskTreeView } from "@/lib/inventory/views";
import { fetchJson, isFinalApiError } from "@/components/api/fetch-json";

/** The react-query key of one disk's tree: invalidate it after anything that changes the disk. */
export const diskTreeKey = (disk: string) => ["disk-tree", disk] as const;

/**
 * One disk's tree, seeded with what the server rendered (so the first paint needs no request) and refetched
 * whenever an operation invalidates it; the graph then updates in place.
 */
export function useDiskTree(initial: DiskTreeView) {
  const client = useQueryClient();
  // Coming back to the page (or a router refresh) renders newer server data than the cache may hold: take it.
  const seeded = useRef(initial);
  useEffect(() => {
    if (seeded.current === initial) return;
    seeded.current = initial;
    client.setQueryData(diskTreeKey(initial.name), initial);
  }, [client, initial]);
  return useQuery({
    queryKey: diskTreeKey(initial.name),
    queryFn: ({ signal }) => fetchJson<DiskTreeView>(`/api/disks/${encodeURIComponent(initial.name)}/tree`, signal),
    // As fresh as the request that rendered the page (react-query dates initial data "now").
    initialData: initial,
    staleTime: 10_000,
    retry: (failures, err) => !isFinalApiError(err) && failures < 2,
  });
}
