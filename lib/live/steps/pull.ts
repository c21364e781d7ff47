import { CanopyError } from "../../errors";
import { executeStep } from "../../ops/execute";
import { layerFile } from "../../ops/step-context";
import type { PlanStep } from "../../ops/types";
import { applyBitmapActions, foldBitmapActions } from "../bitmaps";
import { callOptions, relativeBacking, type LiveStepContext, type LiveStepResult, type Routing } from "../context";
import { throwIfCancelled } from "../errors";
import { clearLeftoverJob, runStepJob } from "../follow-job";
import { chainOf } from "../inspect";
import { liveJobId } from "../job-id";
import { releaseNodes } from "../release-nodes";

type Pull = Extract<PlanStep, { kind: "pull" }>;

/**
 * pull on a running disk: block-stream copies into the layer what it reads from the layers between it and
 * the new backing (everything, for a flatten), then QEMU points it at the new backing and writes the backing
 * string (backing-file, relative). No other layer's data changes, so it is always allowed. The layers it no
 * longer reads through are closed if nothing else uses them (the delete-file steps then remove their files).
 * A layer nobody has open is pulled offline (qemu-img rebase).
 */
export async function pullLive(step: Pull, ctx: LiveStepContext, r: Routing): Promise<LiveStepResult> {
  const node = r.nodeOf(step.layer);
  if (!node) {
    return { mode: "offline", notes: await executeStep(step, ctx) };
  }
  const base = step.backing ? r.nodeOf(step.backing) : undefined;
  const chain = chainOf(r.view, node.name);
  const iBase = base ? chain.findIndex((n) => n.name === base.name) : chain.length;
  if (step.backing && (!base || iBase < 0)) {
    throw new CanopyError(
      "failed",
      `cannot pull into ${step.layer} down to ${step.backing} while it runs: ${step.backing} is not in the chain QEMU reads it through`,
    );
  }
  // Nothing between the layer and its new backing (for a flatten: no backing at all): done before.
  if (iBase === 1 || chain.length === 1) {
    return { mode: "no-op", notes: [`${step.layer} already reads directly from ${step.backing ?? "nothing"}`] };
  }
  const leaving = chain.slice(1, iBase);
  throwIfCancelled(ctx.signal, `pull into ${step.layer}`);
  const jobId = ctx.jobId ?? liveJobId(step);
  await clearLeftoverJob(ctx, r.view, jobId);
  const active = r.active();
  const notes: string[] = [];
  if (active && chainOf(r.view, active.name).some((n) => n.name === node.name)) {
    const { actions } = foldBitmapActions(leaving, active, { takeOver: false });
    notes.push(...(await applyBitmapActions(ctx.qmp, actions, callOptions(ctx))));
  }
  await runStepJob(
    ctx,
    {
      command: "block-stream",
      args: {
        "job-id": jobId,
        device: node.name,
        ...(base ? { "base-node": base.name, "backing-file": relativeBacking(layerFile(ctx, step.layer), base.file) } : {}),
        ...(ctx.speed ? { speed: ctx.speed } : {}),
      },
    },
    {
      what: step.backing ? `pull into ${step.layer} down to ${step.backing}` : `flatten into ${step.layer}`,
      stateIfStopped: `${step.layer} holds part of the data it read through its backing layers; every layer reads as before`,
    },
  );
  notes.push(...(await releaseNodes(ctx, leaving.map((n) => n.name))));
  return { mode: "live", notes };
}
