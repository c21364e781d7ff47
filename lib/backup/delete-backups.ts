import { rename, rm } from "node:fs/promises";
import path from "node:path";
import { CanopyError } from "../errors";
import { fsyncDir } from "./durable";
import { planDeletion, planRetention, type DeletePlan, type DeleteRequest, type RetentionPreview } from "./delete-rules";
import { withDiskLock } from "./disk-lock";
import { updateManifest } from "./manifest";
import { chainFolder, diskBackupFolder, listChains } from "./repository";

/**
 * Carries out what delete-rules allows, under the disk's lock, re-planned from the manifests as they are now
 * (a preview may be stale). A chain folder is renamed to a dot name first, so it disappears from the
 * repository in one step; single backups leave the manifest first, then their files go, so a crash leaves at
 * worst an unlisted file (reported by importRepository), never a listed file that is missing.
 */

export type AllowedPlan = Extract<DeletePlan, { allowed: true }>;

function refusal(plan: DeletePlan): CanopyError | null {
  if (plan.allowed) return null;
  return new CanopyError("refused", plan.reason, { dependents: plan.dependents });
}

async function execute(repoRoot: string, disk: string, plan: AllowedPlan): Promise<void> {
  const diskFolder = diskBackupFolder(repoRoot, disk);
  for (const chainId of plan.chains) {
    const doomed = path.join(diskFolder, `.deleting-${chainId}`);
    await rename(chainFolder(repoRoot, disk, chainId), doomed);
    await fsyncDir(diskFolder);
    await rm(doomed, { recursive: true, force: true });
  }
  const single = plan.backups.filter((b) => !plan.chains.includes(b.chainId));
  for (const chainId of new Set(single.map((b) => b.chainId))) {
    const folder = chainFolder(repoRoot, disk, chainId);
    const ids = new Set(single.filter((b) => b.chainId === chainId).map((b) => b.id));
    await updateManifest(folder, (m) => void (m.backups = m.backups.filter((b) => !ids.has(b.id))));
    for (const b of single.filter((x) => x.chainId === chainId)) await rm(path.join(folder, b.file), { force: true });
  }
}

/** Deletes backups or a whole chain; a refused deletion throws CanopyError "refused" and changes nothing. */
export async function deleteBackups(input: {
  repoRoot: string;
  disk: string;
  request: DeleteRequest;
  dryRun?: boolean;
}): Promise<AllowedPlan> {
  return withDiskLock(input.repoRoot, input.disk, "delete backups", async () => {
    const { chains } = await listChains(input.repoRoot, input.disk);
    const plan = planDeletion(chains, input.request);
    const refused = refusal(plan);
    if (refused) throw refused;
    if (!input.dryRun) await execute(input.repoRoot, input.disk, plan as AllowedPlan);
    return plan as AllowedPlan;
  });
}

/** Keeps the newest `keepChains` usable chains and deletes the older ones, whole; dryRun previews. */
export async function applyRetention(input: {
  repoRoot: string;
  disk: string;
  keepChains: number;
  dryRun?: boolean;
}): Promise<RetentionPreview> {
  return withDiskLock(input.repoRoot, input.disk, "retention", async () => {
    const { chains } = await listChains(input.repoRoot, input.disk);
    const preview = planRetention(chains, { keepChains: input.keepChains });
    const refused = refusal(preview.plan);
    if (refused) throw refused;
    if (!input.dryRun && preview.delete.length) await execute(input.repoRoot, input.disk, preview.plan as AllowedPlan);
    return preview;
  });
}
