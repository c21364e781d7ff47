import { describeStep } from "../ops/describe-step";
import type { Plan, PlanStep } from "../ops/types";
import { callOptions, readRouting, type LiveStepContext, type LiveStepResult, type Routing } from "./context";
import { executeLiveStep, explainLostConnection } from "./execute-live";
import { nothingBacksOn } from "./file-users";
import { attachStepJob } from "./follow-job";
import { activeChain, chainOf, jobNamed, usersOf, type LiveNode } from "./inspect";
import { liveJobId } from "./job-id";
import { releaseNodes } from "./release-nodes";
import { foldIntoBase } from "./steps/commit";

/**
 * Picking up a live job after the worker that ran it died. The plan's steps before the interrupted one are
 * done; for the interrupted one, QEMU is asked what happened (query-jobs, the node graph) and one of three
 * things follows:
 * - attach: its block job still runs (or waits at READY): follow it to the end, as the dead worker would
 *   have (an active commit at READY is completed: the pivot was the step's purpose);
 * - done: the job is gone, or concluded, and the step's effect is visible (top's child now reads from the
 *   base, the base is the active node after a pivot, the overlay is on top, the pulled layer reads from its
 *   new backing): nothing to run again;
 * - rerun: the effect is not visible: run the step again (every step is safe to repeat).
 * Either way, a concluded job is dismissed and nodes left open by the interrupted step (layers the plan
 * deletes that nothing uses any more) are closed first.
 */

type Repoint = Extract<PlanStep, { kind: "repoint" }>;

export type StepState = "pending" | "running" | "done" | "failed";

export type LiveRecoveryDecision =
  | { action: "attach"; jobId: string; reason: string }
  | { action: "done"; reason: string; activeLayer?: string }
  | { action: "rerun"; reason: string };

export interface LiveRecovery {
  /** Index in plan.steps of the step that was interrupted (-1: every step was done). */
  stepIndex: number;
  decision: LiveRecoveryDecision | null;
  /** The step's result once recovered: mark it done and carry on with the next steps (executeLiveStep). */
  result: LiveStepResult | null;
}

/** The first step not done: the one a dead worker was in (or was about to start). */
export function interruptedStep(plan: Plan, states: readonly StepState[]): number {
  return plan.steps.findIndex((_, i) => states[i] !== "done");
}

/** Only decides (reads QEMU and the files, changes nothing). */
export async function decideLiveRecovery(
  plan: Plan,
  step: PlanStep,
  ctx: LiveStepContext,
  r?: Routing,
): Promise<LiveRecoveryDecision> {
  const routing = r ?? (await readRouting(ctx));
  const jobId = ctx.jobId ?? liveJobId(step);
  const job = jobNamed(routing.view, jobId);
  if (job && job.status !== "concluded" && job.status !== "null") {
    return { action: "attach", jobId, reason: `block job ${jobId} is still ${job.status}` };
  }
  const ended = job ? `block job ${jobId} concluded${job.error ? ` (${job.error})` : ""}` : `no block job ${jobId}`;
  const effect = await effectVisible(step, plan, ctx, routing);
  return effect.visible
    ? { action: "done", reason: `${ended}; ${effect.why}`, ...(effect.activeLayer ? { activeLayer: effect.activeLayer } : {}) }
    : { action: "rerun", reason: `${ended}; ${effect.why}` };
}

/** Decides for the interrupted step and carries the decision out. */
export async function recoverLiveJob(plan: Plan, states: readonly StepState[], ctx: LiveStepContext): Promise<LiveRecovery> {
  const stepIndex = interruptedStep(plan, states);
  const step = plan.steps[stepIndex];
  if (!step) return { stepIndex: -1, decision: null, result: null };
  try {
    const routing = await readRouting(ctx);
    const decision = await decideLiveRecovery(plan, step, ctx, routing);
    const jobId = ctx.jobId ?? liveJobId(step);
    if (decision.action === "attach") {
      return { stepIndex, decision, result: await followAgain(step, plan, ctx, routing, jobId) };
    }
    if (jobNamed(routing.view, jobId)?.status === "concluded") {
      await ctx.qmp.execute("job-dismiss", { id: jobId }, callOptions(ctx)).catch(() => undefined);
    }
    const notes = await releaseNodes(ctx, await leftoverNodes(plan, ctx));
    if (decision.action === "done") {
      if (decision.activeLayer) await ctx.effects.setActive(decision.activeLayer);
      return { stepIndex, decision, result: { mode: "no-op", notes, ...(decision.activeLayer ? { activeLayer: decision.activeLayer } : {}) } };
    }
    const result = await executeLiveStep(step, ctx);
    return { stepIndex, decision, result: { ...result, notes: [...notes, ...result.notes] } };
  } catch (err) {
    throw await explainLostConnection(err, step, ctx);
  }
}

