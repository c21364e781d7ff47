import { LockIcon, WarningIcon } from "@/components/ui/icons";

/** What the node styles mean, shown once above the graph rather than on every node. */
export function TreeLegend() {
  const swatch = "inline-block h-3 w-4 rounded-[4px] border-2";
  return (
    <ul className="flex flex-wrap items-center gap-x-3.5 gap-y-1 text-xs text-slate-600" aria-label="Legend">
      <li className="flex items-center gap-1.5">
        <span className={`${swatch} border-emerald-500 ring-2 ring-emerald-500/25`} /> Active leaf
      </li>
      <li className="flex items-center gap-1.5">
        <span className={`${swatch} border-sky-300`} /> Branch tip
      </li>
      <li className="flex items-center gap-1.5">
        <span className={`${swatch} border-dashed border-slate-400 bg-slate-100`} /> Template
      </li>
      <li className="flex items-center gap-1.5">
        <span className="inline-block h-0.5 w-5 rounded bg-emerald-500" /> Active chain
      </li>
      <li className="flex items-center gap-1" title="Canopy will not delete these layers or merge them away">
        <span className="inline-flex items-center gap-0.5 rounded bg-amber-100 px-1 text-[11px] font-semibold text-amber-800 ring-1 ring-inset ring-amber-300">
          <LockIcon className="size-3" /> Protected
        </span>
        no delete or merge
      </li>
      <li className="flex items-center gap-1">
        <WarningIcon className="size-3.5 text-red-600" /> Problem
      </li>
    </ul>
  );
}
