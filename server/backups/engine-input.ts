import "server-only";
import path from "node:path";
import type { BackupLayer, InspectInput } from "@/lib/backup";
import type { QmpClient } from "@/lib/qmp";
import { CanopyError } from "@/lib/errors";
import { getDb } from "../db";
import { loadConfig } from "../config";
import { isTaskRecord, parseJobRecord } from "../jobs/job-record";
import { loadDiskState } from "../ops/disk-state";
import { repoRoot } from "./mirror";
import { effectivePolicy } from "./policy";

/** The backup engine's inputs for a disk: every layer (absolute files), the active layer, policy and merge history. */
export async function engineInput(disk: string) {
  const root = loadConfig().storageRoot;
  const state = await loadDiskState(disk, root);
  if (!state.active) throw new CanopyError("refused", `disk ${disk} has no active layer recorded; run "canopy scan"`);
  const layers: BackupLayer[] = state.layers.map((l) => ({ name: l.name, file: path.join(root, l.file), parent: l.parent }));
  const policy = await effectivePolicy(disk);
  return { root, state, layers, active: state.active, policy, mergedInto: await mergedIntoFromHistory(disk) };
}

type EngineInput = Awaited<ReturnType<typeof engineInput>>;

/** What the engine inspects to choose the backup's kind: the same for a backup and for its preview. */
export function inspectInput(disk: string, input: EngineInput, qmp: QmpClient | undefined, requestedFull: boolean): InspectInput {
  return {
    diskName: disk,
    layers: input.layers,
    active: input.active,
    repoRoot: repoRoot(),
    qmp,
    policy: { maxIncrementals: input.policy.maxIncrementals },
    requestedFull,
    mergedInto: input.mergedInto,
  };
}

/**
 * Layers removed by merges, mapped to the layer that received their data, from the plans of the disk's
 * succeeded jobs (oldest first, so a later merge of the receiver is followed too by the engine).
 */
export async function mergedIntoFromHistory(disk: string): Promise<Record<string, string>> {
  const rows = await getDb().job.findMany({
    where: { state: "succeeded", kind: { in: ["merge-down", "merge-up", "delete", "flatten"] }, disk: { name: disk } },
    orderBy: { endedAt: "asc" },
    select: { plan: true },
  });
  const out: Record<string, string> = {};
  for (const row of rows) {
    const plan = parseJobRecord(row.plan);
    if (!plan || isTaskRecord(plan)) continue;
    const commit = plan.steps.find((s) => s.kind === "commit");
    const pull = plan.steps.find((s) => s.kind === "pull");
    for (const gone of plan.deletes) {
      if (commit && commit.kind === "commit") out[gone] = commit.base;
      else if (pull && pull.kind === "pull") out[gone] = plan.activeAfter && plan.steps.some((s) => s.kind === "pull" && s.layer === plan.activeAfter) ? plan.activeAfter : pull.layer;
    }
  }
  return out;
}
