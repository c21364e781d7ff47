"use client";

import { useQuery } from "@tanstack/react-query";
import type { DiskTreeView } from "@/lib/inventory/views";
import { fetchJson, isFinalApiError } from "@/components/api/fetch-json";
import { diskTreeKey } from "@/components/api/query-keys";
import { useServerSeed } from "@/components/api/useServerSeed";


/**
 * One disk's tree, seeded with what the server rendered (so the first paint needs no request) and refetched
 * whenever an operation invalidates it; the graph then updates in place.
 */
export function useDiskTree(initial: DiskTreeView) {
  useServerSeed(diskTreeKey(initial.name), initial);
  return useQuery({
    queryKey: diskTreeKey(initial.name),
    queryFn: ({ signal }) => fetchJson<DiskTreeView>(`/api/disks/${encodeURIComponent(initial.name)}/tree`, signal),
    // As fresh as the request that rendered the page (react-query dates initial data "now").
    initialData: initial,
    staleTime: 10_000,
    retry: (failures, err) => !isFinalApiError(err) && failures < 2,
  });
}
