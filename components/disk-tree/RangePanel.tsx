"use client";

import type { KeyboardEvent, ReactNode } from "react";
import type { DiskTreeView } from "@/lib/inventory/views";
import type { OperationIntent } from "@/components/actions/OperationDialog";
import { Button } from "@/components/actions/Button";
import { CloseIcon } from "@/components/ui/icons";
import { listNames, mergedLayers, type MergeKind, type MergeRange } from "./merge-range";

interface RangePanelProps {
  tree: DiskTreeView;
  range: MergeRange;
  busy: string | null;
  /** Shows on the graph what a merge would do while its button is hovered or focused. */
  onPreview: (kind: MergeKind | null) => void;
  onAction: (intent: OperationIntent) => void;
  onClose: () => void;
}

/**
 * The two ways to merge a picked range, side by side with what each moves where. Merge down writes into the
 * base (so the sibling rule may refuse it); merge up writes only into the top, and is always allowed.
 */
export function RangePanel({ tree, range, busy, onPreview, onAction, onClose }: RangePanelProps) {
  const chain = [range.top, ...range.between, range.base];
  const downMerged = mergedLayers(range, "merge-down");
  const baseIsTemplate = tree.layers.find((l) => l.name === range.base)?.template ?? false;
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      onClose();
    }
  };
  const hover = (kind: MergeKind) => ({
    onMouseEnter: () => onPreview(kind),
    onMouseLeave: () => onPreview(null),
    onFocus: () => onPreview(kind),
    onBlur: () => onPreview(null),
  });

  return (
    <aside
      aria-label={`Merge range ${range.base} to ${range.top}`}
      data-testid="range-panel"
      onKeyDown={onKeyDown}
      className="flex w-[22rem] shrink-0 flex-col border-l border-slate-200 bg-white"
    >
      <div className="flex items-start gap-2 border-b border-slate-200 px-4 py-3">
        <div className="min-w-0 flex-1">
          <div className="text-[11px] font-medium uppercase tracking-wide text-violet-700">Merge range</div>
          <h2 className="text-lg font-semibold text-slate-900">
            {range.base} <span className="text-slate-400">→</span> {range.top}
          </h2>
          <p className="mt-0.5 text-sm text-slate-600">
            {chain.length} layers on one chain; {range.between.length === 0 ? "none" : listNames(range.between)}{" "}
            {range.between.length === 1 ? "lies" : "lie"} between the ends.
          </p>
        </div>
        <button
          type="button"
          onClick={onClose}
          aria-label="Clear the range"
          className="rounded-md p-1 text-slate-500 hover:bg-slate-100 hover:text-slate-800 focus-visible:outline-2 focus-visible:outline-indigo-500"
        >
          <CloseIcon className="size-5" />
        </button>
      </div>

      <div className="flex-1 space-y-3 overflow-y-auto px-4 py-4 text-sm">
        <ol aria-label="Layers in the range, top first" className="space-y-1">
          {chain.map((name) => (
            <li key={name} className="flex items-center gap-2">
              <span className="w-12 text-[11px] font-semibold uppercase tracking-wide text-violet-700">
                {name === range.top ? "Top" : name === range.base ? "Base" : ""}
              </span>
              <span className="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-[12.5px] text-slate-800">{name}</span>
            </li>
          ))}
        </ol>

        {busy ? <p className="rounded-md bg-sky-50 px-3 py-2 text-sky-900 ring-1 ring-sky-200">{busy}</p> : null}

        <MergeChoice
          title={`Merge down into ${range.base}`}
          testId="merge-down-range"
          text={
            <>
              Commits {listNames(downMerged)} into <b>{range.base}</b>, then deletes {downMerged.length === 1 ? "it" : "them"}.
              {baseIsTemplate
                ? ` ${range.base} is a template, so the planner will refuse and offer merge up.`
                : " Refused if another branch also reads these layers (the sibling rule)."}
            </>
          }
          disabled={busy !== null}
          onClick={() => onAction({ request: { operation: "merge-down", top: range.top, base: range.base } })}
          {...hover("merge-down")}
        />
        <MergeChoice
          title={`Merge up into ${range.top}`}
          testId="merge-up-range"
          text={
            range.between.length === 0 ? (
              <>Nothing lies between {range.top} and {range.base}: there is nothing to pull.</>
            ) : (
              <>
                Pulls {listNames(range.between)} into <b>{range.top}</b>, which is then backed by {range.base}. Other branches
                are untouched; layers nothing else needs are deleted.
              </>
            )
          }
          disabled={busy !== null || range.between.length === 0}
          onClick={() => onAction({ request: { operation: "merge-up", top: range.top, base: range.base } })}
          {...hover("merge-up")}
        />
        <p className="text-xs text-slate-500">
          Shift+click another layer to move the range&apos;s other end; Escape clears the range.
        </p>
      </div>
    </aside>
  );
}

interface MergeChoiceProps {
  title: string;
  text: ReactNode;
  testId: string;
  disabled: boolean;
  onClick: () => void;
  onMouseEnter: () => void;
  onMouseLeave: () => void;
  onFocus: () => void;
  onBlur: () => void;
}

function MergeChoice({ title, text, testId, disabled, onClick, ...previewHandlers }: MergeChoiceProps) {
  return (
    <div className="rounded-lg border border-slate-200 px-3 py-2.5" {...previewHandlers}>
      <p className="text-slate-700">{text}</p>
      <Button variant="secondary" className="mt-2 w-full" disabled={disabled} onClick={onClick} data-testid={testId}>
        {title}…
      </Button>
    </div>
  );
}
