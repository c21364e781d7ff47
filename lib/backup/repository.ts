import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { CanopyError } from "../errors";
import { assertName } from "../inventory/names";
import { isInside } from "../inventory/scan";
import { ManifestError, readManifest } from "./manifest";
import { isChainId, MANIFEST_FILE } from "./names";
import type { ChainManifest } from "./types";

/**
 * The backup repository: a local folder holding `<root>/<disk>/<chainId>/`, one folder per chain, each with
 * its qcow2 files and its manifest. Everything here reads; writing is done by the verbs that own a change
 * (run-backup, verify, delete-backups), each through the manifest's atomic write.
 */

export function diskBackupFolder(root: string, disk: string): string {
  const folder = path.resolve(root, assertName("disk", disk));
  if (!isInside(path.resolve(root), folder)) throw new CanopyError("outside-root", `disk "${disk}" is outside the backup root`);
  return folder;
}

export function chainFolder(root: string, disk: string, chainId: string): string {
  if (!isChainId(chainId)) throw new CanopyError("invalid-input", `"${chainId}" is not a backup chain id`);
  return path.join(diskBackupFolder(root, disk), chainId);
}

export type RepositoryProblemCode =
  | "manifest-missing"
  | "manifest-invalid"
  | "file-missing"
  | "file-size"
  | "partial-file"
  | "unlisted-file"
  | "empty-chain"
  | "attempt-unfinished";

export interface RepositoryProblem {
  code: RepositoryProblemCode;
  disk: string;
  chainId?: string;
  file?: string;
  message: string;
}

export interface DiskBackups {
  disk: string;
  /** Oldest first. Chains whose manifest cannot be read are left out and reported as problems. */
  chains: ChainManifest[];
}

export interface RepositoryImport {
  root: string;
  disks: DiskBackups[];
  problems: RepositoryProblem[];
}

async function subfolders(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return [];
    throw err;
  });
  // Dot folders are the engine's own (a chain being deleted); they are not part of the repository.
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith(".")).map((e) => e.name).sort();
}

/** Every chain of a disk, oldest first, with what is wrong with the folder next to it (cheap checks only). */
export async function listChains(
  root: string,
  disk: string,
): Promise<{ chains: ChainManifest[]; problems: RepositoryProblem[] }> {
  const diskFolder = diskBackupFolder(root, disk);
  const chains: ChainManifest[] = [];
  const problems: RepositoryProblem[] = [];
  for (const chainId of await subfolders(diskFolder)) {
    if (!isChainId(chainId)) continue;
    const folder = path.join(diskFolder, chainId);
    let manifest: ChainManifest;
    try {
      manifest = await readManifest(folder);
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
      problems.push({
        code: missing ? "manifest-missing" : "manifest-invalid",
        disk,
        chainId,
        message: missing ? `${chainId}: no ${MANIFEST_FILE}` : (err as ManifestError).message,
      });
      continue;
    }
    if (manifest.chainId !== chainId || manifest.disk !== disk) {
      problems.push({
        code: "manifest-invalid",
        disk,
        chainId,
        message: `${chainId}: the manifest says disk ${manifest.disk}, chain ${manifest.chainId}`,
      });
      continue;
    }
    chains.push(manifest);
    problems.push(...(await checkChainFolder(folder, manifest)));
  }
  // Only the newest chain's unfinished attempt matters: it is the one the next incremental would continue.
  const newest = chains.at(-1);
  if (newest?.attempt) {
    const a = newest.attempt;
    problems.push({
      code: "attempt-unfinished",
      disk,
      chainId: newest.chainId,
      message: `${newest.chainId}: backup ${a.id} ${a.state === "failed" ? `failed (${a.error ?? "no reason recorded"})` : "never finished"}; the next backup is full`,
    });
  }
  return { chains, problems };
}

/** Files listed and present with their recorded size; leftovers reported. No file is read (verify does that). */
async function checkChainFolder(folder: string, manifest: ChainManifest): Promise<RepositoryProblem[]> {
  const { disk, chainId } = manifest;
  const problems: RepositoryProblem[] = [];
  const listed = new Set(manifest.backups.map((b) => b.file));
  for (const b of manifest.backups) {
    const st = await stat(path.join(folder, b.file)).catch(() => null);
    if (!st) {
      problems.push({ code: "file-missing", disk, chainId, file: b.file, message: `${chainId}/${b.file} is missing` });
    } else if (st.size !== b.fileSize) {
      problems.push({
        code: "file-size",
        disk,
        chainId,
        file: b.file,
        message: `${chainId}/${b.file} is ${st.size} bytes, the manifest says ${b.fileSize}`,
      });
    }
  }
  for (const name of await readdir(folder)) {
    if (name.endsWith(".partial")) {
      problems.push({ code: "partial-file", disk, chainId, file: name, message: `${chainId}/${name} is an unfinished backup file` });
    } else if (name.endsWith(".qcow2") && !listed.has(name)) {
      problems.push({ code: "unlisted-file", disk, chainId, file: name, message: `${chainId}/${name} is not in the manifest` });
    }
  }
  if (manifest.backups.length === 0) {
    problems.push({ code: "empty-chain", disk, chainId, message: `${chainId} holds no backup` });
  }
  return problems;
}

/** The chain the next backup would continue: the newest one holding at least one backup. */
export async function latestChain(root: string, disk: string): Promise<ChainManifest | null> {
  const { chains } = await listChains(root, disk);
  return [...chains].reverse().find((c) => c.backups.length > 0) ?? null;
}

/** Every disk, chain and backup in the repository, from the manifests alone (no database needed). */
export async function importRepository(root: string): Promise<RepositoryImport> {
  const disks: DiskBackups[] = [];
  const problems: RepositoryProblem[] = [];
  for (const disk of await subfolders(path.resolve(root))) {
    let listing: Awaited<ReturnType<typeof listChains>>;
    try {
      listing = await listChains(root, disk);
    } catch (err) {
      if (err instanceof CanopyError) continue; // not a disk name Canopy could have written
      throw err;
    }
    problems.push(...listing.problems);
    if (listing.chains.length) disks.push({ disk, chains: listing.chains });
  }
  return { root: path.resolve(root), disks, problems };
}

/** Finds a backup by id among a disk's chains. */
export async function findBackup(
  root: string,
  disk: string,
  backupId: string,
): Promise<{ chain: ChainManifest; index: number }> {
  const { chains } = await listChains(root, disk);
  for (const chain of chains) {
    const index = chain.backups.findIndex((b) => b.id === backupId);
    if (index >= 0) return { chain, index };
  }
  throw new CanopyError("not-found", `disk ${disk} has no backup ${backupId}`);
}
