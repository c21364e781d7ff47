import { chmodSync, statSync } from "node:fs";
import { chmod, mkdir, stat } from "node:fs/promises";

/**
 * Modes of what Canopy keeps for itself: the database (it holds the admin's password hash), the backups (a
 * copy of every disk) and the run folders (sockets that control a disk's QEMU). Owner-only, whatever the
 * umask. Disk layers are not Canopy's to restrict: they keep the mode their folder gives them.
 */
export const OWNER_ONLY_FILE = 0o600;
export const OWNER_ONLY_DIR = 0o700;

/** mkdir -p where every folder it creates is owner-only (folders that exist already are left as they are). */
export async function mkdirOwnerOnly(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: OWNER_ONLY_DIR });
}

/**
 * Takes group and other permissions off an existing file or folder (an installation made before modes were
 * set). A missing path, or one owned by someone else (chmod refused), is left alone: tightening is a courtesy
 * on open, never a reason to fail.
 */
export async function tightenToOwner(target: string): Promise<void> {
  const info = await stat(target).catch(() => undefined);
  if (!info || (info.mode & 0o077) === 0) return;
  await chmod(target, info.mode & 0o700).catch(() => undefined);
}

/** The same, for synchronous callers (the database client is made synchronously). */
export function tightenToOwnerSync(target: string): void {
  try {
    const mode = statSync(target).mode;
    if ((mode & 0o077) !== 0) chmodSync(target, mode & 0o700);
  } catch {
    // missing, or not ours: see tightenToOwner
  }
}
