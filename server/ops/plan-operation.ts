import "server-only";
import { z } from "zod";
import path from "node:path";
import { measureLayerData, measureReadThrough } from "@/lib/qcow2/measure";
import { planMergeDown } from "@/lib/ops/plan-merge-down";
import { planMergeUp } from "@/lib/ops/plan-merge-up";
import { planDelete } from "@/lib/ops/plan-delete";
import { planFlatten, planProtect, planRevert, planSnapshot } from "@/lib/ops/plan-simple";
import { planMakeActive } from "@/lib/ops/plan-make-active";
import type { DiskState, MeasureLayer, MeasureReadThrough, Plan } from "@/lib/ops/types";
import { CanopyError } from "@/lib/errors";
import { MAX_DESCRIPTION_LENGTH, MAX_NAME_LENGTH } from "@/lib/inventory/names";
import { loadConfig } from "../config";

/** The request, checked; a bad one is refused with what is wrong with it (zod's messages quote no values). */
export function parseOperation(request: unknown): z.output<typeof operationSchema> {
  const parsed = operationSchema.safeParse(request);
  if (parsed.success) return parsed.data;
  const what = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message));
  throw new CanopyError("invalid-input", `invalid operation request: ${what.join("; ")}`);
}

// Capped here so an oversized field is refused before anything quotes it back.
const name = z.string().max(MAX_NAME_LENGTH, `a name is at most ${MAX_NAME_LENGTH} characters`);

/** Every operation's parameters, validated once here for the CLI, the server actions and the worker alike. */
export const operationSchema = z.discriminatedUnion("operation", [
  z.object({ operation: z.literal("snapshot"), name, description: z.string().max(MAX_DESCRIPTION_LENGTH, `a description is at most ${MAX_DESCRIPTION_LENGTH} characters`).optional() }),
  z.object({ operation: z.literal("revert"), snapshot: name, name: name.optional() }),
  z.object({ operation: z.literal("merge-down"), top: name, base: name }),
  z.object({ operation: z.literal("merge-up"), top: name, base: name, keep: z.boolean().default(false) }),
  z.object({ operation: z.literal("delete"), layer: name }),
  z.object({ operation: z.literal("flatten") }),
  z.object({ operation: z.literal("protect"), layer: name }),
  z.object({ operation: z.literal("unprotect"), layer: name }),
  z.object({ operation: z.literal("make-active"), layer: name }),
]);
export type OperationRequest = z.input<typeof operationSchema>;

/**
 * Guest data a layer itself holds, as qemu-img map of that layer alone counts it, read from the layer's qcow2
 * tables (qemu-img where they cannot be read exactly). A running disk's layers are read too: the active layer
 * may change under QEMU, and a measurement for a plan may be a moment old anyway.
 */
export function measureWith(state: DiskState, root = loadConfig().storageRoot): MeasureLayer {
  return measureFiles(state, root, measureLayerData);
}

/**
 * Guest data a layer reads through its backing chain, each layer's tables read once top-down. One qemu-img map
 * of a 1,000-deep chain took 7.7-9.3 s, nearly all of it QEMU opening the chain.
 */
export function readThroughWith(state: DiskState, root = loadConfig().storageRoot): MeasureReadThrough {
  return measureFiles(state, root, measureReadThrough);
}

function measureFiles(state: DiskState, root: string, measure: (file: string) => Promise<number>): (layer: string) => Promise<number> {
  const files = new Map(state.layers.map((l) => [l.name, path.join(root, l.file)]));
  return async (layer) => {
    const file = files.get(layer);
    return file ? measure(file) : 0;
  };
}

export async function planOperation(state: DiskState, request: OperationRequest): Promise<Plan> {
  const r = parseOperation(request);
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
      return planFlatten(state, readThroughWith(state));
    case "protect":
    case "unprotect":
      return planProtect(state, r.layer, r.operation === "protect");
    case "make-active":
      return planMakeActive(state, r.layer);
  }
}
