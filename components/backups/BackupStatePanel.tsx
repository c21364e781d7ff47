"use client";

import Link from "next/link";
import type { ReactNode } from "react";
import type { DiskBackupState } from "@/server/backups/disk-backup-state";
import { readableError } from "@/components/actions/operation-client";
import { Badge } from "@/components/ui/Badge";
import { Timestamp } from "@/components/ui/Timestamp";
import { WarningIcon } from "@/components/ui/icons";
import { formatDateTime } from "@/components/format/time";
import { describeHealth, describeLastBackup, describeNextRun, type PanelLine, type PanelTone } from "./backup-state-text";
import { useDiskBackupState } from "./useDiskBackupState";
import { diskBackupsHref } from "@/components/disks/disk-links";

const POLICY_PAGE = "/backups/policy";
const WAITING: PanelLine = { tone: "neutral", headline: "…", detail: null };
const unreadable = (err: unknown): PanelLine => ({ tone: "red", headline: "Could not read the backup state", detail: readableError(err) });

/**
 * The disk's backup state in one strip under the tree's header (it never overlays the graph): the last
 * backup, the next scheduled run, and whether the bitmaps allow an incremental, each with its colour.
 */
export function BackupStatePanel({ disk }: { disk: string }) {
  const query = useDiskBackupState(disk);
  const state = query.data;
  const backupsPage = diskBackupsHref(disk);
  // A backup that failed verification may not restore: the one thing here that must not be missed.
  const alarm = state?.last?.verifyStatus === "failed";
  return (
    <section
      aria-label="Backup state"
      data-testid="backup-state"
      className={`grid overflow-hidden rounded-lg border bg-white shadow-sm sm:grid-cols-[1.1fr_0.9fr_1.2fr] sm:divide-x sm:divide-slate-200 ${alarm ? "border-red-300 ring-1 ring-red-300" : "border-slate-200"}`}
    >
      {state ? (
        <>
          <LastBackupCell state={state} backupsPage={backupsPage} />
          <NextRunCell state={state} />
          <HealthCell state={state} />
        </>
      ) : (
        // Same three cells while the first answer is on its way, so the graph below does not jump.
        <>
          <Cell label="Last backup" testId="last-backup" line={WAITING} />
          <Cell label="Next scheduled run" testId="next-run" line={WAITING} />
          <Cell label="Bitmap health" testId="bitmap-health" line={query.isError ? unreadable(query.error) : WAITING} />
        </>
      )}
    </section>
  );
}

function LastBackupCell({ state, backupsPage }: { state: DiskBackupState; backupsPage: string }) {
  const last = state.last;
  if (!last) {
    return (
      <Cell label="Last backup" testId="last-backup" line={{ tone: "neutral", headline: "No backups yet", detail: null }}>
        <Link href={backupsPage} className="mt-1 inline-block text-xs font-medium text-sky-700 hover:underline">
          Make the first one on the backups page →
        </Link>
      </Cell>
    );
  }
  const line = describeLastBackup(last);
  return (
    <Cell
      label="Last backup"
      testId="last-backup"
      data={{ "data-kind": last.kind, "data-verify": last.verifyStatus }}
      aside={
        <span className="flex items-center gap-2 normal-case tracking-normal">
          <span
            className="tabular-nums text-slate-600"
            data-testid="last-backup-chain"
            title={`${last.chainIncrementals} of ${state.maxIncrementals} incrementals in its chain; at the limit the next backup is full`}
          >
            chain {last.chainIncrementals}/{state.maxIncrementals}
          </span>
          <Link href={backupsPage} className="text-sky-700 hover:underline">
            All backups →
          </Link>
        </span>
      }
      line={line}
      headline={
        <span className="flex flex-wrap items-center gap-x-2 gap-y-1">
          <Badge tone={last.kind === "full" ? "slate" : "sky"}>{last.kind}</Badge>
          <span className="text-xs tabular-nums text-slate-500">#{last.seq}</span>
          <span title={`point in time ${formatDateTime(last.pointInTime)}, completed ${formatDateTime(last.completedAt)}`}>
            <Timestamp iso={last.pointInTime} className="text-sm text-slate-700" />
          </span>
          <Badge tone={line.tone} title={line.tone === "red" ? (line.detail ?? undefined) : undefined}>
            {line.tone === "red" ? <WarningIcon className="size-3.5" /> : null}
            {line.headline}
          </Badge>
        </span>
      }
    />
  );
}

function NextRunCell({ state }: { state: DiskBackupState }) {
  return (
    <Cell label="Next scheduled run" testId="next-run" line={describeNextRun(state.next)}>
      {state.next.state === "scheduled" ? null : (
        <Link href={POLICY_PAGE} className="mt-0.5 block text-xs font-medium text-sky-700 hover:underline">
          {state.next.state === "none" ? "Set one on the policy page →" : "Change it on the policy page →"}
        </Link>
      )}
    </Cell>
  );
}

function HealthCell({ state }: { state: DiskBackupState }) {
  const line = describeHealth(state.health);
  return (
    <Cell
      label="Bitmap health"
      testId="bitmap-health"
      data={{ "data-state": state.health.state, "data-kind": state.health.state === "checked" ? state.health.kind : undefined }}
      line={line}
    />
  );
}

/** Per tone: the cell's background (only when something needs a look), the headline's dot, the detail's text. */
const TONE_STYLE: Record<PanelTone, { cell: string; dot: string; detail: string }> = {
  neutral: { cell: "", dot: "bg-slate-300", detail: "text-slate-500" },
  green: { cell: "", dot: "bg-emerald-500", detail: "text-slate-500" },
  amber: { cell: "bg-amber-50", dot: "bg-amber-500", detail: "text-amber-900" },
  red: { cell: "bg-red-50", dot: "bg-red-600", detail: "text-red-800" },
};

/**
 * One labelled cell: a headline (the line's, or richer markup) and one line of detail, cut to the cell's width
 * with the whole text on hover. The cell's background carries its tone only when something needs a look.
 */
function Cell(props: {
  label: string;
  testId: string;
  line: PanelLine;
  headline?: ReactNode;
  aside?: ReactNode;
  data?: Record<string, string | undefined>;
  children?: ReactNode;
}) {
  const { line } = props;
  return (
    <div className={`min-w-0 px-4 py-2.5 ${TONE_STYLE[line.tone].cell}`} data-testid={props.testId} data-tone={line.tone} {...props.data}>
      <div className="flex items-center justify-between gap-2 text-[11px] font-medium uppercase tracking-wide text-slate-500">
        <span>{props.label}</span>
        {props.aside}
      </div>
      <div className="mt-0.5 flex min-w-0 items-center gap-2 text-sm font-semibold text-slate-900">
        {props.headline ?? (
          <>
            <span aria-hidden className={`size-2 shrink-0 rounded-full ${TONE_STYLE[line.tone].dot}`} />
            {/* A time until the next run depends on when it renders: the browser's may differ from the server's. */}
            <span className="truncate" suppressHydrationWarning title={line.headline}>
              {line.headline}
            </span>
          </>
        )}
      </div>
      {line.detail ? (
        <p className={`mt-0.5 truncate text-xs ${TONE_STYLE[line.tone].detail}`} title={line.detail} suppressHydrationWarning>
          {line.detail}
        </p>
      ) : null}
      {props.children}
    </div>
  );
}
