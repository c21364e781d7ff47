import "server-only";
import { z } from "zod";
import { findBackup, verifyChain } from "@/lib/backup";
import { diskOfBackup, repoRoot, syncDiskBackups } from "./mirror";
import { runTask, startStage, taskExecutor, type TaskResult } from "./run-task";

/** Verifying a backup as a Canopy job: its whole chain is read back against the manifests' checksums. */

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
  return runTask(verifyExecutor, "verify", disk, { backupId }, `verify backup ${backupId} of ${disk}`, opts);
}

export const verifyExecutor = taskExecutor(z.object({ backupId: z.string() }), async (disk, { backupId }, ctx) => {
  const { chain } = await findBackup(repoRoot(), disk, backupId);
  startStage(ctx, "verify");
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
  return { outcome: "succeeded", result: out };
});
