import "server-only";
import path from "node:path";
import { z } from "zod";
import { findBackup, planRestore, restore, type RestorePlan, type RestoreTarget } from "@/lib/backup";
import { CanopyError } from "@/lib/errors";
import { assertName } from "@/lib/inventory/names";
import { resolveDiskFolder } from "@/lib/inventory/paths";
import { scanDisk } from "@/lib/inventory/scan";
import { getDb } from "../db";
import { loadConfig } from "../config";
import { connectLive } from "../ops/connect-live";
import { recordDisk } from "../sync-inventory";
import { diskOfBackup, repoRoot } from "./mirror";
import { runTask, startStage, taskExecutor, type TaskResult } from "./run-task";

/** Restoring a backup as a Canopy job: to a file, as a new disk, as a branch of its disk, or in place. */

const restoreRequestSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("file"), path: z.string() }),
  z.object({ kind: z.literal("as-disk"), name: z.string() }),
  z.object({ kind: z.literal("branch"), layer: z.string().optional() }),
  z.object({ kind: z.literal("in-place") }),
]);

export type RestoreRequest = z.output<typeof restoreRequestSchema>;

export interface RestoreOutcome {
  backupId: string;
  disk: string;
  target: RestoreRequest;
  output: string;
  /** The disk the restored file now belongs to (as-disk, branch, in-place), shown by the next scan. */
  restoredDisk: string | null;
  layer: string | null;
  summary: string;
  warnings: string[];
}

async function engineTarget(disk: string, backupId: string, req: RestoreRequest): Promise<RestoreTarget> {
  const root = loadConfig().storageRoot;
  switch (req.kind) {
    case "file":
      if (!req.path) throw new CanopyError("invalid-input", "--to needs a file name");
      return { kind: "file", path: path.resolve(req.path) };
    case "as-disk": {
      assertName("disk", req.name);
      const { chain, index } = await findBackup(repoRoot(), disk, backupId);
      return { kind: "new-disk", storageRoot: root, disk: req.name, layer: chain.backups[index]!.sourceLayer };
    }
    case "branch": {
      const layer = req.layer ?? `restore-${backupId.replace(/^(\d{8}T\d{6})\d*Z-[a-z0-9]+-(\d+)$/, "$1-$2")}`;
      return { kind: "new-layer", diskFolder: await resolveDiskFolder(root, disk), layer: assertName("layer", layer) };
    }
    case "in-place": {
      const row = await getDb().disk.findUnique({ where: { name: disk } });
      if (!row) throw new CanopyError("not-found", `disk ${disk} is not in the storage root any more: restore it --as-disk or --to a file`);
      if (row.status === "running") {
        throw new CanopyError("refused", `disk ${disk} is running: stop it ("canopy stop ${disk}") before restoring in place`);
      }
      if (!row.activeLayer) throw new CanopyError("refused", `disk ${disk} has no active layer recorded`);
      return { kind: "in-place", diskFolder: await resolveDiskFolder(root, disk), activeLayer: row.activeLayer };
    }
  }
}

/** The engine's restore plan, for the confirmation (what it writes, what it replaces, warnings). */
export async function previewRestore(backupId: string, req: RestoreRequest): Promise<RestorePlan> {
  const disk = await diskOfBackup(backupId);
  return planRestore({ repoRoot: repoRoot(), disk, backupId, target: await engineTarget(disk, backupId, req) });
}

export async function startRestore(
  backupId: string,
  req: RestoreRequest,
  opts: { requestedBy: string; background?: boolean },
): Promise<TaskResult<RestoreOutcome>> {
  const plan = await previewRestore(backupId, req); // refusals (target exists, ...) before any job
  return runTask(restoreExecutor, "restore", plan.disk, { backupId, request: req }, plan.summary, opts);
}

export const restoreExecutor = taskExecutor(
  z.object({ backupId: z.string(), request: restoreRequestSchema }),
  async (disk, { backupId, request: req }, ctx) => {
    const plan = await planRestore({ repoRoot: repoRoot(), disk, backupId, target: await engineTarget(disk, backupId, req) });
    if (req.kind === "in-place" && (await connectLive(disk).then((l) => (l?.close(), !!l)))) {
      throw new CanopyError("refused", `disk ${disk} is running: stop it before restoring in place`);
    }
    await restore(plan, { signal: ctx.signal, onStep: (s) => startStage(ctx, s), onProgress: ctx.onProgress });
    const root = loadConfig().storageRoot;
    const restoredDisk = req.kind === "as-disk" ? req.name : req.kind === "file" ? null : disk;
    if (restoredDisk) await recordDisk(await scanDisk(root, restoredDisk));
    const out: RestoreOutcome = {
      backupId,
      disk,
      target: req,
      output: plan.output,
      restoredDisk,
      layer: req.kind === "file" ? null : path.basename(plan.output, ".qcow2"),
      summary: plan.summary,
      warnings: plan.warnings,
    };
    return { outcome: "succeeded", result: out };
  },
);
