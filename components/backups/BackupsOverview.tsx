"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import type { BackupsOverview as Overview } from "@/server/backups/overview";
import { EmptyState } from "@/components/ui/StatePanel";
import { filterOverviewRows, toggleFilter, type OverviewFilter } from "./overview-filter";
import { OverviewSummaryStrip } from "./OverviewSummaryStrip";
import { OverviewTable } from "./OverviewTable";

/**
 * Backups and the schedule move without this page (the worker's schedule, the CLI, retention), and "next run in
 * 5 min" ages: read the server's answer again now and then. One database read per disk list, no QEMU.
 */
const REFRESH_MS = 60_000;

/** Every disk's backups in one table under a summary strip whose figures that need a look filter the table. */
export function BackupsOverview({ overview }: { overview: Overview }) {
  const router = useRouter();
  const [filter, setFilter] = useState<OverviewFilter>("all");
  useEffect(() => {
    const timer = setInterval(() => router.refresh(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [router]);

  const { rows, summary } = overview;
  if (rows.length === 0) {
    return (
      <EmptyState title="No disks yet" testId="backups-empty">
        <p>
          Each folder of <code className="font-mono">*.qcow2</code> files under the storage root is a disk; once a scan has
          found one, its backups are listed here.
        </p>
        <p className="mt-2">
          <Link href="/" className="font-medium text-sky-700 hover:underline">
            Go to the disks
          </Link>
        </p>
      </EmptyState>
    );
  }
  const shown = filterOverviewRows(rows, filter);
  const noBackupAtAll = rows.every((r) => r.backups === 0);
  return (
    <div className="space-y-5">
      <OverviewSummaryStrip summary={summary} filter={filter} onFilter={(f) => setFilter(toggleFilter(filter, f))} />
      {noBackupAtAll ? (
        <div className="rounded-lg border border-dashed border-slate-300 bg-white px-5 py-4 text-sm text-slate-600" data-testid="no-backups-yet">
          <p className="font-semibold text-slate-900">No backups yet</p>
          <p className="mt-1">
            A disk&apos;s first backup is full; later ones copy only what changed. Open a disk below to back it up now, or{" "}
            <Link href="/backups/policy" className="font-medium text-sky-700 hover:underline">
              set a schedule on the policy page
            </Link>
            .
          </p>
        </div>
      ) : null}
      {filter !== "all" ? (
        <p className="text-sm text-slate-600" aria-live="polite" data-testid="overview-filtered">
          Showing {shown.length} of {rows.length} disks.{" "}
          <button type="button" onClick={() => setFilter("all")} className="font-medium text-sky-700 hover:underline">
            Show every disk
          </button>
        </p>
      ) : null}
      <OverviewTable rows={shown} />
    </div>
  );
}
