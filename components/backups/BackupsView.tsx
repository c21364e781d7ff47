"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useState, useTransition } from "react";
import type { DiskBackupsView } from "@/server/backups/list-backups";
import type { BackupView, ChainView } from "@/server/backups/mirror";
import { previewBackupAction, startBackupAction, startVerifyAction } from "@/server/actions/backups";
import { Button } from "@/components/actions/Button";
import { Badge } from "@/components/ui/Badge";
import { PageHeader } from "@/components/ui/PageHeader";
import { Stat } from "@/components/ui/Stat";
import { ChevronRightIcon } from "@/components/ui/icons";
import { formatBytes } from "@/components/format/bytes";
import { formatDateTime } from "@/components/format/time";
import { ChainMeter } from "./ChainMeter";
import { FollowJob } from "./FollowJob";
import { RestoreDialog } from "./RestoreDialog";
import { DeleteBackupDialog } from "./DeleteBackupDialog";
import { reasonLabel, verifyLabel, verifyTone } from "./backup-labels";
import { diskHref } from "@/components/disks/disk-links";

interface Props {
  data: DiskBackupsView;
  diskExists: boolean;
  running: boolean;
  activeLayer: string | null;
  usedBytes: number;
}

/** A disk's backups: chains as a timeline (full + incrementals toward the limit), sizes, verify state, actions. */
export function BackupsView({ data, diskExists, running, activeLayer, usedBytes }: Props) {
  const router = useRouter();
  const [jobId, setJobId] = useState<string | null>(null);
  const [jobLabel, setJobLabel] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();
  const [next, setNext] = useState<{ kind: string; reason: string; detail: string } | null>(null);
  const [restoring, setRestoring] = useState<BackupView | null>(null);
  const [deleting, setDeleting] = useState<BackupView | null>(null);
  const disk = data.disk;
  const total = data.backups.reduce((n, b) => n + b.fileSize, 0);
  const max = data.policy.maxIncrementals;
  const scale = Math.max(usedBytes, ...data.backups.map((b) => b.fileSize), 1);

  useEffect(() => {
    if (!diskExists) return;
    let live = true;
    void previewBackupAction({ disk }).then((r) => live && r.ok && setNext(r.data));
    return () => {
      live = false;
    };
  }, [disk, diskExists, data]);

  const start = (label: string, run: () => ReturnType<typeof startBackupAction>) =>
    startTransition(async () => {
      setError(null);
      const r = await run();
      if (!r.ok) return setError(r.error.message);
      setJobLabel(label);
      setJobId(r.data.jobId);
    });

  const chainsNewestFirst = [...data.chains].reverse();
  return (
    <div className="mx-auto w-full max-w-6xl space-y-6 px-8 py-8">
      <PageHeader
        eyebrow={
          <nav aria-label="Breadcrumb" className="flex items-center gap-1">
            <Link href="/" className="text-sky-700 hover:underline">
              Disks
            </Link>
            <ChevronRightIcon className="size-3.5 text-slate-400" />
            <Link href={diskHref(disk)} className="text-sky-700 hover:underline">
              {disk}
            </Link>
            <ChevronRightIcon className="size-3.5 text-slate-400" />
            <span aria-current="page">Backups</span>
          </nav>
        }
        title={`Backups of ${disk}`}
        description={
          <>
            Chains of one full and the incrementals stacked on it, newest first. Policy: a full after {max} incrementals
            {data.policy.keepChains ? `, keep the newest ${data.policy.keepChains} chains` : ""}
            {data.policy.schedule ? `, scheduled "${data.policy.schedule}"` : ", no schedule"} (
            <Link href="/backups/policy" className="text-sky-700 hover:underline">
              change
            </Link>
            ).
          </>
        }
        aside={
          <>
            <Stat label="Backups">{data.backups.length}</Stat>
            <Stat label="Chains">{data.chains.length}</Stat>
            <Stat label="Backup size">{formatBytes(total)}</Stat>
            <Stat label="Disk used" title="Bytes the disk's own layers take (templates apart)">
              {formatBytes(usedBytes)}
            </Stat>
          </>
        }
      />

      <section className="flex flex-wrap items-center gap-3 rounded-lg border border-slate-200 bg-white px-4 py-3">
        <Button variant="primary" disabled={!diskExists || pending || !!jobId} onClick={() => start("Backup", () => startBackupAction({ disk }))}>
          Back up now
        </Button>
        <Button disabled={!diskExists || pending || !!jobId} onClick={() => start("Full backup", () => startBackupAction({ disk, full: true }))}>
          Full backup
        </Button>
        <p className="text-sm text-slate-600" data-testid="next-backup">
          {!diskExists
            ? "The disk's folder is gone: its backups can still be restored as a new disk."
            : next
              ? `The next backup is ${next.kind}${next.kind === "full" ? ` (${reasonLabel(next.reason)}: ${next.detail})` : ""}.`
              : "\u00a0"}
          {running ? " The disk is running: the backup goes through its QEMU, the guest keeps writing." : ""}
        </p>
        {error ? (
          <p role="alert" className="w-full rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
            {error}
          </p>
        ) : null}
        {jobId ? (
          <FollowJob
            jobId={jobId}
            label={jobLabel}
            onEnded={() => router.refresh()}
            onDismiss={() => setJobId(null)}
          />
        ) : null}
      </section>

      {data.chains.length === 0 ? (
        <p className="rounded-lg border border-dashed border-slate-300 bg-white px-6 py-10 text-center text-sm text-slate-600">
          No backups yet. The first backup is full; later ones copy only what changed.
        </p>
      ) : (
        <ol className="space-y-5" aria-label="Backup chains">
          {chainsNewestFirst.map((chain, i) => (
            <ChainCard
              key={chain.chainId}
              chain={chain}
              newest={i === 0}
              max={max}
              scale={scale}
              usedBytes={usedBytes}
              busy={pending || !!jobId}
              onVerify={(b) => start(`Verify ${b.id}`, () => startVerifyAction({ backupId: b.id }))}
              onRestore={setRestoring}
              onDelete={setDeleting}
            />
          ))}
        </ol>
      )}
      {data.chains.length ? (
        <p className="text-xs text-slate-500">
          Bars: each backup&apos;s file size; the dashed line marks the disk&apos;s used size ({formatBytes(usedBytes)}). A chain&apos;s count is its
          incrementals toward the limit: at {max}/{max} the next backup is full.
        </p>
      ) : null}

      {restoring ? (
        <RestoreDialog
          backup={restoring}
          disk={disk}
          diskExists={diskExists}
          running={running}
          activeLayer={activeLayer}
          onClose={() => setRestoring(null)}
          onStarted={(id) => {
            setRestoring(null);
            setJobLabel(`Restore ${restoring.id}`);
            setJobId(id);
          }}
        />
      ) : null}
      {deleting ? (
        <DeleteBackupDialog
          backup={deleting}
          onClose={() => setDeleting(null)}
          onDeleted={() => {
            setDeleting(null);
            router.refresh();
          }}
        />
      ) : null}
    </div>
  );
}

