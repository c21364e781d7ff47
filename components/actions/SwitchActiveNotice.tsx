import type { ReactNode } from "react";
import type { Plan } from "@/lib/ops/types";
import { WarningIcon } from "@/components/ui/icons";

/**
 * A make-active's confirmation, said plainly before anything runs: which layer receives the VM's writes from now
 * on, which one stops receiving them, and that what the old one holds stays on its own branch (the planner's
 * notes, which name where the branches part).
 */
export function SwitchActiveNotice({ plan }: { plan: Plan }) {
  return (
    <section
      aria-label="Where the VM writes"
      className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2.5 text-slate-800"
      data-testid="switch-active-notice"
    >
      <p className="flex items-start gap-2 font-medium text-slate-900">
        <WarningIcon className="mt-0.5 size-4 shrink-0 text-amber-600" />
        <span>
          From now on the VM writes to <Name testId="switch-active-to">{plan.activeAfter}</Name>.
          {plan.activeBefore ? (
            <>
              {" "}
              <Name testId="switch-active-from">{plan.activeBefore}</Name> stops receiving its writes.
            </>
          ) : null}
        </span>
      </p>
      <ul className="mt-1.5 list-disc space-y-0.5 pl-10 text-[13px]" data-testid="plan-notes">
        {plan.notes.map((n, i) => (
          <li key={i}>{n}</li>
        ))}
      </ul>
    </section>
  );
}

function Name({ children, testId }: { children: ReactNode; testId: string }) {
  return (
    <span className="rounded bg-white px-1 font-mono font-semibold ring-1 ring-amber-300" data-testid={testId}>
      {children}
    </span>
  );
}
