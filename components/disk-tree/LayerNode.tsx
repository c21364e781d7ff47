"use client";

import { memo } from "react";
import { Handle, Position, useStore, type NodeProps } from "@xyflow/react";
import { formatBytes } from "@/components/format/bytes";
import { formatDateTime } from "@/components/format/time";
import { LockIcon, WarningIcon } from "@/components/ui/icons";
import { worstSeverity } from "@/components/problems/problem-meta";
import { RolePill } from "./RolePill";
import { RangeTag } from "./RangeTag";
import type { LayerRole } from "./layer-roles";
import { NODE_HEIGHT, NODE_WIDTH, type LayerFlowNode, type RangeMark } from "./tree-layout";

/** Background, ring and border style per role; the border colour is chosen separately so problems win. */
const ROLE_BOX: Record<LayerRole, string> = {
  active: "bg-white ring-4 ring-emerald-500/25",
  template: "border-dashed bg-slate-100",
  tip: "bg-white",
  inner: "bg-white",
};

const ROLE_BORDER: Record<LayerRole, string> = {
  active: "border-emerald-500",
  template: "border-slate-400",
  tip: "border-sky-300",
  inner: "border-slate-300",
};

const PROBLEM_BORDER = { error: "border-red-500", warning: "border-amber-500" } as const;

/** Fill of the far-away boxes, so the roles still read at a glance (as on the minimap). */
const FAR_FILL: Record<LayerRole, string> = {
  active: "bg-emerald-500",
  template: "border-dashed bg-slate-300",
  tip: "bg-sky-200",
  inner: "bg-slate-100",
};

/** A layer inside the merge range being picked: a violet halo, stronger on its two ends. */
const RANGE_HALO: Record<RangeMark, string> = {
  anchor: "outline-2 outline-offset-4 outline-dashed outline-violet-500",
  top: "outline-[3px] outline-offset-4 outline-violet-600",
  base: "outline-[3px] outline-offset-4 outline-violet-600",
  between: "outline-2 outline-offset-4 outline-violet-400",
};

// Handles are needed as edge anchors only: nothing is connected by hand, so they stay invisible.
const hiddenHandle = { opacity: 0, pointerEvents: "none" } as const;

/**
 * Below this zoom a node's text is a few pixels high: unreadable, yet the most expensive thing to paint when a
 * whole 500-layer tree is in view. Nodes then draw as plain boxes in their role's colours (level of detail).
 */
const DETAIL_ZOOM = 0.3;
const zoomedOut = (s: { transform: [number, number, number] }) => s.transform[2] < DETAIL_ZOOM;

function LayerNodeView({ data, selected }: NodeProps<LayerFlowNode>) {
  const { layer, role, problems, range, effect } = data;
  const severity = worstSeverity(problems);
  const border = severity ? PROBLEM_BORDER[severity] : ROLE_BORDER[role];
  // The selection outline and the range halo use the same outline property: the range wins while picking.
  const halo = range ? RANGE_HALO[range] : selected ? "outline-2 outline-offset-2 outline-sky-600" : "";
  // A boolean selector: the node re-renders when the zoom crosses the threshold, not on every pan or zoom step.
  const farAway = useStore(zoomedOut);
  if (farAway) {
    return (
      <div
        style={{ width: NODE_WIDTH, height: NODE_HEIGHT }}
        className={`rounded-xl border-[6px] ${FAR_FILL[role]} ${border} ${halo}`}
      >
        <Handle type="target" position={Position.Top} isConnectable={false} style={hiddenHandle} />
        <Handle type="source" position={Position.Bottom} isConnectable={false} style={hiddenHandle} />
      </div>
    );
  }
  return (
    <div
      style={{ width: NODE_WIDTH, height: NODE_HEIGHT }}
      className={`relative flex flex-col rounded-xl border-2 px-3 py-1.5 shadow-sm transition-shadow ${ROLE_BOX[role]} ${border} ${halo} ${
        selected ? "shadow-lg" : "hover:shadow-md"
      } ${effect === "merged" ? "opacity-60" : ""}`}
    >
      <Handle type="target" position={Position.Top} isConnectable={false} style={hiddenHandle} />
      {range ? <RangeTag mark={range} effect={effect} /> : null}
      <div className="flex items-center gap-1.5">
        <span
          title={layer.name}
          className={`min-w-0 truncate text-[15px] font-semibold ${role === "template" ? "text-slate-700" : "text-slate-900"}`}
        >
          {layer.name}
        </span>
        {severity ? (
          <span
            title={problems.map((p) => p.message).join("\n")}
            className={`inline-flex items-center gap-0.5 text-xs font-semibold ${
              severity === "error" ? "text-red-600" : "text-amber-600"
            }`}
          >
            <WarningIcon className="size-3.5" />
            {problems.length > 1 ? problems.length : null}
            <span className="sr-only">{problems.length} problems</span>
          </span>
        ) : null}
        <span className="ml-auto" />
        <RolePill role={role} />
      </div>
      <dl className="mt-1 grid grid-cols-[auto_1fr] gap-x-3">
        <div>
          <dt className="text-[10px] font-medium uppercase leading-3 tracking-wide text-slate-500">On disk</dt>
          <dd
            className="text-sm font-medium tabular-nums text-slate-800"
            title="Space this layer's own file takes; what it reads through its backing chain is not counted"
          >
            {formatBytes(layer.fileSize)}
          </dd>
        </div>
        <div className="min-w-0">
          <dt className="text-[10px] font-medium uppercase leading-3 tracking-wide text-slate-500">Created</dt>
          <dd className="truncate text-[13px] leading-5 tabular-nums tracking-tight text-slate-800">
            {/* Local time of whoever renders: the server's text may differ from the browser's by design. */}
            <time dateTime={layer.createdAt} suppressHydrationWarning title={formatDateTime(layer.createdAt)}>
              {formatDateTime(layer.createdAt).slice(0, 16)}
            </time>
          </dd>
        </div>
      </dl>
      <div className="mt-auto flex items-center gap-1.5 text-[11px] leading-4 text-slate-500">
        {layer.protected ? <ProtectedMark /> : null}
        <span className="min-w-0 truncate" title={layer.file}>
          {role === "template" ? "Read-only base · shared" : layer.file}
        </span>
      </div>
      <Handle type="source" position={Position.Bottom} isConnectable={false} style={hiddenHandle} />
    </div>
  );
}

/**
 * Canopy's protection flag, in words as well as the lock: a bare lock also reads as "read-only" (templates)
 * or "locked by a running job", and it means neither.
 */
function ProtectedMark() {
  return (
    <span
      title="Protected: Canopy will not delete this layer or merge it away"
      className="inline-flex shrink-0 items-center gap-0.5 rounded bg-amber-100 px-1 font-semibold text-amber-800 ring-1 ring-inset ring-amber-300"
    >
      <LockIcon className="size-3" />
      Protected
    </span>
  );
}

export const LayerNode = memo(LayerNodeView);
