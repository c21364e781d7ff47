import "server-only";
import path from "node:path";
import { scanDisk } from "@/lib/inventory/scan";
import { executeStep, settleStoppedStep } from "@/lib/ops/execute";
import type { StepContext } from "@/lib/ops/step-context";
import { describeStep } from "@/lib/ops/describe-step";
import type { Plan, PlanStep } from "@/lib/ops/types";
import { executeLiveStep, recoverLiveJob, type LiveStepContext, type StepState } from "@/lib/live";
import { jobErrorMessage } from "../error-gate";
import { getDb } from "../db";
import { loadConfig } from "../config";
import { rescanDisk } from "../sync-inventory";
import type { JobContext, JobExecutor } from "../jobs/executor";
import { isTaskRecord } from "../jobs/job-record";
import { connectLive, type LiveConnection } from "./connect-live";
import { stepEffects } from "./step-effects";

/**
 * Bytes per second a live block job may copy (CANOPY_LIVE_JOB_SPEED; unset: unlimited): a cap keeps a big merge
 * from starving the guest's own I/O. It must stay above the guest's write rate, or an active commit never
 * catches up.
 */
const LIVE_JOB_SPEED = Number(process.env.CANOPY_LIVE_JOB_SPEED ?? 0) || undefined;

/**
 * A tree operation's work: its plan's steps in order, from the first one not done. Each step is marked running
 * before it starts and done after it ends, so a worker killed at any point is resumed from exactly the step it
 * was in (steps are safe to repeat; see lib/ops/execute.ts). A cancel stops the running qemu-img at once and no
 * further step starts. A running disk is changed through its QEMU process, a stopped one with qemu-img.
 */
export const treeExecutor: JobExecutor<Plan, null> = {
  progress: "whole-job",
  repeatable: false,
  params(record) {
    if (isTaskRecord(record)) throw new Error(`a ${record.task} job has no plan of steps`);
    return record;
  },
  run: runSteps,
  async settle(plan, ctx, end) {
    // Whatever happened, the database must show the tree as it now is on disk. This job still holds the disk,
    // but its steps are done or settled: its record may choose the active layer again (a set-active it never
    // reached).
    await rescanDisk(loadConfig().storageRoot, ctx.disk, { byJob: ctx.jobId }).catch(() => undefined);
    if (end.outcome === "succeeded") return end;
    const stepsNow = await getDb().jobStep.findMany({ where: { jobId: ctx.jobId }, orderBy: { index: "asc" } });
    const warning = partialCommitWarning(plan, stepsNow.map((s) => s.state));
    return warning ? { ...end, error: end.error ? `${end.error}. ${warning}` : warning } : end;
  },
  auditDetail(plan, end) {
    return { plan, ...(end.notes.length ? { notes: end.notes } : {}) };
  },
};

