import { executeStep } from "../../ops/execute";
import type { PlanStep } from "../../ops/types";
import { applyBitmapActions, foldBitmapActions } from "../bitmaps";
import { callOptions, relativeBacking, type LiveStepContext, type LiveStepResult, type Routing } from "../context";
import { refused, throwIfCancelled } from "../errors";
import { clearLeftoverJob, runStepJob } from "../follow-job";
import { activeChain, inspectLive, nodeNamed, type LiveNode } from "../inspect";
import { liveJobId } from "../job-id";
import { releaseNodes } from "../release-nodes";
import { assertSiblingRuleOnline } from "../sibling-rule";

type Commit = Extract<PlanStep, { kind: "commit" }>;

/**
 * commit on a running disk: block-commit of top..base into base.
 * - Intermediate (top is below the active layer): the job runs under the live chain and, given backing-file,
 *   QEMU itself rewrites the backing string of top's child; the repoint step that follows then only checks.
 * - Active (top is the active layer): the job mirrors top into base until READY, then job-complete pivots:
 *   base becomes the active node, and the guest writes there from then on.
 * Then the merged nodes are closed (blockdev-del, top first, after the job has fully ended).
 *
 * When neither top nor base is open, nothing of this commit is live: it runs offline with qemu-img. When only
 * the base is open, the top is on a branch the running disk does not read, and committing would change what
 * it does read: refused. (That is also how a commit already finished looks; only recover.ts, which knows the
 * step was started, may conclude that.)
 */
export async function commitLive(step: Commit, ctx: LiveStepContext, r: Routing): Promise<LiveStepResult> {
  const top = r.nodeOf(step.top);
  const base = r.nodeOf(step.base);
  if (!top && !base) {
    return { mode: "offline", notes: await executeStep(step, ctx) };
  }
  const chain = activeChain(r.view);
  const iTop = top ? chain.findIndex((n) => n.name === top.name) : -1;
  const iBase = base ? chain.findIndex((n) => n.name === base.name) : -1;
  if (!top || !base || iTop < 0 || iBase <= iTop) {
    const why = !top
      ? `${step.top} is not open`
      : !base
        ? `${step.base} is not open`
        : iTop < 0
          ? `${step.top} is not in the running chain`
          : `${step.base} is not below ${step.top} in the running chain`;
    throw refused(
      `cannot merge ${step.top} into ${step.base} while the disk runs: ${why}, and the running disk reads ${
        top ? step.top : step.base
      }; committing outside its chain would change data it reads (sibling rule). Nothing was changed`,
    );
  }
  const merged = chain.slice(iTop, iBase); // top first, base excluded
  const topChild = iTop > 0 ? chain[iTop - 1] : undefined;
  await assertSiblingRuleOnline(ctx, r, merged, base, topChild);
  throwIfCancelled(ctx.signal, `commit of ${step.top} into ${step.base}`);
  const jobId = ctx.jobId ?? liveJobId(step);
  await clearLeftoverJob(ctx, r.view, jobId);
  return topChild
    ? intermediateCommit(step, ctx, r, { merged, base, topChild, jobId })
    : activeCommit(step, ctx, r, { merged, base, jobId });
}

interface CommitNodes {
  merged: LiveNode[];
  base: LiveNode;
  jobId: string;
}

async function intermediateCommit(
  step: Commit,
  ctx: LiveStepContext,
  r: Routing,
  { merged, base, topChild, jobId }: CommitNodes & { topChild: LiveNode },
): Promise<LiveStepResult> {
  const active = r.active()!;
  const notes = await foldIntoActive(ctx, merged, active);
  const what = `commit of ${step.top} into ${step.base}`;
  await runStepJob(
    ctx,
    {
      command: "block-commit",
      args: {
        "job-id": jobId,
        device: active.name,
        "top-node": merged[0]!.name,
        "base-node": base.name,
        // Relative, as seen from the child's folder: QEMU writes it into the child's header as given.
        "backing-file": relativeBacking(topChild.file, base.file),
        ...(ctx.speed ? { speed: ctx.speed } : {}),
      },
    },
    {
      what,
      stateIfStopped: `${[step.base, ...merged.slice(1).map((n) => r.describe(n.name))].join(", ")} may hold part of the merged data; ${step.top} and every layer above it read as before`,
    },
  );
  notes.push(...(await releaseNodes(ctx, merged.map((n) => n.name))));
  return { mode: "live", notes };
}

async function activeCommit(step: Commit, ctx: LiveStepContext, r: Routing, { merged, base, jobId }: CommitNodes): Promise<LiveStepResult> {
  const notes: string[] = [];
  const what = `active commit of ${step.top} into ${step.base}`;
  await runStepJob(
    ctx,
    {
      command: "block-commit",
      args: { "job-id": jobId, device: merged[0]!.name, "base-node": base.name, ...(ctx.speed ? { speed: ctx.speed } : {}) },
    },
    {
      what,
      stateIfStopped: `no pivot happened: ${step.top} is still the active layer and reads as before; ${step.base} may hold part of its data`,
      // At READY the base is open read-write (the job reopened it): the only safe moment to give it the bitmaps.
      beforePivot: async () => void notes.push(...(await foldIntoBase(ctx, merged, base.name))),
    },
  );
  // Record at once: from the pivot on, the guest writes into the base.
  await ctx.effects.setActive(step.base);
  notes.push(...(await releaseNodes(ctx, merged.map((n) => n.name))));
  return { mode: "live", activeLayer: step.base, notes };
}

/** Intermediate commit: the merged layers' bitmap history goes to the active layer's bitmaps (always writable). */
async function foldIntoActive(ctx: LiveStepContext, merged: LiveNode[], active: LiveNode): Promise<string[]> {
  const { actions, skipped } = foldBitmapActions(merged, active, { takeOver: false });
  const notes = skipped.map((n) => `bitmap ${n} of the merged layers not carried over: the active layer has no bitmap ${n}`);
  return notes.concat(await applyBitmapActions(ctx.qmp, actions, callOptions(ctx)));
}

/** Active commit at READY: the base takes over every bitmap of the leaving layers, recording ones enabled. */
export async function foldIntoBase(ctx: LiveStepContext, merged: LiveNode[], base: string): Promise<string[]> {
  const view = await inspectLive(ctx.qmp, ctx.target, callOptions(ctx));
  const fresh = merged.map((n) => nodeNamed(view, n.name) ?? n);
  const into = nodeNamed(view, base);
  if (!into) return [];
  const { actions } = foldBitmapActions(fresh, into, { takeOver: true });
  return applyBitmapActions(ctx.qmp, actions, callOptions(ctx));
}
