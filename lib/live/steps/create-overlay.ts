import { lstat, rm } from "node:fs/promises";
import { CanopyError } from "../../errors";
import { assertStillCreated, createExclusive, removeCreated } from "../../inventory/paths";
import { layerFile } from "../../ops/step-context";
import type { PlanStep } from "../../ops/types";
import * as img from "../../qemu/img";
import { QmpError } from "../../qmp/errors";
import { snapshotBitmapActions } from "../bitmaps";
import { callOptions, relativeBacking, type LiveStepContext, type LiveStepResult, type Routing } from "../context";
import { LiveStepCancelled, refused, throwIfCancelled } from "../errors";
import type { LiveNode } from "../inspect";
import { uniqueNodeName } from "../node-names";
import { releaseNodes } from "../release-nodes";

type CreateOverlay = Extract<PlanStep, { kind: "create-overlay" }>;

/**
 * create-overlay on a running disk. On the active layer it is a live snapshot: the overlay file is made with
 * qemu-img, opened alone (backing: null, or the add fails on the active layer's lock), and put on top with
 * blockdev-snapshot in one transaction with the bitmap hand-over. On any other layer (a revert's new branch)
 * the new file is not opened by anyone, so it is made offline, exactly as the offline executor does.
 *
 * Safe to repeat: an overlay already at the root is done; one left added but not snapshotted is closed and
 * made again.
 */
export async function createOverlayLive(step: CreateOverlay, ctx: LiveStepContext, r: Routing): Promise<LiveStepResult> {
  const file = layerFile(ctx, step.layer);
  const backing = r.nodeOf(step.backing);
  const notes: string[] = [];
  const existing = r.nodeOf(step.layer);
  if (existing) {
    if (existing.name === r.view.active && backing && existing.backing === backing.name) {
      await ctx.effects.setActive(step.layer);
      return { mode: "no-op", activeLayer: step.layer, notes: [`${step.layer} is already the active layer on ${step.backing}`] };
    }
    const left = await releaseNodes(ctx, [existing.name]);
    if (left.length) throw refused(`${step.layer} is already open in the running QEMU and in use: ${left.join("; ")}`);
  }
  if (existing || ctx.resumed) {
    // Made by this step before (QEMU had it open as this layer, or the step was interrupted): made again. Only a
    // regular file is removed; anything else at the name is refused by the exclusive create below.
    if ((await lstat(file).catch(() => null))?.isFile()) await rm(file);
  }
  const backingFile = layerFile(ctx, step.backing);
  const relative = relativeBacking(file, backingFile);
  if (!backing || backing.name !== r.view.active) {
    if (backing && !backing.readOnly) {
      // Written to by QEMU but not the disk's active layer: an overlay made offline would freeze nothing.
      throw refused(`cannot put ${step.layer} on ${step.backing}: QEMU has it open for writing, but it is not the disk's active layer`);
    }
    // A new branch on a read-only snapshot (a revert): the new file is opened by no one yet.
    await createFile(ctx.root, file, relative, backing?.virtualSize, ctx.signal);
    return { mode: "offline", notes };
  }

  throwIfCancelled(ctx.signal, `snapshot ${step.layer}`);
  await createFile(ctx.root, file, relative, backing.virtualSize, ctx.signal);
  const node = uniqueNodeName(step.layer, new Set(r.view.nodeNames));
  const undo = async () => {
    await ctx.qmp.execute("blockdev-del", { "node-name": node }, callOptions(ctx)).catch(() => undefined);
    await rm(file, { force: true });
  };
  try {
    await ctx.qmp.execute(
      "blockdev-add",
      { driver: "qcow2", "node-name": node, file: { driver: "file", filename: file }, backing: null },
      callOptions(ctx),
    );
  } catch (err) {
    await rm(file, { force: true });
    if (err instanceof QmpError) throw new CanopyError("failed", `snapshot ${step.layer}: QEMU could not open the new overlay: ${err.desc}`);
    throw err;
  }
  if (ctx.signal?.aborted) {
    await undo();
    throw new LiveStepCancelled(`snapshot ${step.layer}`, "the new overlay was removed again and nothing else changed");
  }
  await snapshotInTransaction(ctx, step, backing, node, undo);
  // Record at once: from this moment the guest writes into the overlay.
  await ctx.effects.setActive(step.layer);
  return { mode: "live", activeLayer: step.layer, notes };
}

async function snapshotInTransaction(
  ctx: LiveStepContext,
  step: CreateOverlay,
  active: LiveNode,
  overlay: string,
  undo: () => Promise<void>,
): Promise<void> {
  try {
    await ctx.qmp.execute(
      "transaction",
      { actions: [...snapshotBitmapActions(active, overlay), { type: "blockdev-snapshot", data: { node: active.name, overlay } }] },
      callOptions(ctx),
    );
  } catch (err) {
    if (!(err instanceof QmpError)) throw err;
    // A transaction is all or nothing: the old active is untouched and still the root.
    await undo();
    throw new CanopyError("failed", `snapshot ${step.layer}: QEMU refused the snapshot: ${err.desc}. Nothing was changed`);
  }
}

/**
 * `qemu-img create -F qcow2 -b <relative backing>`. qemu-img opens the backing to learn its size, which a
 * running QEMU's lock can forbid; then the size is given and the backing left unopened (-u). qemu-img follows a
 * link at its target, so it writes into a file made first exclusively, without following one, inside the root.
 */
async function createFile(root: string, file: string, backing: string, size: number | undefined, signal: AbortSignal | undefined) {
  const created = await createExclusive(file, { root });
  try {
    try {
      await img.create(file, { backing, signal });
    } catch (err) {
      if (!img.isLockError(err) || size === undefined) throw err;
      await img.create(file, { backing, backingUnopened: true, size, signal });
    }
    await assertStillCreated(created);
  } catch (err) {
    await removeCreated(created);
    throw err;
  }
}
