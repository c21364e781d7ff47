import type { DiskListEntry } from "@/server/disks";
import { problemLabel, problemSeverity } from "@/components/problems/problem-meta";

/** Searching and sorting the disks list, in the browser (the list is one row per disk: small). */

export type DiskSortKey =
  | "name"
  | "status"
  | "activeLayer"
  | "layerCount"
  | "branchCount"
  | "depth"
  | "virtualSize"
  | "usedBytes"
  | "problems"
  | "scannedAt";

export interface DiskSort {
  key: DiskSortKey;
  direction: "ascending" | "descending";
}

export const DEFAULT_SORT: DiskSort = { key: "name", direction: "ascending" };

const byText = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

/** Disks whose name, active layer, status or warnings contain every word of the query (any case). */
export function filterDisks(disks: readonly DiskListEntry[], query: string): DiskListEntry[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...disks];
  return disks.filter((d) => {
    const text = [d.name, d.activeLayer ?? "", d.status, ...d.problems.flatMap((p) => [problemLabel(p.code), p.layer ?? ""])]
      .join(" ")
      .toLowerCase();
    return words.every((w) => text.includes(w));
  });
}

/** Sorted by the column, then by name, so rows with equal values keep a stable order. */
export function sortDisks(disks: readonly DiskListEntry[], sort: DiskSort): DiskListEntry[] {
  const sign = sort.direction === "ascending" ? 1 : -1;
  return [...disks].sort((a, b) => sign * compare(a, b, sort.key) || byText.compare(a.name, b.name));
}

/** Ascending on a new column; a second click on the same one flips it. */
export function nextSort(current: DiskSort, key: DiskSortKey): DiskSort {
  if (current.key !== key) return { key, direction: "ascending" };
  return { key, direction: current.direction === "ascending" ? "descending" : "ascending" };
}

function compare(a: DiskListEntry, b: DiskListEntry, key: DiskSortKey): number {
  switch (key) {
    case "name":
      return byText.compare(a.name, b.name);
    case "status":
      return byText.compare(a.status, b.status);
    case "activeLayer":
      // Disks without an active layer (broken chains) sort last going up.
      return a.activeLayer === b.activeLayer ? 0 : a.activeLayer === null ? 1 : b.activeLayer === null ? -1 : byText.compare(a.activeLayer, b.activeLayer);
    case "problems":
      return problemWeight(a) - problemWeight(b);
    case "scannedAt":
      return Date.parse(a.scannedAt) - Date.parse(b.scannedAt);
    default:
      return a[key] - b[key];
  }
}

/** Errors outweigh any number of warnings. */
function problemWeight(d: DiskListEntry): number {
  return d.problems.reduce((sum, p) => sum + (problemSeverity(p.code) === "error" ? 1000 : 1), 0);
}
