import type { Problem } from "@/lib/inventory/types";
import { Badge } from "@/components/ui/Badge";
import { WarningIcon } from "@/components/ui/icons";
import { problemLabel, problemSeverity } from "./problem-meta";

/** Short label (plus the layer it is about); the scanner's full message is on hover and for screen readers. */
export function ProblemBadge({ problem }: { problem: Problem }) {
  const tone = problemSeverity(problem.code) === "error" ? "red" : "amber";
  return (
    <Badge tone={tone} title={problem.message}>
      <WarningIcon className="size-3.5 shrink-0" />
      {problemLabel(problem.code)}
      {problem.layer ? <span className="font-mono font-normal opacity-80">· {problem.layer}</span> : null}
      <span className="sr-only">: {problem.message}</span>
    </Badge>
  );
}
