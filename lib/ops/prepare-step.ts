import { lstat, unlink } from "node:fs/promises";
import path from "node:path";
import { CanopyError } from "../errors";
import { assertNameFree } from "../inventory/paths";
import * as img from "../qemu/img";
import { readQcow2Header } from "../qcow2/header";
import type { PlanStep } from "./types";
import { backingName, layerFile, type StepContext } from "./step-context";

/**
 * Before a step runs, the executor reads the files it will change and compares them with what the plan saw. A
 * step that was `resumed` (a process died inside it) may have left them anywhere between before and after, so
 * it first puts them back into a state it can start from. What a SIGKILL can leave, step by step:
 * - create-overlay: a half-written file (qemu-img create was killed), or the finished empty overlay;
 * - commit: part of the merged data in the base (which only the merged branch reads: the sibling rule), and
 *   clusters allocated in the base that nothing references (leaks);
 * - pull: part of the data in the layer, leaks, and possibly the new backing name in its header. Pulls run
 *   writethrough so the header changes last, but a resume does not count on it: the layer is pointed back at
 *   `from`, which still exists (deletes come later in the plan). Every cluster a pull copies was read through
 *   `from`, so the layer reads exactly as before the pull whatever part of the copy reached the file, and the
 *   pull is run again from the start;
 * - repoint: the old or the new backing name (one write of the header).
 * A delete is repeated as it is (a missing file is done). Anything else (the tree changed behind Canopy's back)
 * stops the job with what was found, before a byte is written.
 */

export interface Preparation {
  /** False when the files already show the step's effect (a repoint that landed, an overlay made in full). */
  run: boolean;
  /** What was found and repaired, for the job's record. */
  notes: string[];
}

export async function prepareStep(step: PlanStep, ctx: StepContext): Promise<Preparation> {
  try {
    return await checkAndRepair(step, ctx);
  } catch (err) {
    // A layer the step reads through is gone: say which, in the words of the other refusals.
    const e = err as NodeJS.ErrnoException;
    if (e.code === "ENOENT" && e.path) throw changed(ctx, `${path.relative(ctx.root, e.path)} is missing`);
    throw err;
  }
}

async function checkAndRepair(step: PlanStep, ctx: StepContext): Promise<Preparation> {
  const file = (name: string) => layerFile(ctx, name);
  const notes: string[] = [];
  switch (step.kind) {
    case "create-overlay":
      return prepareOverlay(step.layer, file(step.backing), ctx);
    case "commit": {
      await requireChain(ctx, step.top, step.base);
      if (ctx.resumed) notes.push(...(await repairLeaks(file(step.base), step.base, ctx)));
      return { run: true, notes };
    }
    case "repoint": {
      const now = await backingOf(file(step.layer));
      if (step.backing !== null && now === file(step.backing)) {
        return { run: false, notes: [`${step.layer} already reads from ${step.backing}`] };
      }
      if (now !== file(step.from)) throw changed(ctx, `${step.layer} is backed by ${describe(ctx, now)}, not ${step.from}`);
      return { run: true, notes };
    }
    case "pull": {
      const top = file(step.layer);
      const now = await backingOf(top);
      // Plans stored before `from` existed: only a fresh step can be checked against the chain.
      const from = step.from ? file(step.from) : undefined;
      if (from === undefined ? !ctx.resumed : now === from) {
        await requireChain(ctx, step.layer, step.backing);
        if (ctx.resumed) notes.push(...(await repairLeaks(top, step.layer, ctx)));
        return { run: true, notes };
      }
      const target = step.backing ? file(step.backing) : null;
      if (ctx.resumed && from && now === target && (await isFile(from))) {
        await img.rebase(top, backingName(ctx, step.layer, step.from), { pull: false, signal: ctx.signal });
        notes.push(
          `${step.layer} was pointed back at ${step.from}, its backing before the pull (the stopped pull had already written its new backing name)`,
        );
        notes.push(...(await repairLeaks(top, step.layer, ctx)));
        return { run: true, notes };
      }
      throw changed(ctx, `${step.layer} is backed by ${describe(ctx, now)}, not ${step.from ?? "what the plan saw"}`);
    }
    case "switch-active":
      await requireBranchTip(ctx, step.layer);
      return { run: true, notes };
    default:
      return { run: true, notes };
  }
}

