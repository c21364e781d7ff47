import "server-only";
import path from "node:path";
import { rm } from "node:fs/promises";
import {
  applyRetention,
  deleteBackups,
  findBackup,
  planDeletion,
  planRestore,
  previewBackup,
  restore,
  runBackup,
  verifyChain,
  listChains,
  type BackupLayer,
  type DeletePlan,
  type RestorePlan,
  type RestoreTarget,
} from "@/lib/backup";
import { reasonWords } from "@/lib/backup/reason-words";
import { CanopyError } from "@/lib/errors";
import { tightenToOwner } from "@/lib/owner-only";
import { assertName } from "@/lib/inventory/names";
import { resolveDiskFolder } from "@/lib/inventory/paths";
import { scanDisk } from "@/lib/inventory/scan";
import type { Plan } from "@/lib/ops/types";
import { getDb } from "../db";
import { loadConfig } from "../config";
import { recordAuditEvent } from "../audit-events";
import { loadDiskState } from "../ops/disk-state";
import { connectLive } from "../live/connect-live";
import { recordDisk } from "../sync-inventory";
import { refuseIfDiskHeld } from "../jobs/disk-holder";
import { effectivePolicy } from "./policy";
import { diskOfBackup, repoRoot, syncDiskBackups, type ChainView } from "./mirror";
import { createTaskJob, errorMessage, runTaskJob, type TaskContext, type TaskExecutor, type TaskKind, type TaskOutcome } from "./task-job";

/**
 * Backups as Canopy's jobs: the engine (lib/backup) does the work; this file builds its inputs from the
 * storage root and the database (layers, active layer, policy, mergedInto from the job history), runs it as a
 * job (backup, verify, restore) or directly (delete, policy), and mirrors the manifests into the Backup table.
 */

export interface TaskResult<R> {
  job: { id: string; state: string; error: string | null };
  result: R | null;
}

async function runTask<R>(
  kind: TaskKind,
  disk: string,
  params: Record<string, unknown>,
  summary: string,
  opts: { requestedBy: string; background?: boolean },
): Promise<TaskResult<R>> {
  await refuseIfDiskHeld(disk);
  const jobId = await createTaskJob({ kind, disk, params, summary, requestedBy: opts.requestedBy, claimNow: !opts.background });
  if (opts.background) return { job: { id: jobId, state: "queued", error: null }, result: null };
  const outcome = await runTaskJob(jobId, EXECUTORS);
  if (outcome.state !== "succeeded") {
    throw new CanopyError("failed", `${summary}: job ${jobId} ${outcome.state}${outcome.error ? `: ${outcome.error}` : ""}`, {
      jobId,
      ...(outcome.result ?? {}),
    });
  }
  return { job: { id: jobId, state: outcome.state, error: null }, result: outcome.result as R };
}

/** Runs a queued or orphaned backup-side job (the worker's entry point). */
export function runBackupSideJob(jobId: string): Promise<TaskOutcome> {
  return runTaskJob(jobId, EXECUTORS);
}

// ---------------------------------------------------------------------------------------------- backup

export interface BackupResult {
  backupId: string;
  disk: string;
  chainId: string;
  seq: number;
  kind: "full" | "incremental";
  reason: string;
  reasonDetail: string;
  pointInTime: string;
  fileSize: number;
  virtualSize: number;
  verifyStatus: string;
  compressed: boolean;
  warnings: string[];
  retention: { deleted: string[]; note: string | null } | null;
}

export async function startBackup(
  disk: string,
  opts: { full?: boolean; requestedBy: string; background?: boolean },
): Promise<TaskResult<BackupResult>> {
  assertName("disk", disk);
  await loadDiskState(disk); // not-found early, and the record fresh
  const summary = `${opts.full ? "full " : ""}backup of ${disk}`;
  return runTask<BackupResult>("backup", disk, { full: !!opts.full }, summary, opts);
}

/** The engine's inputs for a disk: every layer (absolute files), the active layer, policy and merge history. */
async function engineInput(disk: string) {
  const root = loadConfig().storageRoot;
  const state = await loadDiskState(disk, root);
  if (!state.active) throw new CanopyError("refused", `disk ${disk} has no active layer recorded; run "canopy scan"`);
  const layers: BackupLayer[] = state.layers.map((l) => ({ name: l.name, file: path.join(root, l.file), parent: l.parent }));
  const policy = await effectivePolicy(disk);
  return { root, state, layers, active: state.active, policy, mergedInto: await mergedIntoFromHistory(disk) };
}

/**
 * Layers removed by merges, mapped to the layer that received their data, from the plans of the disk's
 * succeeded jobs (oldest first, so a later merge of the receiver is followed too by the engine).
 */
