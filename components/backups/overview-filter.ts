import type { OverviewRow } from "@/lib/views/backup-overview";

/**
 * The backups overview's filters, one per figure of its summary strip that needs a look: the disks that were
 * never backed up, and the disks holding a backup that failed verification.
 */

export type OverviewFilter = "all" | "no-backup" | "failed-verify";

export function filterOverviewRows(rows: readonly OverviewRow[], filter: OverviewFilter): OverviewRow[] {
  switch (filter) {
    case "all":
      return [...rows];
    case "no-backup":
      // A gone disk is listed only for its backups: it is never without one.
      return rows.filter((r) => r.backups === 0);
    case "failed-verify":
      return rows.filter((r) => r.failedVerifies > 0);
  }
}

/** A second click on the active filter shows every disk again. */
export function toggleFilter(current: OverviewFilter, clicked: OverviewFilter): OverviewFilter {
  return current === clicked ? "all" : clicked;
}
