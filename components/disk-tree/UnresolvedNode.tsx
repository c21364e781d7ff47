"use client";

import { memo } from "react";
import { Handle, Position, type NodeProps } from "@xyflow/react";
import { WarningIcon } from "@/components/ui/icons";
import { NODE_WIDTH, UNRESOLVED_HEIGHT, type UnresolvedFlowNode } from "./tree-layout";
import type { UnresolvedReason } from "./unresolved-backing";

const TITLE: Record<UnresolvedReason, string> = {
  missing: "Backing file missing",
  "outside-root": "Backing file not followed",
  loop: "Backing loop cut here",
  unresolved: "Backing file unresolved",
};

function UnresolvedNodeView({ data }: NodeProps<UnresolvedFlowNode>) {
  return (
    <div
      style={{ width: NODE_WIDTH, height: UNRESOLVED_HEIGHT }}
      title={data.problems.map((p) => p.message).join("\n") || undefined}
      className="flex flex-col justify-center rounded-xl border-2 border-dashed border-red-400 bg-red-50 px-3"
    >
      <div className="flex items-center gap-1.5 text-xs font-semibold text-red-700">
        <WarningIcon className="size-3.5" />
        {TITLE[data.reason]}
      </div>
      <div className="mt-0.5 truncate font-mono text-[11px] text-red-900" title={data.backingFile}>
        {data.backingFile}
      </div>
      <Handle type="source" position={Position.Bottom} isConnectable={false} style={{ opacity: 0 }} />
    </div>
  );
}

export const UnresolvedNode = memo(UnresolvedNodeView);