export async function mergedIntoFromHistory(disk: string): Promise<Record<string, string>> {
  const rows = await getDb().job.findMany({
    where: { state: "succeeded", kind: { in: ["merge-down", "merge-up", "delete", "flatten"] }, disk: { name: disk } },
    orderBy: { endedAt: "asc" },
    select: { plan: true },
  });
  const out: Record<string, string> = {};
  for (const row of rows) {
    let plan: Plan;
    try {
      plan = JSON.parse(row.plan ?? "") as Plan;
    } catch {
      continue;
    }
    const commit = plan.steps.find((s) => s.kind === "commit");
    const pull = plan.steps.find((s) => s.kind === "pull");
    for (const gone of plan.deletes) {
      if (commit && commit.kind === "commit") out[gone] = commit.base;
      else if (pull && pull.kind === "pull") out[gone] = plan.activeAfter && plan.steps.some((s) => s.kind === "pull" && s.layer === plan.activeAfter) ? plan.activeAfter : pull.layer;
    }
  }
  return out;
}

/**
 * Bytes per second a backup job may copy (CANOPY_BACKUP_SPEED; unset: unlimited): on a running disk every byte
 * the job reads competes with the guest's own I/O, and copy-before-write makes guest writes wait on the job.
 */
const BACKUP_SPEED = Number(process.env.CANOPY_BACKUP_SPEED ?? 0) || undefined;

const backupExecutor: TaskExecutor = async (disk, params, ctx) => {
  const input = await engineInput(disk);
  const { runRoot } = loadConfig();
  const runDir = path.join(runRoot, `backup-${ctx.jobId}`);
  await tightenToOwner(runRoot); // a run root made before run folders were owner-only
  const live = await connectLive(disk);
  let result: Awaited<ReturnType<typeof runBackup>>;
  try {
    result = await runBackup({
      diskName: disk,
      layers: input.layers,
      active: input.active,
      repoRoot: repoRoot(),
      qmp: live?.qmp,
      policy: { maxIncrementals: input.policy.maxIncrementals },
      compress: input.policy.compress,
      speed: BACKUP_SPEED,
      requestedFull: params.full === true,
      mergedInto: input.mergedInto,
      runDir,
      signal: ctx.signal,
      onStage: (stage) => ctx.setStage(stage),
      onProgress: (done, total) => ctx.onProgress(done, total),
    });
  } finally {
    live?.close();
    await rm(runDir, { recursive: true, force: true }).catch(() => undefined);
    // The bitmaps changed; the mirror shows whatever the manifests now hold, even after a failure.
    await recordDisk(await scanDisk(input.root, disk)).catch(() => undefined);
    await syncDiskBackups(disk).catch(() => undefined);
  }
  await syncDiskBackups(disk, { backupId: result.backup.id, jobId: ctx.jobId });
  let retention: BackupResult["retention"] = null;
  if (input.policy.keepChains) {
    try {
      const r = await applyRetention({ repoRoot: repoRoot(), disk, keepChains: input.policy.keepChains });
      retention = { deleted: r.delete, note: null };
      if (r.delete.length) await syncDiskBackups(disk);
    } catch (err) {
      retention = { deleted: [], note: `retention skipped: ${errorMessage(err)}` };
    }
  }
  const b = result.backup;
  const out: BackupResult = {
    backupId: b.id,
    disk,
    chainId: result.chain.chainId,
    seq: b.seq,
    kind: result.kind,
    reason: result.reason,
    reasonDetail: result.reasonDetail,
    pointInTime: b.pointInTime,
    fileSize: b.fileSize,
    virtualSize: b.virtualSize,
    verifyStatus: b.verify.status,
    compressed: b.compressed,
    warnings: result.warnings,
    retention,
  };
  // The job list's line: an incremental's reason is only ever "incremental", so only a full says why.
  const why = result.kind === "full" ? ` (${reasonWords(result.reason)})` : "";
  return { ...out, jobSummary: `${b.kind} backup of ${disk}${why}: ${b.id}` } as unknown as Record<string, unknown>;
};

/** What the next backup would be and why, without making it. */
export async function previewNextBackup(disk: string, full = false): Promise<{ kind: string; reason: string; detail: string }> {
  const input = await engineInput(disk);
  const live = await connectLive(disk);
  try {
    const p = await previewBackup({
      diskName: disk,
      layers: input.layers,
      active: input.active,
      repoRoot: repoRoot(),
      qmp: live?.qmp,
      policy: { maxIncrementals: input.policy.maxIncrementals },
      requestedFull: full,
      mergedInto: input.mergedInto,
    });
    return { kind: p.decision.kind, reason: p.decision.reason, detail: p.decision.detail };
  } finally {
    live?.close();
  }
}

// ---------------------------------------------------------------------------------------------- list