/** The block job still runs: follow it to its end, then finish the step as executeLiveStep would have. */
async function followAgain(step: PlanStep, plan: Plan, ctx: LiveStepContext, r: Routing, jobId: string): Promise<LiveStepResult> {
  const notes: string[] = [];
  const isActiveCommit = step.kind === "commit" && r.nodeOf(step.top)?.name === r.view.active;
  const leaving = leavingNodes(r, step);
  const base = step.kind === "commit" ? r.nodeOf(step.base) : undefined;
  if (jobNamed(r.view, jobId)?.status === "paused") {
    // Paused by someone (or by an I/O error with on-error=stop): nobody would ever resume it otherwise.
    await ctx.qmp.executeRaw("job-resume", { id: jobId }, callOptions(ctx));
  }
  if (ctx.speed !== undefined) {
    // The job keeps the speed it was started with; this run may want another (0: unlimited).
    await ctx.qmp.executeRaw("block-job-set-speed", { device: jobId, speed: ctx.speed }, callOptions(ctx));
  }
  await attachStepJob(ctx, jobId, {
    what: `${describeStep(step)} (picked up after a restart)`,
    stateIfStopped: "the job stopped before its end; every layer above the one it wrote into reads as before",
    beforePivot: isActiveCommit && base ? async () => void notes.push(...(await foldIntoBase(ctx, leaving, base.name))) : undefined,
  });
  let activeLayer: string | undefined;
  if (isActiveCommit && step.kind === "commit") {
    activeLayer = step.base;
    await ctx.effects.setActive(step.base);
  }
  notes.push(...(await releaseNodes(ctx, [...leaving.map((n) => n.name), ...(await leftoverNodes(plan, ctx))])));
  return { mode: "live", notes, ...(activeLayer ? { activeLayer } : {}) };
}

/**
 * The nodes a commit or pull job drops from the chain, read before following it: a commit's top and the
 * nodes below it down to the base, a pull's nodes between the layer and its new backing.
 */
function leavingNodes(r: Routing, step: PlanStep): LiveNode[] {
  const [upper, lower, upperLeaves] =
    step.kind === "commit" ? [step.top, step.base, true] : step.kind === "pull" ? [step.layer, step.backing, false] : [];
  const upperNode = upper ? r.nodeOf(upper) : undefined;
  if (!upperNode) return [];
  const chain = chainOf(r.view, upperNode.name);
  const lowerNode = lower ? r.nodeOf(lower) : undefined;
  const end = lowerNode ? chain.findIndex((n) => n.name === lowerNode.name) : chain.length;
  return end < 0 ? [] : chain.slice(upperLeaves ? 0 : 1, end);
}

/** Open nodes of layers the plan deletes that nothing uses any more: what an interrupted step left behind. */
async function leftoverNodes(plan: Plan, ctx: LiveStepContext): Promise<string[]> {
  const r = await readRouting(ctx);
  return plan.deletes.flatMap((layer) => {
    const node = r.nodeOf(layer);
    return node && usersOf(r.view, node.name).length === 0 ? [node.name] : [];
  });
}

interface Effect {
  visible: boolean;
  why: string;
  activeLayer?: string;
}

async function effectVisible(step: PlanStep, plan: Plan, ctx: LiveStepContext, r: Routing): Promise<Effect> {
  const inActiveChain = (n: LiveNode | undefined) => n !== undefined && activeChain(r.view).some((c) => c.name === n.name);
  switch (step.kind) {
    case "create-overlay": {
      const overlay = r.nodeOf(step.layer);
      const backing = r.nodeOf(step.backing);
      return overlay && overlay.name === r.view.active && backing && overlay.backing === backing.name
        ? { visible: true, why: `${step.layer} is the active node on ${step.backing}`, activeLayer: step.layer }
        : { visible: false, why: `${step.layer} is not on top of the running disk` };
    }
    case "commit": {
      // A finished commit looks, in the files, like a branch tip nobody opened; what tells them apart is the
      // chain QEMU runs: the base became the active node (pivot), or top's child now reads from the base.
      const top = r.nodeOf(step.top);
      const base = r.nodeOf(step.base);
      if (!base || !inActiveChain(base)) return { visible: false, why: `${step.base} is not in the running chain` };
      if (inActiveChain(top)) return { visible: false, why: `${step.top} is still in the running chain` };
      if (!(await nothingBacksOn(ctx, step.top))) return { visible: false, why: `a layer file still names ${step.top} as its backing` };
      if (base.name === r.view.active) {
        return { visible: true, why: `${step.base} is the active node (the pivot happened)`, activeLayer: step.base };
      }
      const repoint = plan.steps.find((s): s is Repoint => s.kind === "repoint" && s.backing === step.base);
      const childNode = repoint ? r.nodeOf(repoint.layer) : undefined;
      return childNode?.backing === base.name && inActiveChain(childNode)
        ? { visible: true, why: `${step.top} has left the chain: ${repoint!.layer} reads ${step.base} directly` }
        : { visible: false, why: `the running chain does not show ${step.top} merged into ${step.base}` };
    }
    case "pull": {
      const layer = r.nodeOf(step.layer);
      if (!layer) return { visible: false, why: `${step.layer} is not open: the offline pull is run again` };
      const wanted = step.backing ? (r.nodeOf(step.backing)?.name ?? "(not open)") : null;
      return layer.backing === wanted
        ? { visible: true, why: `${step.layer} reads directly from ${step.backing ?? "nothing"}` }
        : { visible: false, why: `${step.layer} still reads through ${layer.backing ? r.describe(layer.backing) : "nothing"}` };
    }
    default:
      return { visible: false, why: `${step.kind} is repeated (it is safe to run again)` };
  }
}
