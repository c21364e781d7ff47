import { link, mkdir, rename, rm, unlink } from "node:fs/promises";
import path from "node:path";
import { CanopyError } from "../errors";
import * as img from "../qemu/img";
import { fsyncDir, fsyncFile } from "./durable";
import { hashFile } from "./hash-file";
import { partialFileName } from "./names";
import { assertRealFolderInside, createExclusive } from "../inventory/paths";
import type { RestorePlan } from "./plan-restore";

/**
 * Carries out a RestorePlan: qemu-img convert of the backup into a partial file (it reads through the backup
 * chain) while the chain's checksums are checked (a flipped byte in a backup would otherwise be restored
 * faithfully, and compare could not tell), fsync, qemu-img compare against the chain, and only then the file goes into
 * place: a rename over the active layer (atomic: the layer is the old content or the new, never a mix), or a
 * link to the new name (which fails rather than overwrite a file that appeared since the plan).
 */

export interface RestoreOptions {
  signal?: AbortSignal;
  /** Bytes done and to do within the current step. */
  onProgress?: (done: number, total: number) => void;
  onStep?: (step: "convert" | "compare" | "swap") => void;
  /** Check the chain's sha256 first. Default true. */
  verifyChecksums?: boolean;
  /** In place: keep the replaced file as `.<layer>.qcow2.replaced-<time>` (not a layer: a dot file). */
  keepReplaced?: boolean;
}

export interface RestoreResult {
  output: string;
  backupId: string;
  checksumsVerified: boolean;
  /** In place with keepReplaced: where the old content is. */
  replacedKeptAs: string | null;
  timings: { checksums: number; convert: number; compare: number };
}

export async function restore(plan: RestorePlan, opts: RestoreOptions = {}): Promise<RestoreResult> {
  const timings = { checksums: 0, convert: 0, compare: 0 };
  const verifyChecksums = opts.verifyChecksums ?? true;
  if (plan.replaces) await assertNotInUse(plan.replaces);

  await mkdir(path.dirname(plan.output), { recursive: true });
  const folderRoot = rootOfTarget(plan.target);
  if (folderRoot) await assertRealFolderInside(folderRoot, path.dirname(plan.output));
  const partial = path.join(path.dirname(plan.output), partialFileName(path.basename(plan.output)));
  await rm(partial, { force: true });
  // qemu-img convert follows a link at its output: it writes into this empty file, made without following one.
  await createExclusive(partial);
  // The checksums are read alongside the convert (another core, the same files in the page cache); a mismatch
  // stops the convert, and nothing is put in place unless both succeed.
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  const checksums = verifyChecksums ? timed(() => checkChainChecksums(plan, signal)) : Promise.resolve(0);
  checksums.catch(() => stop.abort());
  try {
    let t = performance.now();
    opts.onStep?.("convert");
    const total = plan.backup.virtualSize;
    try {
      await img.convert(plan.source, partial, {
        signal,
        onProgress: (f) => opts.onProgress?.(Math.round(f * total), total),
      });
      await fsyncFile(partial);
    } finally {
      timings.checksums = await checksums; // a checksum failure wins over the convert it cancelled
    }
    timings.convert = performance.now() - t;

    t = performance.now();
    opts.onStep?.("compare");
    if (!(await img.compare(plan.source, partial, { signal: opts.signal }))) {
      throw new CanopyError("failed", `the restored file differs from backup ${plan.backup.id}: restore abandoned`);
    }
    timings.compare = performance.now() - t;

    opts.onStep?.("swap");
    let replacedKeptAs: string | null = null;
    if (plan.replaces) {
      // Again right before the swap: the VM may have been started since the restore began.
      await assertNotInUse(plan.replaces);
      if (opts.keepReplaced) {
        const stamp = new Date().toISOString().replace(/[-:.]/g, "");
        replacedKeptAs = path.join(path.dirname(plan.output), `.${path.basename(plan.output)}.replaced-${stamp}`);
        await link(plan.output, replacedKeptAs);
      }
      await rename(partial, plan.output);
    } else {
      await link(partial, plan.output).catch((err: NodeJS.ErrnoException) => {
        throw err.code === "EEXIST" ? new CanopyError("refused", `${plan.output} appeared meanwhile; nothing was overwritten`) : err;
      });
      await unlink(partial);
    }
    await fsyncDir(path.dirname(plan.output));
    return { output: plan.output, backupId: plan.backup.id, checksumsVerified: verifyChecksums, replacedKeptAs, timings };
  } finally {
    stop.abort();
    await rm(partial, { force: true });
  }
}

/**
 * The folder a restore into the storage root must stay in, with no link on the way: the root for a new disk,
 * the disk's folder's parent otherwise. A restore --to a file goes where the admin said.
 */
function rootOfTarget(target: RestorePlan["target"]): string | null {
  switch (target.kind) {
    case "file":
      return null;
    case "new-disk":
      return target.storageRoot;
    case "new-layer":
    case "in-place":
      return path.dirname(path.resolve(target.diskFolder));
  }
}

async function checkChainChecksums(plan: RestorePlan, signal: AbortSignal): Promise<void> {
  for (const [i, file] of plan.chainFiles.entries()) {
    const { sha256 } = await hashFile(file, { signal });
    if (sha256 !== plan.chainSha256[i]) {
      throw new CanopyError("failed", `${path.basename(file)} in chain ${plan.chainId} does not match its checksum: restore refused`);
    }
  }
}

/** No process may hold the layer: qemu-img info without -U fails on an image a QEMU has open for writing. */
async function assertNotInUse(layer: NonNullable<RestorePlan["replaces"]>): Promise<void> {
  await img.info(layer.file).catch((err: Error) => {
    throw new CanopyError("busy", `${layer.layer} is in use (is the VM running?): ${err.message}`);
  });
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}