export interface DiskBackupsView {
  disk: string;
  policy: Awaited<ReturnType<typeof effectivePolicy>>;
  chains: ChainView[];
  /** Every backup, oldest first. */
  backups: ChainView["backups"];
}

export async function listDiskBackups(disk: string): Promise<DiskBackupsView> {
  assertName("disk", disk);
  const chains = await syncDiskBackups(disk);
  return { disk, policy: await effectivePolicy(disk), chains, backups: chains.flatMap((c) => c.backups) };
}

// ---------------------------------------------------------------------------------------------- verify

export interface VerifyOutcome {
  backupId: string;
  disk: string;
  chainId: string;
  ok: boolean;
  status: string;
  problems: string[];
  chain: Array<{ id: string; status: string; problems: string[] }>;
}

export async function startVerify(backupId: string, opts: { requestedBy: string; background?: boolean }): Promise<TaskResult<VerifyOutcome>> {
  const disk = await diskOfBackup(backupId);
  return runTask<VerifyOutcome>("verify", disk, { backupId }, `verify backup ${backupId} of ${disk}`, opts);
}

const verifyExecutor: TaskExecutor = async (disk, params, ctx) => {
  const backupId = String(params.backupId);
  const { chain } = await findBackup(repoRoot(), disk, backupId);
  ctx.setStage("verify");
  const report = await verifyChain({ repoRoot: repoRoot(), disk, chainId: chain.chainId, signal: ctx.signal, onProgress: ctx.onProgress });
  await syncDiskBackups(disk);
  const mine = report.backups.find((b) => b.id === backupId)!;
  const out: VerifyOutcome = {
    backupId,
    disk,
    chainId: chain.chainId,
    ok: report.ok,
    status: mine.result.status,
    problems: mine.result.problems,
    chain: report.backups.map((b) => ({ id: b.id, status: b.result.status, problems: b.result.problems })),
  };
  return out as unknown as Record<string, unknown>;
};

// ---------------------------------------------------------------------------------------------- restore

export type RestoreRequest =
  | { kind: "file"; path: string }
  | { kind: "as-disk"; name: string }
  | { kind: "branch"; layer?: string }
  | { kind: "in-place" };

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
  return runTask<RestoreOutcome>("restore", plan.disk, { backupId, request: req }, plan.summary, opts);
}

const restoreExecutor: TaskExecutor = async (disk, params, ctx) => {
  const backupId = String(params.backupId);
  const req = params.request as RestoreRequest;
  const plan = await planRestore({ repoRoot: repoRoot(), disk, backupId, target: await engineTarget(disk, backupId, req) });
  if (req.kind === "in-place" && (await connectLive(disk).then((l) => (l?.close(), !!l)))) {
    throw new CanopyError("refused", `disk ${disk} is running: stop it before restoring in place`);
  }
  await restore(plan, { signal: ctx.signal, onStep: (s) => ctx.setStage(s), onProgress: ctx.onProgress });
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
  return out as unknown as Record<string, unknown>;
};

// ---------------------------------------------------------------------------------------------- delete

export async function previewDeletion(backupIds: string[]): Promise<{ disk: string; plan: DeletePlan }> {
  if (!backupIds.length) throw new CanopyError("invalid-input", "no backup named");
  const disk = await diskOfBackup(backupIds[0]!);
  const { chains } = await listChains(repoRoot(), disk);
  return { disk, plan: planDeletion(chains, { backupIds }) };
}

/** Deletes backups with the engine's rules; a refusal throws (code "refused", with the dependents) and changes nothing. */
export async function removeBackups(backupIds: string[], opts: { dryRun?: boolean; requestedBy: string }) {
  const { disk } = await previewDeletion(backupIds);
  let plan;
  try {
    plan = await deleteBackups({ repoRoot: repoRoot(), disk, request: { backupIds }, dryRun: opts.dryRun });
  } catch (err) {
    if (err instanceof CanopyError && err.code === "refused") {
      throw new CanopyError("refused", `backup-delete ${backupIds.join(", ")} refused: ${err.message}`, err.details);
    }
    throw err;
  }
  if (!opts.dryRun) {
    await syncDiskBackups(disk);
    const row = await getDb().disk.findUnique({ where: { name: disk }, select: { id: true } });
    await recordAuditEvent({
      actor: opts.requestedBy,
      action: "backup-delete",
      diskId: row?.id ?? null,
      detail: { disk, outcome: "succeeded", summary: plan.summary, backups: plan.backups.map((b) => b.id), bytes: plan.bytes },
    });
  }
  return { disk, dryRun: !!opts.dryRun, plan };
}

export const EXECUTORS: Record<TaskKind, TaskExecutor> = {
  backup: backupExecutor,
  verify: verifyExecutor,
  restore: restoreExecutor,
};

/** For tests and callers that only need the kind check. */
export type { TaskContext };
