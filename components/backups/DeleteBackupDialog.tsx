"use client";

import { useEffect, useState, useTransition } from "react";
import type { BackupView } from "@/server/backups/mirror";
import { deleteBackupAction, planDeleteBackupAction } from "@/server/actions/backups";
import { ConfirmDialog } from "@/components/ui/ConfirmDialog";
import { formatBytes } from "@/components/format/bytes";

type Plan = Extract<Awaited<ReturnType<typeof planDeleteBackupAction>>, { ok: true }>["data"];

/**
 * Delete with the engine's rules: what goes along (everything stacked on the backup; the whole chain for a full),
 * or a readable refusal naming what depends on what and the way on (a newer full backup first).
 */
export function DeleteBackupDialog({ backup, onClose, onDeleted }: { backup: BackupView; onClose(): void; onDeleted(): void }) {
  const [plan, setPlan] = useState<Plan | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();
  useEffect(() => {
    void planDeleteBackupAction({ backupId: backup.id }).then((r) => (r.ok ? setPlan(r.data) : setError(r.error.message)));
  }, [backup.id]);
  const refused = plan && !plan.allowed ? plan : null;
  return (
    <ConfirmDialog
      title={refused ? "This backup cannot be deleted" : `Delete backup #${backup.seq}?`}
      confirmLabel="Delete"
      busy={pending || (!plan && !error)}
      disabled={!plan?.allowed}
      cancelLabel={refused ? "Close" : "Keep it"}
      error={error}
      onConfirm={() =>
        startTransition(async () => {
          const r = await deleteBackupAction({ backupId: backup.id });
          if (!r.ok) return setError(r.error.message);
          onDeleted();
        })
      }
      onClose={onClose}
    >
      <p className="font-mono text-xs text-slate-500">{backup.id}</p>
      {!plan ? <p className="mt-2">Checking what depends on it…</p> : null}
      {refused ? (
        <div className="mt-2" data-testid="delete-refusal">
          <p className="text-red-800">{refused.reason}</p>
          {refused.dependents.length ? (
            <ul className="mt-2 list-disc pl-5 text-xs">
              {refused.dependents.map((d) => (
                <li key={`${d.backup}-${d.dependsOn}`}>
                  <span className="font-mono">{d.backup}</span> depends on <span className="font-mono">{d.dependsOn}</span>
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      {plan?.allowed ? (
        <div className="mt-2">
          <p>{plan.summary}</p>
          {plan.along.length ? (
            <p className="mt-1 text-xs" data-testid="delete-along">
              Stacked on it, so deleted with it: <span className="font-mono">{plan.along.join(", ")}</span>
            </p>
          ) : null}
          <p className="mt-1 text-xs">
            {plan.backups.length} backup{plan.backups.length === 1 ? "" : "s"}, {formatBytes(plan.bytes)}. This cannot be undone.
          </p>
        </div>
      ) : null}
    </ConfirmDialog>
  );
}
