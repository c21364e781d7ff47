import { executeStep } from "../ops/execute";
import { describeStep } from "../ops/describe-step";
import type { PlanStep } from "../ops/types";
import { QmpClient } from "../qmp/client";
import { QmpClosedError } from "../qmp/errors";
import { readRouting, type LiveStepContext, type LiveStepResult } from "./context";
import { LiveConnectionLost, refused } from "./errors";
import { commitLive } from "./steps/commit";
import { createOverlayLive } from "./steps/create-overlay";
import { deleteFileLive } from "./steps/delete-file";
import { pullLive } from "./steps/pull";
import { repointLive } from "./steps/repoint";

/**
 * Runs one plan step on a running disk: the live twin of lib/ops/execute.ts, for the same plan steps. Layers
 * are matched to QEMU's nodes by file (inspect.ts); a step that touches no open layer is handed to the
 * offline executor, so a caller can send every step of a plan for a running disk here.
 *
 * Like the offline steps, each is safe to run again after a crash: a snapshot already on top, a commit
 * already merged, a pull already done are recognised and reported as "no-op" (recover.ts decides the cases
 * where a job may still be running).
 *
 * Errors: CanopyError "refused" (sibling rule, a layer in use; nothing was changed), CanopyError "failed"
 * (QEMU refused or the job failed, with QEMU's words), LiveStepCancelled (the signal fired; the job was
 * cancelled, an active commit not pivoted), LiveConnectionLost (the QEMU process went away mid-step).
 */
export async function executeLiveStep(step: PlanStep, ctx: LiveStepContext): Promise<LiveStepResult> {
  try {
    switch (step.kind) {
      case "create-overlay":
        return await createOverlayLive(step, ctx, await readRouting(ctx));
      case "commit":
        return await commitLive(step, ctx, await readRouting(ctx));
      case "repoint":
        return await repointLive(step, ctx, await readRouting(ctx));
      case "pull":
        return await pullLive(step, ctx, await readRouting(ctx));
      case "delete-file":
        return await deleteFileLive(step, ctx, await readRouting(ctx));
      case "switch-active":
        // QEMU keeps writing to the layer it has open whatever Canopy records: the record would be a lie.
        throw refused(
          `disk ${ctx.disk} is running: its QEMU process writes to the layer it has open, so ${step.layer} cannot become the active layer until the disk is stopped ("canopy stop ${ctx.disk}"); nothing was changed`,
        );
      case "set-active":
      case "set-protected":
      case "set-description":
        return { mode: "offline", notes: await executeStep(step, ctx) };
    }
  } catch (err) {
    throw await explainLostConnection(err, step, ctx);
  }
}

const PROBE_TIMEOUT_MS = 2_000;

/** A dropped QMP connection becomes LiveConnectionLost, saying whether the QEMU process itself is gone. */
export async function explainLostConnection(err: unknown, step: PlanStep, ctx: LiveStepContext): Promise<unknown> {
  if (!(err instanceof QmpClosedError)) return err;
  const gone = !(await answers(ctx.qmp.socketPath));
  const what = describeStep(step);
  return new LiveConnectionLost(
    gone
      ? `${what}: the QEMU process holding disk ${ctx.disk} went away (it exited or was killed; its QMP socket ${ctx.qmp.socketPath} no longer answers). ` +
          `The files stay consistent: an interrupted commit may have left part of the data in the base, the layer it came from still holds all of it`
      : `${what}: the QMP connection to disk ${ctx.disk} was lost, but QEMU still answers; a block job may still be running (recoverLiveStep follows it)`,
    gone,
  );
}

/** True when something still serves QMP on the socket (a fresh connection gets a greeting). */
async function answers(socketPath: string): Promise<boolean> {
  try {
    const probe = await QmpClient.connect(socketPath, { timeoutMs: PROBE_TIMEOUT_MS });
    probe.close();
    return true;
  } catch {
    return false;
  }
}
