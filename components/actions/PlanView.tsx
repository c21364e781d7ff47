import type { ReactNode } from "react";
import type { Plan } from "@/lib/ops/types";
import { describeStep } from "@/lib/ops/describe-step";
import { formatBytes } from "@/components/format/bytes";
import { SwitchActiveNotice } from "./SwitchActiveNotice";

/**
 * Everything the planner says an operation will do, before it runs: steps, the layers it changes, deletes and
 * creates, the data it copies, and what the VM will run on afterwards.
 */
export function PlanView({ plan }: { plan: Plan }) {
  const activeChanges = plan.activeBefore !== plan.activeAfter;
  // Make-active's notes are its warning: shown first, where the admin reads before confirming.
  const switchesActive = plan.operation === "make-active";
  return (
    <div className="space-y-4 text-sm" data-testid="plan">
      <p className="text-[15px] font-medium text-slate-900" data-testid="plan-summary">
        {plan.summary}
      </p>
      {switchesActive ? <SwitchActiveNotice plan={plan} /> : null}

      <dl className="grid grid-cols-2 gap-2">
        <Figure label="Data to copy" testId="plan-bytes">
          {plan.bytesToMove > 0 ? (
            <>
              {formatBytes(plan.bytesToMove)}
              <span className="ml-1.5 text-xs font-normal text-slate-500">
                {plan.bytesToMove.toLocaleString("en-US")} B
              </span>
            </>
          ) : (
            <span className="font-normal text-slate-600">none (headers and records only)</span>
          )}
        </Figure>
        <Figure label="Active layer" testId="plan-active">
          <LayerName name={plan.activeBefore} />
          {activeChanges ? (
            <>
              <span aria-label="becomes" className="mx-1.5 text-slate-400">
                →
              </span>
              <LayerName name={plan.activeAfter} tone="emerald" />
            </>
          ) : (
            <span className="ml-1.5 text-xs font-normal text-slate-500">unchanged</span>
          )}
        </Figure>
      </dl>

      <section aria-label="Steps">
        <h3 className="mb-1.5 text-xs font-semibold uppercase tracking-wide text-slate-500">
          Steps ({plan.steps.length})
        </h3>
        <ol className="space-y-1" data-testid="plan-steps">
          {plan.steps.map((step, i) => (
            <li key={i} className="flex gap-2.5">
              <span className="grid size-5 shrink-0 place-items-center rounded-full bg-slate-100 text-[11px] font-semibold text-slate-600">
                {i + 1}
              </span>
              <span className="text-slate-800">
                {describeStep(step)}
                {"bytes" in step && step.bytes > 0 ? (
                  <span className="ml-1.5 text-xs text-slate-500">({formatBytes(step.bytes)})</span>
                ) : null}
              </span>
            </li>
          ))}
        </ol>
      </section>

      <div className="grid gap-2 sm:grid-cols-3">
        <LayerList title="Changes" names={plan.changes} tone="amber" testId="plan-changes" empty="nothing" />
        <LayerList title="Deleted" names={plan.deletes} tone="red" testId="plan-deletes" empty="nothing" />
        <LayerList title="Created" names={plan.creates} tone="emerald" testId="plan-creates" empty="nothing" />
      </div>

      {plan.notes.length > 0 && !switchesActive ? (
        <section aria-label="Notes" className="rounded-md bg-slate-50 px-3 py-2 ring-1 ring-inset ring-slate-200">
          <h3 className="mb-1 text-xs font-semibold uppercase tracking-wide text-slate-500">Notes</h3>
          <ul className="list-disc space-y-0.5 pl-4 text-slate-700" data-testid="plan-notes">
            {plan.notes.map((n, i) => (
              <li key={i}>{n}</li>
            ))}
          </ul>
        </section>
      ) : null}
    </div>
  );
}

function Figure({ label, children, testId }: { label: string; children: ReactNode; testId: string }) {
  return (
    <div className="rounded-md border border-slate-200 px-3 py-2">
      <dt className="text-[11px] font-medium uppercase tracking-wide text-slate-500">{label}</dt>
      <dd className="mt-0.5 font-semibold text-slate-900" data-testid={testId}>
        {children}
      </dd>
    </div>
  );
}

const TONE = {
  amber: { box: "border-amber-200 bg-amber-50/60", title: "text-amber-800", chip: "bg-amber-100 text-amber-900" },
  red: { box: "border-red-200 bg-red-50", title: "text-red-700", chip: "bg-red-600 text-white" },
  emerald: { box: "border-emerald-200 bg-emerald-50/60", title: "text-emerald-800", chip: "bg-emerald-600 text-white" },
} as const;

function LayerList({
  title,
  names,
  tone,
  testId,
  empty,
}: {
  title: string;
  names: string[];
  tone: keyof typeof TONE;
  testId: string;
  empty: string;
}) {
  const t = names.length ? TONE[tone] : { box: "border-slate-200", title: "text-slate-500", chip: "" };
  return (
    <section aria-label={title} className={`rounded-md border px-3 py-2 ${t.box}`} data-testid={testId}>
      <h3 className={`text-xs font-semibold uppercase tracking-wide ${t.title}`}>{title}</h3>
      {names.length ? (
        <ul className="mt-1 flex flex-wrap gap-1">
          {names.map((n) => (
            <li key={n} className={`rounded px-1.5 py-0.5 font-mono text-[12.5px] font-semibold ${t.chip}`}>
              {n}
            </li>
          ))}
        </ul>
      ) : (
        <p className="mt-1 text-slate-500">{empty}</p>
      )}
    </section>
  );
}

function LayerName({ name, tone }: { name: string | null; tone?: "emerald" }) {
  if (name === null) return <span className="font-normal text-amber-700">none</span>;
  return <span className={`font-mono ${tone === "emerald" ? "text-emerald-700" : ""}`}>{name}</span>;
}
