import { hostname } from "node:os";
import { open, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { CanopyError } from "../errors";
import { processAlive } from "../proc/process-alive";
import { assertRealFolderInside } from "../inventory/paths";
import { mkdirOwnerOnly, OWNER_ONLY_FILE, tightenToOwner } from "../owner-only";
import { diskBackupFolder } from "./repository";

/**
 * One writer per disk in the repository. The caller's job lock already serialises jobs per disk, but the
 * repository must stay consistent on its own (a CLI and a worker, two installations sharing one backup root),
 * so every change to a disk's chains holds `<root>/<disk>/.lock`. A lock whose process is gone on this host is
 * stale and taken over.
 */

interface LockOwner {
  pid: number;
  host: string;
  since: string;
  purpose: string;
}

async function tryTake(file: string, owner: LockOwner): Promise<boolean> {
  try {
    const handle = await open(file, "wx", OWNER_ONLY_FILE);
    await handle.writeFile(JSON.stringify(owner));
    await handle.close();
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
}

export async function withDiskLock<T>(root: string, disk: string, purpose: string, fn: () => Promise<T>): Promise<T> {
  const folder = diskBackupFolder(root, disk);
  // Every backup and restore of a disk starts here: the place to make the repository owner-only, and to
  // tighten a root made before modes were set.
  await mkdirOwnerOnly(folder);
  // Canopy runs as root: a disk's backup folder planted as a link elsewhere would take every file below it along.
  await assertRealFolderInside(root, folder);
  await Promise.all([tightenToOwner(root), tightenToOwner(folder)]);
  const file = path.join(folder, ".lock");
  const me: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString(), purpose };
  if (!(await tryTake(file, me))) {
    const holder = await readFile(file, "utf8")
      .then((t) => JSON.parse(t) as LockOwner)
      .catch(() => null);
    const stale = holder !== null && holder.host === me.host && !processAlive(holder.pid);
    if (!stale || !(await rm(file, { force: true }).then(() => tryTake(file, me)))) {
      throw new CanopyError(
        "busy",
        `the backups of disk ${disk} are in use${holder ? ` (${holder.purpose}, process ${holder.pid} on ${holder.host} since ${holder.since})` : ""}`,
      );
    }
  }
  try {
    return await fn();
  } finally {
    await rm(file, { force: true });
  }
}
