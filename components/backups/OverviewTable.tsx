import Link from "next/link";
import { failuresOnRestorePath } from "@/lib/views/last-backup";
import type { OverviewRow } from "@/lib/views/backup-overview";
import { formatBytes } from "@/components/format/bytes";
import { formatDateTime } from "@/components/format/time";
import { StatusBadge } from "@/components/disks/StatusBadge";
import { Badge } from "@/components/ui/Badge";
import { Timestamp } from "@/components/ui/Timestamp";
import { WarningIcon } from "@/components/ui/icons";
import { chainFailureWords, verifyLabel, verifyTone } from "./backup-labels";
import { describeNextRun } from "./backup-state-text";
import { ChainMeter } from "./ChainMeter";
import { diskBackupsHref } from "@/components/disks/disk-links";

const th = "whitespace-nowrap px-2.5 first:pl-4 last:pr-4 py-2.5 text-left text-xs font-semibold text-slate-600";
const td = "whitespace-nowrap px-2.5 first:pl-4 last:pr-4 py-3 align-middle";
const sub = "mt-0.5 text-xs text-slate-500";

/** One row per disk (and per gone disk that still has backups); the disk's name opens its backups page. */
export function OverviewTable({ rows }: { rows: readonly OverviewRow[] }) {
  return (
    <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
      <table className="min-w-full divide-y divide-slate-200 text-sm">
        <thead className="bg-slate-50">
          <tr>
            <th scope="col" className={th}>Disk</th>
            <th scope="col" className={th}>Status</th>
            <th scope="col" className={th}>Last backup</th>
            <th scope="col" className={th}>Verify</th>
            <th scope="col" className={th} title="Incrementals in the newest chain, toward the policy's limit (then the next backup is full)">
              Chain
            </th>
            <th scope="col" className={`${th} text-right`}>Backups</th>
            <th scope="col" className={`${th} text-right`} title="Bytes the backups take, against the bytes the disk's own layers take">
              Stored
            </th>
            <th scope="col" className={th}>Next run</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {rows.map((r) => (
            <Row key={r.disk} row={r} />
          ))}
        </tbody>
      </table>
      {rows.length === 0 ? <p className="px-4 py-8 text-center text-sm text-slate-600">No disk matches this filter.</p> : null}
    </div>
  );
}

function Row({ row }: { row: OverviewRow }) {
  const { last } = row;
  // A backup that failed verification may not restore: its whole row says so, not only its badge.
  const alarm = row.failedVerifies > 0;
  return (
    <tr
      data-testid={`overview-row-${row.disk}`}
      data-alarm={alarm}
      className={alarm ? "bg-red-50 hover:bg-red-100/60" : "hover:bg-slate-50"}
    >
      <td className={`${td} ${alarm ? "shadow-[inset_3px_0_0_0_var(--color-red-600)]" : ""}`}>
        <Link
          href={diskBackupsHref(row.disk)}
          className="font-semibold text-sky-700 hover:text-sky-900 hover:underline"
          title={`Backups of ${row.disk}`}
          data-testid="overview-disk-link"
        >
          {row.disk}
        </Link>
      </td>
      <td className={td}>
        <StatusBadge status={row.status} />
      </td>
      <td className={td} data-testid="overview-last" data-kind={last?.kind}>
        {last ? (
          <>
            <div className="flex items-center gap-1.5">
              <Badge tone={last.kind === "full" ? "slate" : "sky"}>{last.kind}</Badge>
              <span className="text-xs tabular-nums text-slate-500">#{last.seq}</span>
            </div>
            <div className={sub} title={`point in time ${formatDateTime(last.pointInTime)}`}>
              <Timestamp iso={last.pointInTime} />
            </div>
          </>
        ) : (
          <span className="font-medium text-amber-800">No backup yet</span>
        )}
      </td>
      <td className={td} data-testid="overview-verify" data-verify={last?.verifyStatus} data-chain-failures={last ? failuresOnRestorePath(last) : 0}>
        {last ? <VerifyState row={row} /> : <span className="text-slate-400">—</span>}
      </td>
      <td className={td} data-testid="overview-chain">
        {last ? <ChainMeter incrementals={last.chainIncrementals} max={row.maxIncrementals} barClassName="w-16" /> : <span className="text-slate-400">—</span>}
      </td>
      <td className={`${td} text-right tabular-nums`} data-testid="overview-count">
        <div className="font-medium text-slate-900">{row.backups}</div>
        {row.chains > 0 ? <div className={sub}>{row.chains === 1 ? "1 chain" : `${row.chains} chains`}</div> : null}
      </td>
      <td className={`${td} text-right tabular-nums`} data-testid="overview-stored">
        <StoredSize stored={row.storedBytes} used={row.usedBytes} />
      </td>
      <td className={td} data-testid="overview-next">
        <NextRun row={row} />
      </td>
    </tr>
  );
}

/**
 * The newest backup's verify state. Verify checks each file of a chain by itself, so an incremental can pass
 * while the full it restores through failed: the cell then says the chain failed. Failures in other chains follow.
 */
function VerifyState({ row }: { row: OverviewRow }) {
  const last = row.last!;
  const chainFailed = last.verifyStatus !== "failed" && last.failedBefore.length > 0;
  const elsewhere = row.failedVerifies - failuresOnRestorePath(last);
  return (
    <div className="flex flex-col items-start gap-1">
      {chainFailed ? (
        <Badge tone="red" title={`${chainFailureWords(last.failedBefore)}: it restores through ${last.failedBefore.length === 1 ? "it" : "them"}`}>
          <WarningIcon className="size-3.5" />
          chain failed
        </Badge>
      ) : (
        <Badge tone={verifyTone(last.verifyStatus)} title={last.verifyProblems.join("; ") || undefined}>
          {last.verifyStatus === "failed" ? <WarningIcon className="size-3.5" /> : null}
          {verifyLabel(last.verifyStatus)}
        </Badge>
      )}
      {elsewhere > 0 ? (
        <span className="text-xs font-medium text-red-700" data-testid="overview-older-failures">
          + {elsewhere} failed in older chains
        </span>
      ) : null}
    </div>
  );
}

function StoredSize({ stored, used }: { stored: number; used: number | null }) {
  return (
    <>
      <div className="font-medium text-slate-900" title={`${stored.toLocaleString("en-US")} bytes`}>
        {formatBytes(stored)}
      </div>
      <div className={sub} title="Bytes the disk's own layers take (templates apart)">
        {used === null ? "folder gone" : `disk uses ${formatBytes(used)}`}
      </div>
    </>
  );
}

function NextRun({ row }: { row: OverviewRow }) {
  if (!row.next) return <span className="text-slate-500">not scheduled (folder gone)</span>;
  const line = describeNextRun(row.next);
  const warn = line.tone === "amber";
  return (
    <div title={line.detail ?? undefined}>
      <div className={`font-medium ${warn ? "text-amber-800" : row.next.state === "none" ? "text-slate-500" : "text-slate-900"}`} suppressHydrationWarning>
        {line.headline}
      </div>
      {row.next.state === "scheduled" ? (
        <div className={sub} suppressHydrationWarning>
          {formatDateTime(row.next.at).slice(0, 16)}
        </div>
      ) : null}
    </div>
  );
}
