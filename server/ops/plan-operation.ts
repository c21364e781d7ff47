import "server-only";
import { z } from "zod";
import path from "node:path";
import * as img from "@/lib/qemu/img";
import { planMergeDown } from "@/lib/ops/plan-merge-down";
import { planMergeUp } from "@/lib/ops/plan-merge-up";
import { planDelete } from "@/lib/ops/plan-delete";
import { planFlatten, planProtect, planRevert, planSnapshot } from "@/lib/ops/plan-simple";
import type { DiskState, MeasureLayer, Plan } from "@/lib/ops/types";
import { loadConfig } from "../config";

/** Every operation's parameters, validated once here for the CLI, the server actions and the worker alike. */
export const operationSchema = z.discriminatedUnion("operation", [
  z.object({ operation: z.literal("snapshot"), name: z.string(), description: z.string().max(2000).optional() }),
  z.object({ operation: z.literal("revert"), snapshot: z.string(), name: z.string().optional() }),
  z.object({ operation: z.literal("merge-down"), top: z.string(), base: z.string() }),
  z.object({ operation: z.literal("merge-up"), top: z.string(), base: z.string(), keep: z.boolean().default(false) }),
  z.object({ operation: z.literal("delete"), layer: z.string() }),
  z.object({ operation: z.literal("flatten") }),
  z.object({ operation: z.literal("protect"), layer: z.string() }),
  z.object({ operation: z.literal("unprotect"), layer: z.string() }),
]);
export type OperationRequest = z.input<typeof operationSchema>;

/**
 * Guest data a layer itself holds, from qemu-img map of that layer alone. Shared locks (-U): a running disk's
 * active layer is held by QEMU, and a measurement for a plan may be a moment old anyway.
 */
export function measureWith(state: DiskState, root = loadConfig().storageRoot): MeasureLayer {
  const files = new Map(state.layers.map((l) => [l.name, path.join(root, l.file)]));
  return async (layer) => {
    const file = files.get(layer);
    return file ? img.layerDataBytes(file, { shareLocks: true }) : 0;
  };
}

export async function planOperation(state: DiskState, request: OperationRequest): Promise<Plan> {
  const r = operationSchema.parse(request);
  const measure = measureWith(state);
  switch (r.operation) {
    case "snapshot":
      return planSnapshot(state, r.name, r.description ?? null);
    case "revert":
      return planRevert(state, r.snapshot, r.name);
    case "merge-down":
      return planMergeDown(state, r.top, r.base, measure);
    case "merge-up":
      return planMergeUp(state, r.top, r.base, r.keep, measure);
    case "delete":
      return planDelete(state, r.layer, measure);
    case "flatten":
      return planFlatten(state, measure);
    case "protect":
    case "unprotect":
      return planProtect(state, r.layer, r.operation === "protect");
  }
}
