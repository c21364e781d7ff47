"use server";
import "server-only";
import { z } from "zod";
import { previewDeletion, removeBackups } from "../backups/delete-backups";
import { previewNextBackup } from "../backups/preview-backup";
import { previewRestore, startRestore, type RestoreRequest } from "../backups/restore";
import { startBackup } from "../backups/start-backup";
import { startVerify } from "../backups/verify";
import { loadDiskBackupState } from "../backups/disk-backup-state";
import { setPolicy } from "../backups/policy";
import { defineAction } from "./client";

// Thin on purpose: the rules live in server/backups (shared with the CLI) and lib/backup (the engine).

const name = z.string().min(1).max(255);
const backupId = z.string().min(1).max(128);
const restoreTarget = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("as-disk"), name }),
  z.object({ kind: z.literal("branch"), layer: name.optional() }),
  z.object({ kind: z.literal("in-place") }),
]);

/** What the next backup would be, and why (for the buttons' hint). */
export const previewBackupAction = defineAction(z.object({ disk: name, full: z.boolean().optional() }), async ({ disk, full }) =>
  previewNextBackup(disk, full ?? false),
);

/** The disk page's backup panel: last backup, next scheduled run, bitmap health (refetched after each job). */
export const diskBackupStateAction = defineAction(z.object({ disk: name }), async ({ disk }) => loadDiskBackupState(disk));

/** Queues a backup job for the worker; the page follows it with useJob. */
export const startBackupAction = defineAction(z.object({ disk: name, full: z.boolean().optional() }), async ({ disk, full }, { user }) => {
  const { job } = await startBackup(disk, { full: full ?? false, requestedBy: user.name, background: true });
  return { jobId: job.id };
});

export const startVerifyAction = defineAction(z.object({ backupId }), async ({ backupId }, { user }) => {
  const { job } = await startVerify(backupId, { requestedBy: user.name, background: true });
  return { jobId: job.id };
});

/** The engine's restore plan for the confirmation: output, what it replaces, warnings. */
export const planRestoreAction = defineAction(z.object({ backupId, target: restoreTarget }), async ({ backupId, target }) => {
  const plan = await previewRestore(backupId, target as RestoreRequest);
  return { summary: plan.summary, output: plan.output, replaces: plan.replaces, warnings: plan.warnings, chainFiles: plan.chainFiles.length };
});

export const startRestoreAction = defineAction(z.object({ backupId, target: restoreTarget }), async ({ backupId, target }, { user }) => {
  const { job } = await startRestore(backupId, target as RestoreRequest, { requestedBy: user.name, background: true });
  return { jobId: job.id };
});

/** What deleting a backup takes along, or why it is refused (an answer, not an error). */
export const planDeleteBackupAction = defineAction(z.object({ backupId }), async ({ backupId }) => (await previewDeletion([backupId])).plan);

export const deleteBackupAction = defineAction(z.object({ backupId }), async ({ backupId }, { user }) => {
  const { plan } = await removeBackups([backupId], { requestedBy: user.name });
  return { summary: plan.summary, deleted: plan.backups.map((b) => b.id) };
});

const nullableInt = (min: number) => z.number().int().min(min).max(10_000).nullable().optional();

export const setPolicyAction = defineAction(
  z.object({
    disk: name.nullable(),
    maxIncrementals: nullableInt(0),
    schedule: z.string().max(200).nullable().optional(),
    keepChains: nullableInt(1),
    compress: z.boolean().nullable().optional(),
  }),
  async ({ disk, ...change }) => setPolicy(disk, change),
);
