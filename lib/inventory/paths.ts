import { constants } from "node:fs";
import { lstat, open, readlink, realpath, unlink } from "node:fs/promises";
import path from "node:path";
import { CanopyError } from "../errors";
import { assertName } from "./names";

/**
 * Canopy runs qemu-img and QEMU as root, and qemu-img follows a symbolic link when it creates or opens a file.
 * So every file Canopy makes is first created here, exclusively and without following a link (O_EXCL |
 * O_NOFOLLOW), in a folder whose real path is exactly where it should be inside its root; qemu-img then writes
 * into that empty regular file. A name that exists in any form (a dangling link too) is refused, and no folder
 * reached through a link is ever read as a disk.
 */

const CREATE_FLAGS = constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW;

/** Which file was created, to check before removing it that it is still the one Canopy made. */
export interface CreatedFile {
  file: string;
  dev: number;
  ino: number;
}

/**
 * `folder` must be `root` or lie under it with no symbolic link anywhere on the way: its real path is the one
 * its name says. Returns the folder's real path.
 */
export async function assertRealFolderInside(root: string, folder: string): Promise<string> {
  const realRoot = await realpath(root);
  const rel = path.relative(path.resolve(root), path.resolve(folder));
  if (rel.startsWith("..") || path.isAbsolute(rel)) {
    throw new CanopyError("outside-root", `${folder} is outside ${root}`);
  }
  const expected = path.join(realRoot, rel);
  const real = await realpath(folder).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") throw new CanopyError("not-found", `folder ${folder} does not exist`);
    throw e;
  });
  if (real !== expected) {
    throw new CanopyError(
      "outside-root",
      `${folder} goes through a symbolic link (it is really ${real}); Canopy does not follow links out of ${root}`,
    );
  }
  return real;
}

/** Refuses when `file` exists in any form: a file, a folder, a link (even a dangling one). */
export async function assertNameFree(file: string): Promise<void> {
  const st = await lstat(file).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return null;
    throw e;
  });
  if (!st) return;
  if (st.isSymbolicLink()) {
    throw new CanopyError("refused", `${file} already exists as a symbolic link to "${await readlink(file)}"; nothing was written`);
  }
  throw new CanopyError("refused", `${file} already exists; nothing was written`);
}

/**
 * Creates `file` empty, exclusively and without following a link. With `root`, its folder must resolve to
 * exactly its place under `root` (no link on the way).
 */
export async function createExclusive(file: string, opts: { root?: string; mode?: number } = {}): Promise<CreatedFile> {
  if (opts.root) await assertRealFolderInside(opts.root, path.dirname(file));
  const handle = await open(file, CREATE_FLAGS, opts.mode ?? 0o666).catch(async (e: NodeJS.ErrnoException) => {
    if (e.code === "EEXIST" || e.code === "ELOOP") await assertNameFree(file);
    throw e;
  });
  try {
    const st = await handle.stat();
    return { file, dev: st.dev, ino: st.ino };
  } finally {
    await handle.close();
  }
}

/** After a tool wrote into a created file: it must still be that regular file, not something put in its place. */
export async function assertStillCreated(created: CreatedFile): Promise<void> {
  const st = await lstat(created.file).catch(() => null);
  if (!st || !st.isFile() || st.dev !== created.dev || st.ino !== created.ino) {
    throw new CanopyError("failed", `${created.file} was replaced while Canopy was writing it`);
  }
}

/** Removes a created file again, only if it is still the one Canopy made. */
export async function removeCreated(created: CreatedFile): Promise<void> {
  const st = await lstat(created.file).catch(() => null);
  if (st?.isFile() && st.dev === created.dev && st.ino === created.ino) await unlink(created.file);
}

/**
 * The folder of a disk, for reading or writing it: a valid name, not the templates folder, a real folder
 * directly under the root (not a link to one anywhere). Only such folders are listed by the scan as disks.
 */
export async function resolveDiskFolder(root: string, disk: string): Promise<string> {
  const folder = path.join(path.resolve(root), assertName("disk", disk));
  const st = await lstat(folder).catch(() => null);
  if (st?.isSymbolicLink()) {
    throw new CanopyError(
      "outside-root",
      `"${disk}" is a symbolic link to "${await readlink(folder)}", not a disk folder; Canopy does not follow links`,
    );
  }
  if (!st?.isDirectory()) throw new CanopyError("not-found", `no disk named "${disk}" under the storage root`);
  await assertRealFolderInside(root, folder);
  return folder;
}
