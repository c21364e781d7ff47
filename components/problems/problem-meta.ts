import type { Problem, ProblemCode } from "@/lib/inventory/types";

export type Severity = "error" | "warning";

/**
 * Errors make a chain unusable or unsafe to touch (QEMU cannot open it as it is); warnings need attention
 * but the data is still reachable. A short label per code keeps badges narrow; the message goes in the title.
 */
const META: Record<ProblemCode, { severity: Severity; label: string }> = {
  "not-recorded": { severity: "error", label: "Scan not recorded" },
  "backing-loop": { severity: "error", label: "Backing loop" },
  "backing-missing": { severity: "error", label: "Missing backing file" },
  "backing-outside-root": { severity: "warning", label: "Backing outside root" },
  "backing-format-missing": { severity: "warning", label: "No backing format" },
  "not-qcow2": { severity: "error", label: "Not qcow2" },
  truncated: { severity: "error", label: "Truncated" },
  corrupt: { severity: "error", label: "Corrupt" },
  dirty: { severity: "warning", label: "Dirty" },
  unreadable: { severity: "error", label: "Unreadable" },
  symlink: { severity: "warning", label: "Symbolic link" },
  "backing-symlink": { severity: "error", label: "Backing through a link" },
};

export function problemSeverity(code: ProblemCode): Severity {
  return META[code]?.severity ?? "error";
}

export function problemLabel(code: ProblemCode): string {
  return META[code]?.label ?? code;
}

/** The worst severity among problems, or null when there are none. */
export function worstSeverity(problems: readonly Problem[]): Severity | null {
  if (problems.length === 0) return null;
  return problems.some((p) => problemSeverity(p.code) === "error") ? "error" : "warning";
}

/** Errors first, so the most urgent problem is the one people read first. */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  const rank = (p: Problem) => (problemSeverity(p.code) === "error" ? 0 : 1);
  return [...problems].sort((a, b) => rank(a) - rank(b));
}
