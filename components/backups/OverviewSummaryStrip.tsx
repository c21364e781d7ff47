import type { ReactNode } from "react";
import type { OverviewSummary } from "@/lib/views/backup-overview";
import { formatBytes } from "@/components/format/bytes";
import { WarningIcon } from "@/components/ui/icons";
import type { OverviewFilter } from "./overview-filter";

type Tone = "neutral" | "amber" | "red";

const TONE: Record<Tone, string> = {
  neutral: "border-slate-200 bg-white",
  amber: "border-amber-300 bg-amber-50",
  red: "border-red-300 bg-red-50 ring-1 ring-red-300",
};

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * The figures an admin reads first. Those that need a look (disks never backed up, failed verifications) are
 * buttons that narrow the table to the disks concerned; a second press shows every disk again.
 */
export function OverviewSummaryStrip(props: { summary: OverviewSummary; filter: OverviewFilter; onFilter(f: OverviewFilter): void }) {
  const { summary, filter, onFilter } = props;
  const failed = summary.failedVerifies;
  return (
    <section aria-label="Backups summary" className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4" data-testid="backups-summary">
      <Figure label="Disks" testId="summary-disks" value={summary.disks}>
        in the storage root
      </Figure>
      <Figure
        label="No backup yet"
        testId="summary-no-backup"
        value={summary.withoutBackup}
        tone={summary.withoutBackup > 0 ? "amber" : "neutral"}
        pressed={filter === "no-backup"}
        onPress={summary.withoutBackup > 0 ? () => onFilter("no-backup") : undefined}
      >
        {summary.withoutBackup > 0 ? (filter === "no-backup" ? "showing only these · show all" : "show these disks") : "every disk has a backup"}
      </Figure>
      <Figure
        label="Failed verification"
        testId="summary-failed"
        value={
          <>
            {failed > 0 ? <WarningIcon className="size-5 shrink-0 text-red-600" /> : null}
            {failed}
          </>
        }
        tone={failed > 0 ? "red" : "neutral"}
        pressed={filter === "failed-verify"}
        onPress={failed > 0 ? () => onFilter("failed-verify") : undefined}
      >
        {failed > 0
          ? `${plural(failed, "backup")} on ${plural(summary.disksWithFailedVerifies, "disk")}${filter === "failed-verify" ? " · show all" : ""}`
          : "no backup failed its check"}
      </Figure>
      <Figure label="Stored" testId="summary-stored" value={formatBytes(summary.storedBytes)}>
        the disks use {formatBytes(summary.usedBytes)}
      </Figure>
    </section>
  );
}

function Figure(props: {
  label: string;
  testId: string;
  value: ReactNode;
  tone?: Tone;
  children: ReactNode;
  pressed?: boolean;
  onPress?: () => void;
}) {
  const tone = props.tone ?? "neutral";
  const body = (
    <>
      <span className="block text-[11px] font-medium uppercase tracking-wide text-slate-500">{props.label}</span>
      <span className={`mt-0.5 flex items-center gap-1.5 text-2xl font-semibold tabular-nums ${tone === "red" ? "text-red-700" : "text-slate-900"}`} data-testid={`${props.testId}-value`}>
        {props.value}
      </span>
      <span className={`mt-0.5 block text-xs ${tone === "red" ? "text-red-800" : tone === "amber" ? "text-amber-900" : "text-slate-500"}`}>
        {props.children}
      </span>
    </>
  );
  const box = `h-full rounded-lg border px-4 py-3 text-left shadow-sm ${TONE[tone]}`;
  if (!props.onPress) {
    return (
      <div className={box} data-testid={props.testId} data-tone={tone}>
        {body}
      </div>
    );
  }
  return (
    <button
      type="button"
      aria-pressed={props.pressed}
      onClick={props.onPress}
      data-testid={props.testId}
      data-tone={tone}
      className={`${box} cursor-pointer hover:brightness-[0.97] focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 ${
        props.pressed ? "outline-2 outline-offset-2 outline-sky-600" : ""
      }`}
    >
      {body}
    </button>
  );
}
