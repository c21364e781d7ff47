import type { Problem } from "@/lib/inventory/types";
import { WarningIcon } from "@/components/ui/icons";
import { problemLabel, problemSeverity, sortProblems } from "./problem-meta";

/** A disk's problems as full sentences, errors first: the first thing to read before touching a chain. */
export function ProblemList({ problems }: { problems: readonly Problem[] }) {
  if (problems.length === 0) return null;
  const sorted = sortProblems(problems);
  const hasErrors = problemSeverity(sorted[0]!.code) === "error";
  return (
    <section
      aria-label="Problems"
      data-testid="disk-problems"
      className={`rounded-lg border px-4 py-3 ${hasErrors ? "border-red-200 bg-red-50" : "border-amber-200 bg-amber-50"}`}
    >
      <h2 className={`text-sm font-semibold ${hasErrors ? "text-red-800" : "text-amber-900"}`}>
        {problems.length === 1 ? "1 problem found" : `${problems.length} problems found`}
      </h2>
      <ul className="mt-2 space-y-1.5">
        {sorted.map((p, i) => {
          const error = problemSeverity(p.code) === "error";
          return (
            <li key={`${p.code}-${p.layer ?? ""}-${i}`} className="flex items-start gap-2 text-sm">
              <WarningIcon className={`mt-0.5 size-4 shrink-0 ${error ? "text-red-600" : "text-amber-600"}`} />
              <span className={`shrink-0 font-medium ${error ? "text-red-800" : "text-amber-900"}`}>
                {problemLabel(p.code)}
              </span>
              <span className="text-slate-700">{p.message}</span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
