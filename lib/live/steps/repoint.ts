import { CanopyError } from "../../errors";
import { executeStep } from "../../ops/execute";
import { layerFile } from "../../ops/step-context";
import type { PlanStep } from "../../ops/types";
import { readQcow2Header } from "../../qcow2/header";
import { QmpError } from "../../qmp/errors";
import { callOptions, relativeBacking, type LiveStepContext, type LiveStepResult, type Routing } from "../context";
import { topOfChainHolding } from "./roots";

type Repoint = Extract<PlanStep, { kind: "repoint" }>;

/**
 * repoint on a running disk. After an intermediate commit QEMU has already written the new backing string
 * into the child (block-commit's backing-file), so this only reads the header and is done. Should the string
 * differ, change-backing-file rewrites it, but only when QEMU already reads the layer through that backing
 * node: a header that disagrees with what the VM reads would be a lie the next start believes.
 * A layer nobody has open is repointed offline (qemu-img rebase -u).
 */
export async function repointLive(step: Repoint, ctx: LiveStepContext, r: Routing): Promise<LiveStepResult> {
  const node = r.nodeOf(step.layer);
  if (!node) {
    return { mode: "offline", notes: await executeStep(step, ctx) };
  }
  const file = layerFile(ctx, step.layer);
  const wanted = step.backing ? relativeBacking(file, layerFile(ctx, step.backing)) : null;
  const backingNode = step.backing ? r.nodeOf(step.backing) : undefined;
  if ((node.backing ?? null) !== (backingNode?.name ?? null)) {
    throw new CanopyError(
      "failed",
      `cannot point ${step.layer} at ${step.backing ?? "nothing"} while it runs: QEMU reads it through ${
        node.backing ? r.describe(node.backing) : "no backing"
      }, and rewriting the header alone would make the file disagree with what the VM reads`,
    );
  }
  if ((await readQcow2Header(file)).backingFile === wanted) {
    return { mode: "no-op", notes: [`${step.layer} already names ${wanted ?? "no backing file"} (QEMU wrote it)`] };
  }
  try {
    // Not in lib/qmp's typed command map, hence executeRaw.
    await ctx.qmp.executeRaw(
      "change-backing-file",
      { device: topOfChainHolding(r.view, node.name), "image-node-name": node.name, "backing-file": wanted ?? "" },
      callOptions(ctx),
    );
  } catch (err) {
    if (err instanceof QmpError) throw new CanopyError("failed", `point ${step.layer} at ${step.backing}: ${err.desc}`);
    throw err;
  }
  const written = (await readQcow2Header(file)).backingFile;
  if (written !== wanted) {
    throw new CanopyError("failed", `point ${step.layer} at ${step.backing}: the header still reads ${written ?? "no backing"}`);
  }
  return { mode: "live", notes: [] };
}
