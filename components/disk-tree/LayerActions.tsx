"use client";

import type { DiskTreeView, LayerView } from "@/lib/inventory/views";
import type { OperationIntent } from "@/components/actions/OperationDialog";
import { Button } from "@/components/actions/Button";
import { layerActions } from "./layer-actions";

interface LayerActionsProps {
  tree: DiskTreeView;
  layer: LayerView;
  busy: string | null;
  onAction: (intent: OperationIntent) => void;
  onStartRange: (from: string) => void;
}

/** The layer's operations as plain buttons (Tab reaches each); every one opens a plan before anything runs. */
export function LayerActions({ tree, layer, busy, onAction, onStartRange }: LayerActionsProps) {
  const { actions, notes } = layerActions(tree, layer);
  return (
    <section aria-label={`Actions on ${layer.name}`} className="border-b border-slate-200 px-4 py-3" data-testid="layer-actions">
      <h3 className="mb-2 text-xs font-semibold uppercase tracking-wide text-slate-500">Actions</h3>
      {busy ? (
        <p className="mb-2 rounded-md bg-sky-50 px-2.5 py-1.5 text-[13px] text-sky-900 ring-1 ring-sky-200">{busy}</p>
      ) : null}
      <div className="flex flex-wrap gap-1.5">
        {actions.map((a) => (
          <Button
            key={a.id}
            variant="secondary"
            title={a.unavailable ?? a.hint}
            disabled={busy !== null || a.unavailable !== undefined}
            data-action={a.id}
            className={`px-2.5 text-[13px] ${a.danger ? "text-red-700 ring-red-200 hover:bg-red-50" : ""}`}
            onClick={() => (a.intent === "range" ? onStartRange(layer.name) : onAction(a.intent))}
          >
            {a.label}
          </Button>
        ))}
      </div>
      {actions.flatMap((a) =>
        a.unavailable && !busy ? [
          <p key={a.id} data-unavailable={a.id} className="mt-2 text-[12.5px] leading-snug text-amber-800">
            {a.unavailable}
          </p>,
        ] : [],
      )}
      {notes.map((n) => (
        <p key={n} className="mt-2 text-[12.5px] leading-snug text-slate-500">
          {n}
        </p>
      ))}
    </section>
  );
}
