import "server-only";
import { deleteBackups, listChains, planDeletion, type DeletePlan } from "@/lib/backup";
import { CanopyError } from "@/lib/errors";
import { getDb } from "../db";
import { recordAuditEvent } from "../audit-events";
import { diskOfBackup, repoRoot, syncDiskBackups } from "./mirror";

/** Deleting backups: no job (the engine only removes files and rewrites a manifest), but audited. */

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
