import { unlink } from "node:fs/promises";
import path from "node:path";
import { CanopyError } from "../errors";
import { scanStorageRoot } from "../inventory/scan";
import { assertStillCreated, createExclusive, removeCreated } from "../inventory/paths";
import * as img from "../qemu/img";
import type { PlanStep } from "./types";
import { readQcow2Header } from "../qcow2/header";
import { handOverBitmapsOffline } from "../backup/hand-over-bitmaps";
import { mergeBitmapsBeforeCommit, mergeBitmapsBeforePull } from "../backup/merge-bitmaps";
import { backingName, layerFile, type StepContext } from "./step-context";
import { chainDown, prepareStep, repairLeaksOf } from "./prepare-step";

/**
 * Runs one plan step against the files. Every step survives a SIGKILL at any instant: before it runs, its files
 * are compared with what the plan expects, and a resumed step first repairs what the kill left
 * (prepare-step.ts); then it runs whole again. A pull orders its data before its header (writethrough), a commit
 * only adds data to a base no other branch reads, a repoint is one header write, a delete of a missing file is
 * done. Between steps the tree is always consistent, which is what lets a restarted worker roll forward.
 * Returns what was found and repaired, for the job's record.
 */

const LOCK_RETRY_MS = 60_000;

export async function executeStep(step: PlanStep, ctx: StepContext, notes: string[] = []): Promise<string[]> {
  const prepared = await prepareStep(step, ctx);
  notes.push(...prepared.notes);
  try {
    await runPrepared(step, prepared.run, ctx);
    // Repeating a commit into a base repaired after a kill can itself leave a leaked cluster behind (seen:
    // 1 after freeing 1,300-1,500 in a commit killed midway), so a resumed step's image is checked once more.
    if (ctx.resumed && prepared.run) notes.push(...(await repairLeaksOf(step, ctx, "after the step ran again")));
  } catch (err) {
    // Stopped inside (cancelled, or failed): settled as a kill would be. Only a step that passed its checks gets
    // here; one they refused was not started and its files are not touched.
    notes.push(...(await settleStoppedStep(step, ctx).catch(() => [])));
    throw err;
  }
  return notes;
}

/** The step itself, once prepareStep has said whether its main action still has to `run`. */
async function runPrepared(step: PlanStep, run: boolean, ctx: StepContext): Promise<void> {
  const file = (name: string) => layerFile(ctx, name);
  const data = { signal: ctx.signal, onProgress: ctx.onProgress };
  switch (step.kind) {
    case "create-overlay":
      if (run) {
        // qemu-img create follows a link at its target: it writes into this file, made without following one.
        const created = await createExclusive(file(step.layer), { root: ctx.root });
        try {
          await retryWhileLocked(() =>
            img.create(file(step.layer), { backing: backingName(ctx, step.layer, step.backing), backingFormat: "qcow2" }),
          );
          await assertStillCreated(created);
        } catch (err) {
          await removeCreated(created);
          throw err;
        }
      }
      if (step.handOverBitmaps) await handOverBitmapsOffline(file(step.backing), file(step.layer), { signal: ctx.signal });
      return;
    case "commit": {
      // The merged layers' dirty bitmaps go into the base first, or the next incremental backup would miss
      // the writes they tracked.
      const merged = (await chainDown(file(step.top), file(step.base))).files;
      const baseBecomesActive = !(await isBackingOfAny(ctx, file(step.top)));
      await mergeBitmapsBeforeCommit({ base: file(step.base), merged: [...merged].reverse(), baseBecomesActive, signal: ctx.signal });
      await retryWhileLocked(() => img.commit(file(step.top), file(step.base), data));
      return;
    }
    case "repoint":
      if (run) {
        await retryWhileLocked(() =>
          img.rebase(file(step.layer), step.backing ? backingName(ctx, step.layer, step.backing) : null, { pull: false }),
        );
      }
      return;
    case "pull": {
      const top = file(step.layer);
      const pulled = (await chainDown(top, step.backing ? file(step.backing) : null)).files.slice(1);
      await mergeBitmapsBeforePull({ top, pulled: [...pulled].reverse(), signal: ctx.signal });
      await retryWhileLocked(() =>
        img.rebase(top, step.backing ? backingName(ctx, step.layer, step.backing) : null, { pull: true, ...data }),
      );
      return;
    }
    case "delete-file":
      await assertNothingDependsOn(ctx.root, file(step.layer));
      await unlink(file(step.layer)).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== "ENOENT") throw e;
      });
      return;
    case "set-active":
      await ctx.effects.setActive(step.layer);
      return;
    case "switch-active":
      await ctx.effects.setActive(step.layer, { from: step.from });
      return;
    case "set-protected":
      await ctx.effects.setProtected(step.layer, step.value);
      return;
    case "set-description":
      await ctx.effects.setDescription(step.layer, step.description);
      return;
  }
}

/**
 * A step stopped inside (a cancelled or failed qemu-img, or a dead process's step that is cancelled rather than
 * resumed) is left as a resume would find it, without running it again: leaks freed, a pull's layer reading
 * through `from` again, a half-made overlay removed. The tree is then the one before the step, which is what the
 * job's record says (the step did not finish). A commit's base keeps the part of the data it received.
 */
export async function settleStoppedStep(step: PlanStep, ctx: StepContext): Promise<string[]> {
  const { run, notes } = await prepareStep(step, { ...ctx, resumed: true, signal: undefined });
  if (step.kind === "create-overlay" && !run) {
    // Made in full, but the layer never became active: an empty leaf nobody asked for.
    await unlink(layerFile(ctx, step.layer));
    notes.push(`removed ${step.layer}, made before the stop but never used`);
  }
  return notes;
}

/** Whether any layer of the disk is backed by `target` (if none, `target` is a leaf). */
async function isBackingOfAny(ctx: StepContext, target: string): Promise<boolean> {
  for (const f of ctx.files.values()) {
    const h = await readQcow2Header(f).catch(() => null);
    if (h?.backingFile && path.resolve(path.dirname(f), h.backingFile) === target) return true;
  }
  return false;
}

/**
 * The last guard before a file goes: no image anywhere under the root may still name it as its backing file.
 * The plan already ensures this; checking the headers again costs milliseconds and makes a dangling chain
 * impossible even if the tree changed behind Canopy's back.
 */
async function assertNothingDependsOn(root: string, target: string): Promise<void> {
  const scan = await scanStorageRoot(root);
  const rel = path.relative(root, target).split(path.sep).join("/");
  for (const disk of scan.disks) {
    const byName = new Map(disk.layers.map((l) => [l.name, l]));
    const users = disk.layers.filter((l) => l.parent && byName.get(l.parent)?.file === rel);
    if (users.length) {
      throw new CanopyError(
        "refused",
        `not deleting ${rel}: ${users.map((u) => `${disk.name}/${u.name}`).join(", ")} still ${
          users.length > 1 ? "use" : "uses"
        } it as backing file`,
      );
    }
  }
}

/**
 * A qemu-img left running by a killed worker still holds its image lock; when the worker restarts and re-runs
 * the step, wait for that process to finish instead of failing the job.
 */
async function retryWhileLocked(action: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + LOCK_RETRY_MS;
  for (;;) {
    try {
      return await action();
    } catch (err) {
      if (!img.isLockError(err) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
