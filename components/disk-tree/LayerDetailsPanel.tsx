"use client";

import { useEffect, useRef, type KeyboardEvent, type ReactNode } from "react";
import type { Problem } from "@/lib/inventory/types";
import type { DiskTreeView, LayerView } from "@/lib/inventory/views";
import type { OperationIntent } from "@/components/actions/OperationDialog";
import { formatBytes } from "@/components/format/bytes";
import { formatDateTime } from "@/components/format/time";
import { Badge } from "@/components/ui/Badge";
import { CloseIcon, LockIcon } from "@/components/ui/icons";
import { ProblemBadge } from "@/components/problems/ProblemBadge";
import { BackingFormatValue } from "./BackingFormatValue";
import { LayerActions } from "./LayerActions";
import { RolePill } from "./RolePill";
import type { LayerRole } from "./layer-roles";

interface LayerDetailsPanelProps {
  tree: DiskTreeView;
  layer: LayerView;
  role: LayerRole;
  problems: Problem[];
  /** Why actions are unavailable right now (a job runs on this disk), or null. */
  busy: string | null;
  /** True once when the panel was opened from the keyboard: then it takes focus. */
  takeFocus: (name: string) => boolean;
  /** Moves the selection to a related layer (parent or child). */
  onSelectLayer: (name: string) => void;
  onStartRange: (from: string) => void;
  onAction: (intent: OperationIntent) => void;
  /** Closes the panel; with a name, keyboard focus goes back to that layer's node. */
  onClose: (returnFocusTo: string | null) => void;
}

