import type { ReactNode } from "react";
import { describeStep } from "@/lib/ops/describe-step";
import type { Plan } from "@/lib/ops/types";
import { formatBytes } from "@/components/format/bytes";

/** A recorded plan in full: the steps in order, the layers changed, deleted and created, and the data moved. */
export function PlanDetails({ plan }: { plan: Plan }) {
  return (
    <div className="grid gap-x-8 gap-y-4 text-sm md:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]" data-testid="audit-plan">
      <section aria-label="Steps">
        <Heading>Steps ({plan.steps.length})</Heading>
        {plan.steps.length > 0 ? (
          <ol className="space-y-1">
            {plan.steps.map((step, i) => (
              <li key={i} className="flex gap-2">
                <span className="w-5 shrink-0 text-right tabular-nums text-slate-400">{i + 1}.</span>
                <span className="text-slate-800">{describeStep(step)}</span>
              </li>
            ))}
          </ol>
        ) : (
          <p className="text-slate-500">None: the plan was refused.</p>
        )}
        {plan.refused ? (
          <p className="mt-3 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-red-900">
            Refused: {plan.refused.reason}
            {plan.refused.alternative ? <span className="block text-slate-700">Safe alternative: {plan.refused.alternative.summary}</span> : null}
          </p>
        ) : null}
        {plan.notes.length > 0 ? (
          <ul className="mt-3 space-y-1 text-slate-600">
            {plan.notes.map((note, i) => (
              <li key={i}>Note: {note}</li>
            ))}
          </ul>
        ) : null}
      </section>
      <dl className="space-y-3">
        <Figure label="Data moved">
          {plan.bytesToMove > 0 ? (
            <span title={`${plan.bytesToMove.toLocaleString("en-US")} bytes`}>{formatBytes(plan.bytesToMove)}</span>
          ) : (
            <span className="text-slate-500">none (headers and records only)</span>
          )}
        </Figure>
        <Figure label="Changes">
          <Layers names={plan.changes} />
        </Figure>
        <Figure label="Deletes">
          <Layers names={plan.deletes} tone="red" />
        </Figure>
        <Figure label="Creates">
          <Layers names={plan.creates} tone="green" />
        </Figure>
        <Figure label="Active layer">
          <span className="font-mono">{plan.activeBefore ?? "none"}</span>
          {plan.activeAfter !== plan.activeBefore ? (
            <>
              <span className="mx-1.5 text-slate-400" aria-label="became">
                →
              </span>
              <span className="font-mono text-emerald-700">{plan.activeAfter ?? "none"}</span>
            </>
          ) : (
            <span className="ml-1.5 text-xs text-slate-500">unchanged</span>
          )}
        </Figure>
      </dl>
    </div>
  );
}

function Heading({ children }: { children: ReactNode }) {
  return <h3 className="mb-1.5 text-xs font-semibold uppercase tracking-wide text-slate-500">{children}</h3>;
}

function Figure({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="flex gap-3">
      <dt className="w-24 shrink-0 text-xs font-semibold uppercase tracking-wide text-slate-500">{label}</dt>
      <dd className="min-w-0 text-slate-800">{children}</dd>
    </div>
  );
}

const CHIP = {
  slate: "bg-slate-100 text-slate-800 ring-slate-300",
  red: "bg-red-50 text-red-800 ring-red-200",
  green: "bg-emerald-50 text-emerald-800 ring-emerald-200",
};

function Layers({ names, tone = "slate" }: { names: string[]; tone?: keyof typeof CHIP }) {
  if (names.length === 0) return <span className="text-slate-400">none</span>;
  return (
    <ul className="flex flex-wrap gap-1">
      {names.map((n) => (
        <li key={n} className={`rounded px-1.5 py-0.5 font-mono text-xs ring-1 ring-inset ${CHIP[tone]}`}>
          {n}
        </li>
      ))}
    </ul>
  );
}
