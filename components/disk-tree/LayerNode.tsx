"use client";

import { memo } from "react";
import { Handle, Position, type NodeProps } from "@xyflow/react";
import { formatBytes } from "@/components/format/bytes";
import { LockIcon, WarningIcon } from "@/components/ui/icons";
import { worstSeverity } from "@/components/problems/problem-meta";
import { RolePill } from "./RolePill";
import type { LayerRole } from "./layer-roles";
import { NODE_HEIGHT, NODE_WIDTH, type LayerFlowNode } from "./tree-layout";

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

// Handles are needed as edge anchors only: nothing is connected by hand, so they stay invisible.
const hiddenHandle = { opacity: 0, pointerEvents: "none" } as const;

function LayerNodeView({ data, selected }: NodeProps<LayerFlowNode>) {
  const { layer, role, problems } = data;
  const severity = worstSeverity(problems);
  const border = severity ? PROBLEM_BORDER[severity] : ROLE_BORDER[role];
  return (
    <div
      style={{ width: NODE_WIDTH, height: NODE_HEIGHT }}
      className={`flex flex-col rounded-xl border-2 px-3 py-1.5 shadow-sm transition-shadow ${ROLE_BOX[role]} ${border} ${
        selected ? "shadow-lg outline-2 outline-offset-2 outline-sky-600" : "hover:shadow-md"
      }`}
    >
      <Handle type="target" position={Position.Top} isConnectable={false} style={hiddenHandle} />
      <div className="flex items-center gap-1.5">
        <span
          title={layer.name}
          className={`min-w-0 truncate text-[15px] font-semibold ${role === "template" ? "text-slate-700" : "text-slate-900"}`}
        >
          {layer.name}
        </span>
        {layer.protected ? (
          <span title="Protected: Canopy will not delete or merge this layer" className="text-slate-500">
            <LockIcon className="size-3.5" />
            <span className="sr-only">protected</span>
          </span>
        ) : null}
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
      <dl className="mt-1 grid grid-cols-2 gap-x-3">
        <div>
          <dt className="text-[10px] font-medium uppercase leading-3 tracking-wide text-slate-500">On disk</dt>
          <dd className="text-sm font-medium tabular-nums text-slate-800">{formatBytes(layer.fileSize)}</dd>
        </div>
        <div>
          <dt className="text-[10px] font-medium uppercase leading-3 tracking-wide text-slate-500">Virtual</dt>
          <dd className="text-sm font-medium tabular-nums text-slate-800">{formatBytes(layer.virtualSize)}</dd>
        </div>
      </dl>
      <div className="mt-auto truncate text-[11px] leading-4 text-slate-500" title={layer.file}>
        {role === "template" ? "Read-only base · shared" : layer.file}
      </div>
      <Handle type="source" position={Position.Bottom} isConnectable={false} style={hiddenHandle} />
    </div>
  );
}

export const LayerNode = memo(LayerNodeView);
