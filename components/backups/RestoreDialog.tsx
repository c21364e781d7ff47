"use client";

import { useEffect, useState, useTransition } from "react";
import type { BackupView } from "@/server/backups/mirror";
import { planRestoreAction, startRestoreAction } from "@/server/actions/backups";
import { ConfirmDialog } from "@/components/ui/ConfirmDialog";
import { formatBytes } from "@/components/format/bytes";

type Target = { kind: "as-disk"; name: string } | { kind: "branch"; layer?: string } | { kind: "in-place" };
type Preview = Extract<Awaited<ReturnType<typeof planRestoreAction>>, { ok: true }>["data"];

/** Restore with a preview: the engine's plan (what it writes, what it replaces, warnings) before confirming. */
export function RestoreDialog(props: {
  backup: BackupView;
  disk: string;
  diskExists: boolean;
  running: boolean;
  activeLayer: string | null;
  onClose(): void;
  onStarted(jobId: string): void;
}) {
  const { backup } = props;
  const [kind, setKind] = useState<Target["kind"]>("as-disk");
  const [name, setName] = useState(`${props.disk}-restored`);
  const [layer, setLayer] = useState(`restore-${backup.seq}`);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();
  const target: Target = kind === "as-disk" ? { kind, name } : kind === "branch" ? { kind, layer } : { kind };

  useEffect(() => {
    let live = true;
    setPreview(null);
    setError(null);
    const t = setTimeout(() => {
      void planRestoreAction({ backupId: backup.id, target }).then((r) => {
        if (!live) return;
        if (r.ok) setPreview(r.data);
        else setError(r.error.message);
      });
    }, 250);
    return () => {
      live = false;
      clearTimeout(t);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [backup.id, kind, name, layer]);

  const confirm = () =>
    startTransition(async () => {
      const r = await startRestoreAction({ backupId: backup.id, target });
      if (!r.ok) return setError(r.error.message);
      props.onStarted(r.data.jobId);
    });

  const option = (value: Target["kind"], label: string, disabled = false, why?: string) => (
    <label className={`flex items-start gap-2 ${disabled ? "text-slate-400" : ""}`} title={why}>
      <input type="radio" name="restore-target" value={value} checked={kind === value} disabled={disabled} onChange={() => setKind(value)} className="mt-1" />
      <span>{label}</span>
    </label>
  );
  return (
    <ConfirmDialog
      title={`Restore backup #${backup.seq} (${backup.kind})`}
      confirmLabel={kind === "in-place" ? "Replace and restore" : "Restore"}
      tone={kind === "in-place" ? "danger" : "primary"}
      busy={pending || (!preview && !error)}
      disabled={!preview}
      cancelLabel="Cancel"
      error={error}
      onConfirm={() => (preview ? confirm() : undefined)}
      onClose={props.onClose}
    >
      <p className="font-mono text-xs text-slate-500">{backup.id}</p>
      <p className="mt-1">Point in time {new Date(backup.pointInTime).toLocaleString()}, {formatBytes(backup.virtualSize)} disk.</p>
      <fieldset className="mt-3 space-y-1.5">
        <legend className="sr-only">Restore to</legend>
        {option("as-disk", "As a new disk")}
        {kind === "as-disk" ? (
          <input aria-label="New disk name" value={name} onChange={(e) => setName(e.target.value)} className="ml-6 w-56 rounded border border-slate-300 px-2 py-1 font-mono text-sm" />
        ) : null}
        {option("branch", "As a new branch of this disk (a standalone layer)", !props.diskExists)}
        {kind === "branch" ? (
          <input aria-label="New layer name" value={layer} onChange={(e) => setLayer(e.target.value)} className="ml-6 w-56 rounded border border-slate-300 px-2 py-1 font-mono text-sm" />
        ) : null}
        {option(
          "in-place",
          `In place, over the active layer${props.activeLayer ? ` ${props.activeLayer}` : ""}`,
          !props.diskExists || props.running,
          props.running ? "Stop the disk first: a running disk is never restored in place" : undefined,
        )}
      </fieldset>
      {preview ? (
        <div className="mt-3 rounded-md bg-slate-50 px-3 py-2 text-xs" data-testid="restore-preview">
          <p className="text-slate-800">{preview.summary}</p>
          {preview.replaces ? (
            <p className="mt-1 text-red-700">
              Replaces {preview.replaces.layer} ({formatBytes(preview.replaces.fileSize)} on disk
              {preview.replaces.backingFile ? `, backed by ${preview.replaces.backingFile}` : ""}
              {preview.replaces.bitmaps.length ? `, bitmaps ${preview.replaces.bitmaps.join(", ")}` : ""}).
            </p>
          ) : null}
          {preview.warnings.map((w) => (
            <p key={w} className="mt-1 text-amber-800">
              {w}
            </p>
          ))}
        </div>
      ) : null}
    </ConfirmDialog>
  );
}
