"use client";

import type { ReactNode } from "react";
import type { Problem } from "@/lib/inventory/types";
import type { LayerView } from "@/lib/inventory/views";
import { formatBytes } from "@/components/format/bytes";
import { formatDateTime } from "@/components/format/time";
import { Badge } from "@/components/ui/Badge";
import { CloseIcon, LockIcon } from "@/components/ui/icons";
import { ProblemBadge } from "@/components/problems/ProblemBadge";
import { RolePill } from "./RolePill";
import type { LayerRole } from "./layer-roles";

interface LayerDetailsPanelProps {
  layer: LayerView;
  role: LayerRole;
  problems: Problem[];
  /** Moves the selection to a related layer (parent or child). */
  onSelectLayer: (name: string) => void;
  onClose: () => void;
}

/** Everything known about one layer. Read-only for now; layer actions will go in its header. */
export function LayerDetailsPanel({ layer, role, problems, onSelectLayer, onClose }: LayerDetailsPanelProps) {
  return (
    <aside
      aria-label={`Layer ${layer.name}`}
      data-testid="layer-details"
      className="flex w-[22rem] shrink-0 flex-col border-l border-slate-200 bg-white"
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
              <Badge tone="slate" title="Canopy will not delete or merge this layer">
                <LockIcon className="size-3" /> Protected
              </Badge>
            ) : null}
          </h2>
          {layer.description ? <p className="mt-1 text-sm text-slate-600">{layer.description}</p> : null}
        </div>
        <button
          type="button"
          onClick={onClose}
          aria-label="Close details"
          className="rounded-md p-1 text-slate-500 hover:bg-slate-100 hover:text-slate-800 focus-visible:outline-2 focus-visible:outline-indigo-500"
        >
          <CloseIcon className="size-5" />
        </button>
      </div>

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
            <Field label="Backing format">{layer.backingFormat ?? <Muted>not recorded</Muted>}</Field>
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
