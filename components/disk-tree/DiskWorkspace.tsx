"use client";

import { useCallback, useMemo, useState } from "react";
import { useMutation } from "@tanstack/react-query";
import type { DiskTreeView } from "@/lib/inventory/views";
import type { DiskBackupState } from "@/server/backups/disk-backup-state";
import { JobProgressBar } from "@/components/actions/JobProgressBar";
import { OperationDialog, type OperationIntent, type StartedJob } from "@/components/actions/OperationDialog";
import { cancelJob, readableError } from "@/components/actions/operation-client";
import { useFollowedJob } from "@/components/actions/useFollowedJob";
import { useTrackedJob } from "@/components/actions/useTrackedJob";
import { ProblemList } from "@/components/problems/ProblemList";
import { BackupStatePanel } from "@/components/backups/BackupStatePanel";
import { DiskTreeCard } from "./DiskTreeCard";
import { DiskTreeHeader } from "./DiskTreeHeader";
import { useDiskTree } from "./useDiskTree";

interface DiskWorkspaceProps {
  initialTree: DiskTreeView;
  /** Null when the server could not read it: the backup panel then asks for it itself. */
  initialBackupState: DiskBackupState | null;
}

/**
 * The disk page below the server: the tree (a react-query query seeded with the server's render), the graph
 * with its actions, the plan dialog, and the progress of the job the admin started. When the job ends the tree
 * query is invalidated and everything here redraws from the new tree (and the backup panel reads its state again).
 */
export function DiskWorkspace({ initialTree, initialBackupState }: DiskWorkspaceProps) {
  const treeQuery = useDiskTree(initialTree);
  const tree = treeQuery.data;
  const [intent, setIntent] = useState<OperationIntent | null>(null);
  const [tracked, setTracked] = useTrackedJob(tree.name);
  const followed = useFollowedJob(tree.name, tracked?.jobId ?? null);
  const cancel = useMutation({ mutationFn: (jobId: string) => cancelJob(jobId) });

  const running = tracked !== null && !followed.ended;
  const busy = running ? "A job is running on this disk; its actions come back when it ends." : null;
  const layerNames = useMemo(() => new Set(tree.layers.map((l) => l.name)), [tree]);

  const onStarted = useCallback(
    ({ jobId, plan }: StartedJob) => {
      setIntent(null);
      cancel.reset();
      setTracked({ jobId, summary: plan.summary, bytesToMove: plan.bytesToMove });
    },
    [cancel, setTracked],
  );

  return (
    <div className="flex min-h-0 flex-1 flex-col gap-4 px-8 pb-5 pt-5">
      <DiskTreeHeader tree={tree} />
      <ProblemList problems={tree.problems} />
      <BackupStatePanel disk={tree.name} initial={initialBackupState} />
      {tracked ? (
        <JobProgressBar
          summary={tracked.summary}
          plannedBytes={tracked.bytesToMove}
          job={followed.job}
          lost={followed.lost}
          pollError={followed.pollError}
          cancelling={cancel.isPending}
          cancelError={cancel.isError ? readableError(cancel.error) : null}
          onCancel={() => cancel.mutate(tracked.jobId)}
          onDismiss={() => setTracked(null)}
        />
      ) : null}
      {treeQuery.isRefetchError ? (
        <p role="alert" className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 ring-1 ring-amber-200">
          Could not refresh the tree, so it may be out of date: {readableError(treeQuery.error)}{" "}
          <button type="button" className="font-medium underline" onClick={() => void treeQuery.refetch()}>
            Try again
          </button>
        </p>
      ) : null}
      <DiskTreeCard tree={tree} busy={busy} onAction={setIntent} />
      {intent ? (
        <OperationDialog
          disk={tree.name}
          intent={intent}
          layerNames={layerNames}
          onClose={() => setIntent(null)}
          onStarted={onStarted}
        />
      ) : null}
    </div>
  );
}
