import { stat } from "node:fs/promises";
import path from "node:path";
import { CanopyError } from "../errors";
import { readQcow2Header } from "../qcow2/header";
import * as img from "../qemu/img";
import { withDiskLock } from "./disk-lock";
import { hashFile, type HashProgress } from "./hash-file";
import { updateManifest, readManifest } from "./manifest";
import { chainFolder } from "./repository";
import type { BackupRecord, VerifyResult } from "./types";

/**
 * A backup is good when its file is the one that was written (size and sha256 as recorded), its header is
 * the one the chain needs (virtual size, backing name), and `qemu-img check` finds no corruption. The checksum
 * catches what check cannot (a flipped byte in guest data); check catches what a checksum cannot (a file that
 * was wrong when it was written). Leaked clusters only waste space and do not fail a backup.
 */

export interface VerifyFileOptions extends HashProgress {
  /**
   * False when the recorded sha256 was just taken from this very file (the backup's own transfer stage): a
   * second read would hash the same page-cache bytes again and prove nothing. `canopy verify` always re-reads.
   */
  rehash?: boolean;
}

export async function verifyBackupFile(folder: string, record: BackupRecord, opts: VerifyFileOptions = {}): Promise<VerifyResult> {
  const file = path.join(folder, record.file);
  const problems: string[] = [];
  const at = () => new Date().toISOString();
  const st = await stat(file).catch(() => null);
  if (!st) return { status: "failed", at: at(), problems: [`${record.file} is missing`] };
  if (st.size !== record.fileSize) problems.push(`${record.file} is ${st.size} bytes, ${record.fileSize} were written`);

  try {
    const header = await readQcow2Header(file);
    if (header.virtualSize !== record.virtualSize) {
      problems.push(`${record.file} has virtual size ${header.virtualSize}, expected ${record.virtualSize}`);
    }
    if (header.backingFile !== record.backingFile) {
      problems.push(`${record.file} is backed by ${header.backingFile ?? "nothing"}, expected ${record.backingFile ?? "nothing"}`);
    }
  } catch (err) {
    problems.push(`${record.file}: ${(err as Error).message}`);
  }

  if (opts.rehash !== false) {
    const { sha256 } = await hashFile(file, opts);
    if (sha256 !== record.sha256) problems.push(`${record.file}: sha256 ${sha256} differs from the recorded ${record.sha256}`);
  }

  try {
    const check = await img.check(file, { signal: opts.signal });
    if (check.corruptions > 0) problems.push(`${record.file}: qemu-img check found ${check.corruptions} corruptions`);
  } catch (err) {
    opts.signal?.throwIfAborted();
    problems.push(`${record.file}: qemu-img check failed: ${(err as Error).message}`);
  }
  return { status: problems.length ? "failed" : "ok", at: at(), problems };
}

export interface ChainVerifyReport {
  disk: string;
  chainId: string;
  ok: boolean;
  backups: Array<{ id: string; file: string; result: VerifyResult }>;
}

/**
 * Re-checks every backup of a chain and records each result in the manifest. A failure there makes the next
 * backup of the disk full (previous-failed-or-unverified): an incremental on a bad chain would restore badly.
 */
export async function verifyChain(input: {
  repoRoot: string;
  disk: string;
  chainId: string;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}): Promise<ChainVerifyReport> {
  const folder = chainFolder(input.repoRoot, input.disk, input.chainId);
  return withDiskLock(input.repoRoot, input.disk, "verify", async () => {
    const manifest = await readManifest(folder).catch((err: NodeJS.ErrnoException) => {
      throw err.code === "ENOENT" ? new CanopyError("not-found", `disk ${input.disk} has no backup chain ${input.chainId}`) : err;
    });
    const total = manifest.backups.reduce((sum, b) => sum + b.fileSize, 0);
    let before = 0;
    const results: ChainVerifyReport["backups"] = [];
    for (const record of manifest.backups) {
      const result = await verifyBackupFile(folder, record, {
        signal: input.signal,
        onProgress: (done) => input.onProgress?.(before + done, total),
      });
      before += record.fileSize;
      results.push({ id: record.id, file: record.file, result });
    }
    await updateManifest(folder, (m) => {
      for (const b of m.backups) {
        const found = results.find((r) => r.id === b.id);
        if (found) b.verify = found.result;
      }
    });
    return {
      disk: input.disk,
      chainId: input.chainId,
      ok: results.every((r) => r.result.status === "ok"),
      backups: results,
    };
  });
}
