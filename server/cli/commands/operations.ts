import { describeStep } from "@/lib/ops/describe-step";
import type { Plan } from "@/lib/ops/types";
import { defineCommand, type CommandContext } from "./define-command";
import { runOperation, type OperationResult } from "../../ops/run-operation";
import type { OperationRequest } from "../../ops/plan-operation";
import { formatBytes } from "./format";
import { cliActor } from "./actor";

/** The snapshot-tree operations. Each plans first; --dry-run prints the plan and changes nothing. */

const dryRun = { type: "boolean" as const, description: "print the plan and change nothing" };
const background = { type: "boolean" as const, description: "queue the job for the worker and return at once" };

function operation(
  name: string,
  usage: string,
  summary: string,
  positionals: [number, number],
  options: Record<string, { type: "string" | "boolean"; description: string }>,
  toRequest: (ctx: CommandContext) => OperationRequest,
) {
  return defineCommand<OperationResult>({
    name,
    usage,
    summary,
    positionals,
    options: { ...options, background },
    run: (ctx) =>
      runOperation(ctx.positionals[0]!, toRequest(ctx), {
        dryRun: ctx.options["dry-run"] === true,
        background: ctx.options.background === true,
        requestedBy: cliActor(),
      }),
    human: (r) =>
      r.dryRun
        ? `${formatPlan(r.plan)}${r.busy ? `\nBUSY: ${r.busy.message} (this plan is of the tree as it is now)` : ""}`
        : `${r.plan.summary}: ${r.job?.state === "queued" ? "queued" : "done"} (job ${r.job?.id})`,
  });
}

const str = (ctx: CommandContext, key: string) => {
  const v = ctx.options[key];
  return typeof v === "string" ? v : "";
};

export const snapshot = operation(
  "snapshot",
  "<disk> --name <name> [--description <text>] [--json]",
  "Freeze the active layer and write to a new layer on top",
  [1, 1],
  { name: { type: "string", description: "the new layer" }, description: { type: "string", description: "free text" }, "dry-run": dryRun },
  (ctx) => ({ operation: "snapshot", name: str(ctx, "name"), description: str(ctx, "description") || undefined }),
);

export const revert = operation(
  "revert",
  "<disk> <snapshot> [--name <new-layer>] [--dry-run] [--json]",
  "Put a new active layer on a snapshot (a new branch)",
  [2, 2],
  { name: { type: "string", description: "name of the new active layer" }, "dry-run": dryRun },
  (ctx) => ({ operation: "revert", snapshot: ctx.positionals[1]!, name: str(ctx, "name") || undefined }),
);

export const mergeDown = operation(
  "merge-down",
  "<disk> --top <layer> --base <layer> [--dry-run] [--json]",
  "Commit top..base into base (refused if another branch depends on them)",
  [1, 1],
  { top: { type: "string", description: "highest layer merged" }, base: { type: "string", description: "layer that receives the data" }, "dry-run": dryRun },
  (ctx) => ({ operation: "merge-down", top: str(ctx, "top"), base: str(ctx, "base") }),
);

export const mergeUp = operation(
  "merge-up",
  "<disk> --top <layer> --base <layer> [--keep] [--dry-run] [--json]",
  "Pull the layers between base and top into top",
  [1, 1],
  {
    top: { type: "string", description: "layer that receives the data" },
    base: { type: "string", description: "new backing of top" },
    keep: { type: "boolean", description: "keep the pulled layers" },
    "dry-run": dryRun,
  },
  (ctx) => ({ operation: "merge-up", top: str(ctx, "top"), base: str(ctx, "base"), keep: ctx.options.keep === true }),
);

export const remove = operation(
  "delete",
  "<disk> <layer> [--dry-run] [--json]",
  "Delete a layer (a middle layer is merged away, never dropped)",
  [2, 2],
  { "dry-run": dryRun },
  (ctx) => ({ operation: "delete", layer: ctx.positionals[1]! }),
);

export const flatten = operation(
  "flatten",
  "<disk> [--dry-run] [--json]",
  "Copy the whole chain into the active layer, making it standalone",
  [1, 1],
  { "dry-run": dryRun },
  () => ({ operation: "flatten" }),
);

export const protect = operation("protect", "<disk> <layer> [--json]", "Forbid deleting or merging away a layer", [2, 2], {}, (ctx) => ({
  operation: "protect",
  layer: ctx.positionals[1]!,
}));

export const unprotect = operation("unprotect", "<disk> <layer> [--json]", "Lift protection", [2, 2], {}, (ctx) => ({
  operation: "unprotect",
  layer: ctx.positionals[1]!,
}));

export const makeActive = operation(
  "make-active",
  "<disk> <layer> [--dry-run] [--json]",
  "Send the VM's writes to another branch tip (the disk stopped); the old active layer keeps its data",
  [2, 2],
  { "dry-run": dryRun },
  (ctx) => ({ operation: "make-active", layer: ctx.positionals[1]! }),
);

export function formatPlan(plan: Plan): string {
  const lines = [`plan: ${plan.summary}`];
  if (plan.refused) {
    lines.push(`REFUSED: ${plan.refused.reason}`);
    if (plan.refused.alternative) lines.push(`safe alternative: ${plan.refused.alternative.summary}`);
    return lines.join("\n");
  }
  plan.steps.forEach((s, i) => lines.push(`  ${i + 1}. ${describeStep(s)}`));
  if (plan.changes.length) lines.push(`changes: ${plan.changes.join(", ")}`);
  if (plan.deletes.length) lines.push(`deletes: ${plan.deletes.join(", ")}`);
  if (plan.creates.length) lines.push(`creates: ${plan.creates.join(", ")}`);
  lines.push(`data to move: ${formatBytes(plan.bytesToMove)}`);
  if (plan.activeAfter !== plan.activeBefore) lines.push(`active layer: ${plan.activeBefore} -> ${plan.activeAfter}`);
  for (const n of plan.notes) lines.push(`note: ${n}`);
  return lines.join("\n");
}
