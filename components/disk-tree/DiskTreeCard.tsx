import type { DiskTreeView } from "@/lib/inventory/views";
import { DiskTreeGraph, type DiskTreeGraphProps } from "./DiskTreeGraph";
import { TreeLegend } from "./TreeLegend";

/** The graph in a card that takes the page's remaining height, with the legend and how to use it on top. */
export function DiskTreeCard({ tree, busy, onAction }: DiskTreeGraphProps & { tree: DiskTreeView }) {
  return (
    <section
      aria-label="Layer tree"
      className="flex min-h-[420px] flex-1 flex-col overflow-hidden rounded-lg border border-slate-200 bg-white shadow-sm"
    >
      <div className="flex flex-wrap items-center justify-between gap-x-4 gap-y-1 border-b border-slate-200 px-4 py-2">
        <TreeLegend />
        <p className="text-xs text-slate-500">
          Click a layer (or Tab, Enter) for its actions · Shift+click another for a merge range
        </p>
      </div>
      <div className="min-h-0 flex-1">
        <DiskTreeGraph tree={tree} busy={busy} onAction={onAction} />
      </div>
    </section>
  );
}
