"use client";

import { useCallback, useMemo, useState } from "react";
import { useMutation } from "@tanstack/react-query";
import type { DiskActivity } from "@/server/disk-activity";
import { JobProgressBar } from "@/components/actions/JobProgressBar";
import { OperationDialog, type OperationIntent, type StartedJob } from "@/components/actions/OperationDialog";
import { cancelJob, readableError } from "@/components/actions/operation-client";
import { useFollowedJob } from "@/components/actions/useFollowedJob";
import { useTrackedJob } from "@/components/actions/useTrackedJob";
import { startedByText } from "@/components/actions/job-requester";
import { ProblemList } from "@/components/problems/ProblemList";
import { BackupStatePanel } from "@/components/backups/BackupStatePanel";
import { DiskTreeCard } from "./DiskTreeCard";
import { DiskTreeHeader } from "./DiskTreeHeader";
import { useDiskTree } from "./useDiskTree";
import { useDiskActivity } from "./useDiskActivity";
import { useOutsideJob } from "./useOutsideJob";
import { outsideJobBusyText } from "./outside-job";
import { unpackTree, type PackedTree } from "./packed-tree";

interface DiskWorkspaceProps {
  /** The tree as the server read it, packed for the trip (packed-tree.ts). */
  initialTree: PackedTree;
  /** The job holding the disk when the page was rendered; null when the server could not read it. */
  initialActivity: DiskActivity | null;
}

/**
 * The disk page below the server: the tree (a react-query query seeded with the server's render), the graph
 * with its actions, the plan dialog, and the progress of the job the admin started; and of a job started
 * elsewhere (the CLI, another tab, the backup schedule), found by polling the disk's activity. When either ends
 * the tree query is invalidated and everything here redraws from the new tree (and the backup panel reads its
 * state again).
 */
export function DiskWorkspace({ initialTree, initialActivity }: DiskWorkspaceProps) {
  const unpacked = useMemo(() => unpackTree(initialTree), [initialTree]);
  const treeQuery = useDiskTree(unpacked);
  const tree = treeQuery.data;
  const [intent, setIntent] = useState<OperationIntent | null>(null);
  const [tracked, setTracked, trackedRestored] = useTrackedJob(tree.name);
  const followed = useFollowedJob(tree.name, tracked?.jobId ?? null);
  const cancel = useMutation({ mutationFn: (jobId: string) => cancelJob(jobId) });
  const activity = useDiskActivity(tree.name, initialActivity);
  // Until the tab's own job is read back from the session, the job holding the disk may be that one.
  const holder = trackedRestored ? (activity.data?.currentJob ?? null) : null;
  const outside = useOutsideJob(tree.name, holder, tracked?.jobId ?? null);

  const running = tracked !== null && !followed.ended;
  const busy = running
    ? "A job is running on this disk; its actions come back when it ends."
    : outside.running && outside.job
      ? outsideJobBusyText(outside.job)
      : null;
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
      <BackupStatePanel disk={tree.name} />
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
      {outside.job ? (
        <JobProgressBar
          // One bar per job: a confirmation left open must not carry over to the next job.
          key={outside.job.id}
          testId="outside-job-progress"
          // The job's own record first: a backup's sentence gains its outcome when it ends.
          summary={outside.followed.job?.summary ?? outside.job.summary ?? `${outside.job.kind} job`}
          startedBy={startedByText(outside.job.requestedBy)}
          plannedBytes={0}
          job={outside.followed.job}
          lost={outside.followed.lost}
          pollError={outside.followed.pollError}
          cancelling={outside.cancelling}
          cancelError={outside.cancelError}
          onCancel={outside.cancel}
          onDismiss={outside.dismiss}
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
