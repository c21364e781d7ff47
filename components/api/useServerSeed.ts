"use client";

import { useEffect, useRef } from "react";
import { useQueryClient, type QueryKey } from "@tanstack/react-query";

/**
 * For a query seeded with what the server rendered (its initialData). A router refresh renders newer server
 * data than the cache may hold, so the cache takes it. With `isNewer`, a fresh mount compares too: coming back
 * to the page within the query's staleTime would otherwise show what the cache kept from the last visit, and
 * the back button may bring an older render than the cache (Next reuses its router cache then).
 */
export function useServerSeed<T>(queryKey: QueryKey, initial: T | null, isNewer?: (server: T, cached: T) => boolean): void {
  const client = useQueryClient();
  // Without isNewer, the render this component mounted with is taken as seeded already (initialData did it).
  const seeded = useRef<T | null>(isNewer ? null : initial);
  useEffect(() => {
    if (initial === null || seeded.current === initial) return;
    seeded.current = initial;
    const cached = client.getQueryData<T>(queryKey);
    if (isNewer && cached !== undefined && !isNewer(initial, cached)) return;
    client.setQueryData(queryKey, initial);
    // Not on the key or the comparison: callers rebuild them on every render; what matters changes with `initial`.
  }, [client, initial]);
}