/** The layer a make-active switches to must still be a file that no layer of the disk is backed by. */
async function requireBranchTip(ctx: StepContext, layer: string): Promise<void> {
  const target = layerFile(ctx, layer);
  await readQcow2Header(target); // a missing file is named by prepareStep
  for (const [name, f] of ctx.files) {
    const backing = await backingOf(f).catch(() => null);
    if (name !== layer && backing === target) throw changed(ctx, `${name} is now backed by ${layer}, so ${layer} is no longer a branch tip`);
  }
}

/** Frees leaked clusters in the image a commit or pull writes (its base, or its layer); nothing for other steps. */
export async function repairLeaksOf(step: PlanStep, ctx: StepContext, when?: string): Promise<string[]> {
  const target = step.kind === "commit" ? step.base : step.kind === "pull" ? step.layer : null;
  return target ? repairLeaks(layerFile(ctx, target), target, ctx, when) : [];
}

/**
 * Frees the clusters a killed writer left allocated but unreferenced. Refuses to go on over corruption, which a
 * kill alone does not cause: an admin must look at that image first.
 */
export async function repairLeaks(file: string, layer: string, ctx: Pick<StepContext, "signal">, when = "left by the interrupted step"): Promise<string[]> {
  const res = await img.check(file, { repair: "leaks", signal: ctx.signal });
  if (res.corruptions > 0) {
    throw new CanopyError(
      "failed",
      `${layer} has ${res.corruptions} corrupt ${res.corruptions === 1 ? "entry" : "entries"} after an interrupted step; nothing more was changed. Inspect it with qemu-img check before going on`,
    );
  }
  return res.leaksFixed > 0 ? [`freed ${res.leaksFixed} leaked clusters in ${layer} ${when}`] : [];
}

async function prepareOverlay(layer: string, backing: string, ctx: StepContext): Promise<Preparation> {
  const target = layerFile(ctx, layer);
  const st = await lstat(target).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return null;
    throw e;
  });
  if (!st) return { run: true, notes: [] };
  if (st.isSymbolicLink()) await assertNameFree(target); // refused, naming where the link points
  if (!ctx.resumed || !st.isFile()) throw changed(ctx, `${path.basename(target)} already exists`);
  const header = await readQcow2Header(target).catch(() => null);
  if (!header) {
    // Only this step could have made it: the plan checked that the name was free.
    await unlink(target);
    return { run: true, notes: [`removed the half-written ${layer} left by the interrupted step`] };
  }
  const own = await img.layerDataBytes(target, { signal: ctx.signal });
  if (resolveBacking(target, header.backingFile) === backing && own === 0) {
    return { run: false, notes: [`${layer} had been created in full before the interruption`] };
  }
  throw changed(ctx, `${layer} exists and is not the empty overlay this step makes`);
}

/** `top`'s backing chain, as the headers on disk say, must still lead down to `base` (null: to its end). */
async function requireChain(ctx: StepContext, top: string, base: string | null): Promise<void> {
  const chain = await chainDown(layerFile(ctx, top), base === null ? null : layerFile(ctx, base));
  if (!chain.reachedBase) throw changed(ctx, `${top}'s backing chain no longer leads down to ${base}`);
}

/** The files from `top` down its backing chain until `base`, as the headers on disk say right now. */
export async function chainDown(top: string, base: string | null): Promise<{ files: string[]; reachedBase: boolean }> {
  const files: string[] = [];
  for (let cur: string | null = top; cur && !files.includes(cur); ) {
    if (cur === base) return { files, reachedBase: true };
    files.push(cur);
    cur = await backingOf(cur);
  }
  return { files, reachedBase: base === null };
}

async function backingOf(file: string): Promise<string | null> {
  return resolveBacking(file, (await readQcow2Header(file)).backingFile);
}

function resolveBacking(file: string, backing: string | null): string | null {
  return backing ? path.resolve(path.dirname(file), backing) : null;
}

async function isFile(file: string): Promise<boolean> {
  return (await lstat(file).catch(() => null))?.isFile() ?? false;
}

function describe(ctx: StepContext, file: string | null): string {
  if (file === null) return "nothing";
  for (const [name, f] of ctx.files) if (f === file) return name;
  return path.relative(ctx.root, file);
}

function changed(ctx: StepContext, what: string): CanopyError {
  return new CanopyError(
    "failed",
    `the files of ${ctx.disk} are not as the plan expects: ${what}. Nothing was changed by this step; rescan and plan the operation again`,
  );
}
