import { unlink } from "node:fs/promises";
import path from "node:path";
import { CanopyError } from "../errors";
import { scanStorageRoot } from "../inventory/scan";
import { ProcessError } from "../proc/run";
import * as img from "../qemu/img";
import type { PlanStep } from "./types";
import { readQcow2Header } from "../qcow2/header";
import { handOverBitmapsOffline } from "../backup/hand-over-bitmaps";
import { mergeBitmapsBeforeCommit, mergeBitmapsBeforePull } from "../backup/merge-bitmaps";

/**
 * Runs one plan step against the files. Every step is safe to run again after a crash: re-creating an overlay
 * overwrites the half-made one, a commit or pull copies the same data again, a repoint rewrites the same
 * header, a delete of a missing file is done. Between steps the tree is always consistent, which is what lets
 * a restarted worker simply roll forward.
 */

export interface StepEffects {
  /** Canopy's own records (the database), injected so lib/ stays free of it. */
  setActive(layer: string): Promise<void>;
  setProtected(layer: string, value: boolean): Promise<void>;
  setDescription(layer: string, description: string | null): Promise<void>;
}

export interface StepContext {
  root: string;
  disk: string;
  /** Absolute file of every existing layer, by name; new layers go into the disk's folder. */
  files: ReadonlyMap<string, string>;
  effects: StepEffects;
  signal?: AbortSignal;
  /** Fraction 0..1 of this step's data copied. */
  onProgress?: (fraction: number) => void;
}

const LOCK_RETRY_MS = 60_000;

export function layerFile(ctx: Pick<StepContext, "root" | "disk" | "files">, layer: string): string {
  return ctx.files.get(layer) ?? path.join(ctx.root, ctx.disk, `${layer}.qcow2`);
}

/** Backing names are stored relative to the overlay's folder, so a root can be moved or copied whole. */
function backingName(ctx: StepContext, layer: string, backing: string): string {
  return path.relative(path.dirname(layerFile(ctx, layer)), layerFile(ctx, backing));
}

export async function executeStep(step: PlanStep, ctx: StepContext): Promise<void> {
  const file = (name: string) => layerFile(ctx, name);
  const data = { signal: ctx.signal, onProgress: ctx.onProgress };
  switch (step.kind) {
    case "create-overlay":
      await retryWhileLocked(() =>
        img.create(file(step.layer), { backing: backingName(ctx, step.layer, step.backing), backingFormat: "qcow2" }),
      );
      if (step.handOverBitmaps) await handOverBitmapsOffline(file(step.backing), file(step.layer), { signal: ctx.signal });
      return;
    case "commit": {
      // The merged layers' dirty bitmaps go into the base first, or the next incremental backup would miss
      // the writes they tracked.
      const merged = await chainBetween(file(step.top), file(step.base));
      const baseBecomesActive = !(await isBackingOfAny(ctx, file(step.top)));
      await mergeBitmapsBeforeCommit({ base: file(step.base), merged: [...merged].reverse(), baseBecomesActive, signal: ctx.signal });
      return retryWhileLocked(() => img.commit(file(step.top), file(step.base), data));
    }
    case "repoint":
      return retryWhileLocked(() =>
        img.rebase(file(step.layer), step.backing ? backingName(ctx, step.layer, step.backing) : null, { pull: false }),
      );
    case "pull": {
      const top = file(step.layer);
      const pulled = (await chainBetween(top, step.backing ? file(step.backing) : null)).slice(1);
      await mergeBitmapsBeforePull({ top, pulled: [...pulled].reverse(), signal: ctx.signal });
      return retryWhileLocked(() =>
        img.rebase(file(step.layer), step.backing ? backingName(ctx, step.layer, step.backing) : null, {
          pull: true,
          ...data,
        }),
      );
    }
    case "delete-file":
      await assertNothingDependsOn(ctx.root, file(step.layer));
      await unlink(file(step.layer)).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== "ENOENT") throw e;
      });
      return;
    case "set-active":
      return ctx.effects.setActive(step.layer);
    case "set-protected":
      return ctx.effects.setProtected(step.layer, step.value);
    case "set-description":
      return ctx.effects.setDescription(step.layer, step.description);
  }
}

/**
 * The files from `top` down its backing chain, stopping before `base` (or at the chain's end), top first:
 * read from the headers, as the chain is on disk right now.
 */
async function chainBetween(top: string, base: string | null): Promise<string[]> {
  const out: string[] = [];
  for (let cur: string | null = top; cur && cur !== base && !out.includes(cur); ) {
    out.push(cur);
    const h = await readQcow2Header(cur);
    cur = h.backingFile ? path.resolve(path.dirname(cur), h.backingFile) : null;
  }
  return out;
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
      const locked = err instanceof ProcessError && /Failed to get .*lock/.test(err.stderr);
      if (!locked || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
