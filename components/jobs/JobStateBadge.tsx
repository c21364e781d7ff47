import type { JobView } from "@/lib/views/job";
import { Badge, type BadgeTone } from "@/components/ui/Badge";

const LOOK: Record<JobView["state"], { tone: BadgeTone; label: string }> = {
  queued: { tone: "slate", label: "Queued" },
  running: { tone: "sky", label: "Running" },
  succeeded: { tone: "green", label: "Succeeded" },
  failed: { tone: "red", label: "Failed" },
  cancelled: { tone: "amber", label: "Cancelled" },
};

/** The job's state; a running job asked to stop says "Cancelling" until its runner has stopped it. */
export function JobStateBadge({ job }: { job: Pick<JobView, "state" | "cancelRequested"> }) {
  const cancelling = job.state === "running" && job.cancelRequested;
  const { tone, label } = cancelling ? { tone: "amber" as const, label: "Cancelling" } : LOOK[job.state];
  return (
    <Badge tone={tone}>
      {job.state === "running" ? <span className="size-1.5 animate-pulse rounded-full bg-current" aria-hidden="true" /> : null}
      {label}
    </Badge>
  );
}
