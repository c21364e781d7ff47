import type { Plan, Refusal } from "@/lib/ops/types";
import { WarningIcon } from "@/components/ui/icons";
import { Button } from "./Button";
import { requestFromAlternative, requestTitle, type OperationRequest } from "./operation-request";

interface RefusalViewProps {
  plan: Plan & { refused: Refusal };
  /** Re-plans with the planner's safe alternative; the dialog then shows that plan. */
  onUseAlternative: (request: OperationRequest) => void;
}

/** Why the planner will not do this, who would be hurt, and the one safe way to get the same job done. */
export function RefusalView({ plan, onUseAlternative }: RefusalViewProps) {
  const { reason, dependents, alternative } = plan.refused;
  const altRequest = alternative ? requestFromAlternative(alternative) : null;
  return (
    <div className="space-y-4 text-sm" data-testid="plan-refused">
      <div role="alert" className="rounded-lg border border-red-300 bg-red-50 px-4 py-3">
        <div className="flex items-center gap-2 text-base font-semibold text-red-800">
          <WarningIcon className="size-5 shrink-0" />
          Refused: nothing will run
        </div>
        <p className="mt-1 text-[13px] text-slate-700">{plan.summary}</p>
        <p className="mt-2 text-[15px] leading-snug text-red-900" data-testid="refusal-reason">
          {capitalize(reason)}
        </p>
        {dependents.length > 0 ? (
          <div className="mt-3">
            <div className="text-xs font-semibold uppercase tracking-wide text-red-700">
              {dependents.length === 1 ? "Layer that would be hurt" : "Layers that would be hurt"}
            </div>
            <ul className="mt-1 flex flex-wrap gap-1" data-testid="refusal-dependents">
              {dependents.map((d) => (
                <li key={d} className="rounded bg-white px-1.5 py-0.5 font-mono text-[12.5px] font-semibold text-red-800 ring-1 ring-red-300">
                  {d}
                </li>
              ))}
            </ul>
          </div>
        ) : null}
      </div>

      {alternative ? (
        <div className="rounded-lg border border-emerald-300 bg-emerald-50 px-4 py-3" data-testid="refusal-alternative">
          <div className="text-xs font-semibold uppercase tracking-wide text-emerald-800">Safe alternative</div>
          <p className="mt-1 text-[15px] leading-snug text-slate-900">{alternative.summary}</p>
          {altRequest ? (
            <Button variant="primary" className="mt-3" onClick={() => onUseAlternative(altRequest)}>
              Plan instead: {requestTitle(altRequest)}
            </Button>
          ) : null}
        </div>
      ) : (
        <p className="text-slate-600">The planner has no safe alternative for this; change the tree first.</p>
      )}
    </div>
  );
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