/** Everything known about one layer, and what can be done with it. */
export function LayerDetailsPanel(props: LayerDetailsPanelProps) {
  const { tree, layer, role, problems, busy, takeFocus, onSelectLayer, onStartRange, onAction, onClose } = props;
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    if (takeFocus(layer.name)) ref.current?.focus();
  }, [takeFocus, layer.name]);
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key !== "Escape") return;
    e.stopPropagation();
    onClose(layer.name);
  };

  return (
    <aside
      ref={ref}
      tabIndex={-1}
      onKeyDown={onKeyDown}
      aria-label={`Layer ${layer.name}`}
      data-testid="layer-details"
      className="flex w-[22rem] shrink-0 flex-col border-l border-slate-200 bg-white outline-none focus-visible:ring-2 focus-visible:ring-inset focus-visible:ring-indigo-500"
    >
      <div className="flex items-start gap-2 border-b border-slate-200 px-4 py-3">
        <div className="min-w-0 flex-1">
          <div className="text-[11px] font-medium uppercase tracking-wide text-slate-500">Layer</div>
          <h2 className="flex items-center gap-2 text-lg font-semibold text-slate-900">
            <span className="truncate" title={layer.name}>
              {layer.name}
            </span>
            <RolePill role={role} />
            {layer.protected ? (
              <Badge tone="amber" title="Canopy will not delete this layer or merge it away">
                <LockIcon className="size-3" /> Protected
              </Badge>
            ) : null}
          </h2>
          {layer.description ? <p className="mt-1 text-sm text-slate-600">{layer.description}</p> : null}
        </div>
        <button
          type="button"
          onClick={() => onClose(null)}
          aria-label="Close details"
          className="rounded-md p-1 text-slate-500 hover:bg-slate-100 hover:text-slate-800 focus-visible:outline-2 focus-visible:outline-indigo-500"
        >
          <CloseIcon className="size-5" />
        </button>
      </div>

      <LayerActions tree={tree} layer={layer} busy={busy} onAction={onAction} onStartRange={onStartRange} />

      <div className="flex-1 space-y-5 overflow-y-auto px-4 py-4 text-sm">
        {problems.length > 0 ? (
          <div className="flex flex-wrap gap-1">
            {problems.map((p, i) => (
              <ProblemBadge key={`${p.code}-${i}`} problem={p} />
            ))}
          </div>
        ) : null}

        <Section title="File">
          <Field label="Path">
            <Mono>{layer.file}</Mono>
          </Field>
          <Field label="Backing file">
            {layer.backingFile ? <Mono>{layer.backingFile}</Mono> : <Muted>none (root layer)</Muted>}
          </Field>
          {layer.backingFile ? (
            <Field label="Backing format">
              <BackingFormatValue format={layer.backingFormat} />
            </Field>
          ) : null}
          <Field label="Modified">{formatDateTime(layer.modifiedAt)}</Field>
          <Field label="Created">{formatDateTime(layer.createdAt)}</Field>
        </Section>

        <Section title="Image">
          <Field label="Format">qcow2 v{layer.version}</Field>
          <Field label="Cluster size">{formatBytes(layer.clusterSize)}</Field>
          <Field label="Virtual size">
            {formatBytes(layer.virtualSize)} <Muted>({layer.virtualSize.toLocaleString("en-US")} B)</Muted>
          </Field>
          <Field label="On disk">
            {formatBytes(layer.fileSize)} <Muted>({layer.fileSize.toLocaleString("en-US")} B)</Muted>
          </Field>
          <Field label="Dirty">{layer.dirty ? <Badge tone="amber">Yes, not closed cleanly</Badge> : "No"}</Field>
          <Field label="Corrupt">{layer.corrupt ? <Badge tone="red">Yes, marked corrupt</Badge> : "No"}</Field>
        </Section>

        <Section title={`Bitmaps (${layer.bitmaps.length})`}>
          {layer.bitmaps.length === 0 ? (
            <Muted>No persistent dirty bitmaps.</Muted>
          ) : (
            <ul className="space-y-1.5">
              {layer.bitmaps.map((b) => (
                <li key={b.name} className="flex flex-wrap items-center gap-1.5">
                  <Mono>{b.name}</Mono>
                  <Badge tone={b.auto ? "green" : "slate"}>{b.auto ? "enabled" : "disabled"}</Badge>
                  {b.inUse ? (
                    <Badge tone="amber" title="Left in use by a QEMU process that did not close it; unusable">
                      in use
                    </Badge>
                  ) : null}
                  <Muted>granularity {formatBytes(b.granularity)}</Muted>
                </li>
              ))}
            </ul>
          )}
        </Section>

        <Section title="Lineage">
          <Field label="Parent">
            {layer.parent ? <LayerLink name={layer.parent} onSelect={onSelectLayer} /> : <Muted>none</Muted>}
          </Field>
          <Field label={`Children (${layer.children.length})`}>
            {layer.children.length === 0 ? (
              <Muted>none, this is a leaf</Muted>
            ) : (
              <span className="flex flex-wrap gap-1">
                {layer.children.map((c) => (
                  <LayerLink key={c} name={c} onSelect={onSelectLayer} />
                ))}
              </span>
            )}
          </Field>
        </Section>
      </div>
    </aside>
  );
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section>
      <h3 className="mb-2 text-xs font-semibold uppercase tracking-wide text-slate-500">{title}</h3>
      <div className="space-y-1.5">{children}</div>
    </section>
  );
}

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <dl className="grid grid-cols-[7.5rem_1fr] gap-2">
      <dt className="text-slate-500">{label}</dt>
      <dd className="min-w-0 break-words text-slate-900">{children}</dd>
    </dl>
  );
}

const Mono = ({ children }: { children: ReactNode }) => (
  <code className="break-all font-mono text-[12.5px] text-slate-800">{children}</code>
);

const Muted = ({ children }: { children: ReactNode }) => <span className="text-slate-500">{children}</span>;

function LayerLink({ name, onSelect }: { name: string; onSelect: (name: string) => void }) {
  return (
    <button
      type="button"
      onClick={() => onSelect(name)}
      className="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-[12.5px] text-sky-800 hover:bg-sky-100 focus-visible:outline-2 focus-visible:outline-indigo-500"
    >
      {name}
    </button>
  );
}
