"use client";

import { useState, useTransition } from "react";
import { useQueryClient } from "@tanstack/react-query";
import type { JobView } from "@/lib/views/job";
import { cancelJobAction } from "@/server/actions/operations";
import { ConfirmDialog } from "@/components/ui/ConfirmDialog";
import { jobKey } from "./useJob";

/** Cancel, after a confirmation that says what happens to a queued or a running job. */
export function CancelJobButton({ job }: { job: JobView }) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();
  const queryClient = useQueryClient();

  const confirm = () =>
    startTransition(async () => {
      setError(null);
      const result = await cancelJobAction({ jobId: job.id });
      if (!result.ok) {
        setError(result.error.message);
        return;
      }
      setOpen(false);
      // Server actions do not touch react-query's cache: refetch what the cancel changed.
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: ["jobs"] }),
        queryClient.invalidateQueries({ queryKey: jobKey(job.id) }),
      ]);
    });

  if (job.cancelRequested && job.state === "running") {
    return <span className="text-xs text-amber-700">Stopping…</span>;
  }
  return (
    <>
      <button
        type="button"
        onClick={() => {
          setError(null);
          setOpen(true);
        }}
        className="rounded-md bg-white px-2.5 py-1 text-xs font-medium text-red-700 ring-1 ring-inset ring-red-300 hover:bg-red-50 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500"
      >
        Cancel
      </button>
      {open ? (
        <ConfirmDialog
          title={`Cancel this ${job.kind} job?`}
          confirmLabel="Cancel job"
          busy={pending}
          error={error}
          onConfirm={confirm}
          onClose={() => setOpen(false)}
        >
          <p className="font-medium text-slate-800">{job.summary ?? job.kind}</p>
          <p className="mt-2">
            {job.state === "queued"
              ? "It has not started: nothing will run, and the disk is free again at once."
              : "It stops within a second: the running qemu-img is stopped and no further step starts. The tree stays consistent, and the job's error says if a merge was left half done and how to finish it."}
          </p>
        </ConfirmDialog>
      ) : null}
    </>
  );
}