async function runSteps(plan: Plan, ctx: JobContext): Promise<{ outcome: "succeeded" | "cancelled"; result: null; notes: string[] }> {
  const db = getDb();
  const root = loadConfig().storageRoot;
  const { jobId, disk } = ctx;
  const steps = await db.jobStep.findMany({ where: { jobId }, orderBy: { index: "asc" } });
  const total = plan.bytesToMove;
  let done = steps.filter((s) => s.state === "done").reduce((n, s) => n + stepBytes(parse(s.detail)), 0);
  /** What steps found and repaired on the way (a resumed step's leaks, a header pointed back), for the record. */
  const notes: string[] = [];
  let live: LiveConnection | null = null;
  try {
    live = await connectLive(disk);
    for (const row of steps) {
      if (row.state === "done") continue;
      const step = parse(row.detail);
      // A step already marked running was interrupted by a process that died; live, only QEMU can tell
      // whether its block job still runs, ended, or never started.
      const interrupted = row.state === "running";
      const cancel = ctx.signal.aborted || (await cancelRequested(jobId));
      if (cancel && !interrupted) return { outcome: "cancelled", result: null, notes };
      await db.jobStep.update({ where: { id: row.id }, data: { state: "running", startedAt: new Date() } });
      await ctx.setStage(describeStep(step));
      const files = new Map((await scanDisk(root, disk)).layers.map((l) => [l.name, path.join(root, l.file)]));
      const stepCtx: StepContext = {
        root,
        disk,
        files,
        effects: stepEffects(root, disk),
        signal: ctx.signal,
        resumed: interrupted,
        onProgress: (fraction) => ctx.onProgress(done + fraction * stepBytes(step), total),
      };
      const liveCtx: LiveStepContext | null = live && {
        ...stepCtx,
        qmp: live.qmp,
        target: live.target,
        jobId: blockJobId(jobId, row.index),
        speed: LIVE_JOB_SPEED,
      };
      const states = steps.map((s) => (s.index < row.index ? "done" : s.index === row.index ? "running" : "pending") as StepState);
      if (cancel) {
        // The job's process died inside this step and a cancel came before anyone resumed it: the step is
        // brought to a consistent state instead of being run again (a running block job is cancelled).
        const settled = await settleInterruptedStep(step, stepCtx, liveCtx, plan, states);
        notes.push(...settled.notes);
        await db.jobStep.update({ where: { id: row.id }, data: { state: settled.done ? "done" : "failed", endedAt: new Date() } });
        return { outcome: "cancelled", result: null, notes };
      }
      try {
        if (!liveCtx) await executeStep(step, stepCtx, notes);
        else if (interrupted) notes.push(...((await recoverLiveJob(plan, states, liveCtx)).result?.notes ?? []));
        else notes.push(...(await executeLiveStep(step, liveCtx)).notes);
      } catch (err) {
        await db.jobStep.update({ where: { id: row.id }, data: { state: "failed", endedAt: new Date() } });
        throw err;
      }
      done += stepBytes(step);
      await db.jobStep.update({ where: { id: row.id }, data: { state: "done", endedAt: new Date() } });
      await ctx.setProgress(done, total);
    }
  } finally {
    live?.close();
  }
  return { outcome: "succeeded", result: null, notes };
}

/**
 * Settles the step a dead process was in, for a cancel: offline, its files are put back as a resume would
 * (settleStoppedStep); live, recovery runs with the cancel already given, so a block job still running in QEMU is
 * cancelled, and one that had finished is recorded as done.
 */
async function settleInterruptedStep(
  step: PlanStep,
  ctx: StepContext,
  liveCtx: LiveStepContext | null,
  plan: Plan,
  states: StepState[],
): Promise<{ done: boolean; notes: string[] }> {
  if (!liveCtx) return { done: false, notes: await settleStoppedStep(step, ctx) };
  try {
    const recovered = await recoverLiveJob(plan, states, { ...liveCtx, signal: AbortSignal.abort() });
    return { done: true, notes: recovered.result?.notes ?? [] };
  } catch (err) {
    return { done: false, notes: [`${describeStep(step)} stopped: ${jobErrorMessage(err, `resuming a step of a job on ${plan.disk}`)}`] };
  }
}

async function cancelRequested(jobId: string): Promise<boolean> {
  const j = await getDb().job.findUnique({ where: { id: jobId }, select: { cancelRequested: true } });
  return j?.cancelRequested ?? false;
}

/**
 * A commit that started but whose job did not finish has written part of the merged data into the base, so
 * the base and the merged layers below the top no longer hold their own states (the top and everything above
 * it read as before). Say so, and how to finish.
 */
export function partialCommitWarning(plan: Plan, stepStates: string[]): string | null {
  const i = plan.steps.findIndex((s) => s.kind === "commit");
  const step = plan.steps[i];
  if (!step || step.kind !== "commit" || stepStates[i] === "pending") return null;
  if (stepStates.every((s) => s === "done")) return null;
  const below = plan.deletes.filter((l) => l !== step.top);
  return `the commit of ${step.top} into ${step.base} had started: ${[step.base, ...below].join(", ")} now hold part of the merged data (${step.top} and everything above it read as before); run the same merge again to finish it`;
}

/** The QEMU block job id of a job's step: the same after a restart, so recovery can find the job. */
function blockJobId(jobId: string, index: number): string {
  return `canopy-${jobId.slice(-10)}-${index}`;
}

function parse(detail: string | null): PlanStep {
  return JSON.parse(detail ?? "{}") as PlanStep;
}

function stepBytes(step: PlanStep): number {
  return "bytes" in step ? step.bytes : 0;
}
