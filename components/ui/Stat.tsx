import type { ReactNode } from "react";

/** A labelled figure for page headers ("Active layer 1C"). */
export function Stat({ label, children, title }: { label: string; children: ReactNode; title?: string }) {
  return (
    <div title={title} className="rounded-md border border-slate-200 bg-white px-3 py-1.5">
      <div className="text-[11px] font-medium uppercase tracking-wide text-slate-500">{label}</div>
      <div className="text-sm font-semibold text-slate-900">{children}</div>
    </div>
  );
}