function ChainCard(props: {
  chain: ChainView;
  newest: boolean;
  max: number;
  scale: number;
  usedBytes: number;
  busy: boolean;
  onVerify(b: BackupView): void;
  onRestore(b: BackupView): void;
  onDelete(b: BackupView): void;
}) {
  const { chain, max, scale } = props;
  const full = chain.backups[0];
  const bytes = chain.backups.reduce((n, b) => n + b.fileSize, 0);
  return (
    <li className="overflow-hidden rounded-lg border border-slate-200 bg-white" data-testid="backup-chain" data-chain={chain.chainId}>
      <div className="flex flex-wrap items-center gap-x-4 gap-y-2 border-b border-slate-100 bg-slate-50 px-4 py-2.5">
        <h2 className="text-sm font-semibold text-slate-900">
          Chain <span className="font-mono text-[13px] font-medium">{chain.chainId}</span>
        </h2>
        {props.newest ? <Badge tone="sky">current</Badge> : null}
        <span className="text-xs text-slate-600">
          full {full ? `(${reasonLabel(full.reason)})` : ""} + {chain.incrementals} incremental{chain.incrementals === 1 ? "" : "s"} ·{" "}
          {formatBytes(bytes)}
        </span>
        <div className="ml-auto">
          <ChainMeter incrementals={chain.incrementals} max={max} />
        </div>
        {chain.attempt ? (
          <Badge tone="amber" title={chain.attempt.error ?? undefined}>
            unfinished attempt: next backup is full
          </Badge>
        ) : null}
      </div>
      <ol className="relative px-4 py-2">
        {chain.backups.map((b, i) => (
          <li key={b.id} className="relative flex items-center gap-3 py-2 pl-6" data-testid="backup-row" data-backup={b.id} data-kind={b.kind}>
            {/* The timeline: a dot per backup, joined by the line of the chain. */}
            <span
              aria-hidden
              className={`absolute left-1 top-1/2 size-3 -translate-y-1/2 rounded-full ring-2 ring-white ${b.kind === "full" ? "bg-slate-900" : "bg-sky-500"}`}
            />
            {i < chain.backups.length - 1 ? <span aria-hidden className="absolute left-[9px] top-1/2 h-full w-px bg-slate-300" /> : null}
            <div className="w-44 shrink-0">
              <div className="flex items-center gap-1.5">
                <Badge tone={b.kind === "full" ? "slate" : "sky"}>{b.kind}</Badge>
                <span className="text-xs tabular-nums text-slate-500">#{b.seq}</span>
              </div>
              <div className="mt-0.5 text-xs text-slate-500" title={b.pointInTime}>
                {formatDateTime(b.pointInTime)}
              </div>
            </div>
            <div className="w-56 shrink-0 text-xs text-slate-700" data-testid="backup-reason" title={b.reasonDetail}>
              {b.kind === "full" ? (
                <>
                  <span className="font-medium">{reasonLabel(b.reason)}</span>
                  <span className="block truncate text-slate-500">{b.reasonDetail}</span>
                </>
              ) : (
                <span className="text-slate-500">changes since #{b.seq - 1}</span>
              )}
            </div>
            <div className="min-w-0 flex-1" title={`${b.fileSize.toLocaleString("en-US")} bytes${props.usedBytes ? ` (${((b.fileSize / props.usedBytes) * 100).toFixed(1)}% of the disk's used size)` : ""}`}>
              <div className="relative h-3 overflow-hidden rounded bg-slate-100">
                {props.usedBytes ? (
                  <div className="absolute inset-y-0 left-0 border-r-2 border-dashed border-slate-400" style={{ width: `${(props.usedBytes / scale) * 100}%` }} />
                ) : null}
                <div className={`h-full rounded ${b.kind === "full" ? "bg-slate-700" : "bg-sky-500"}`} style={{ width: `${Math.max(0.5, (b.fileSize / scale) * 100)}%` }} />
              </div>
              <div className="mt-0.5 text-xs tabular-nums text-slate-600">
                {formatBytes(b.fileSize)}
                {b.compressed ? <span className="ml-1.5 text-slate-500" data-testid="backup-compressed">compressed</span> : null}
              </div>
            </div>
            <Badge tone={verifyTone(b.verifyStatus)} title={b.verifyProblems.join("; ") || (b.verifiedAt ? `checked ${b.verifiedAt}` : undefined)}>
              {verifyLabel(b.verifyStatus)}
            </Badge>
            <div className="flex shrink-0 gap-1">
              <Button variant="ghost" className="px-2 py-1 text-xs" disabled={props.busy} onClick={() => props.onVerify(b)}>
                Verify
              </Button>
              <Button variant="ghost" className="px-2 py-1 text-xs" disabled={props.busy} onClick={() => props.onRestore(b)} aria-label={`Restore ${b.id}`}>
                Restore…
              </Button>
              <Button variant="ghost" className="px-2 py-1 text-xs text-red-700" disabled={props.busy} onClick={() => props.onDelete(b)} aria-label={`Delete ${b.id}`}>
                Delete…
              </Button>
            </div>
          </li>
        ))}
      </ol>
    </li>
  );
}
