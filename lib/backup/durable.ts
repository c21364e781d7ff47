import { open, rename, rm } from "node:fs/promises";
import path from "node:path";
import { OWNER_ONLY_FILE } from "../owner-only";

/**
 * Writes that survive a crash or a power cut at any moment: the old content or the new one, never a mix. A
 * rename is atomic, but only durable once the folder holding it is synced; file data only once the file is.
 */

export async function fsyncFile(file: string): Promise<void> {
  const handle = await open(file, "r+");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Renames and syncs the destination's folder (and the source's, when it is another folder). */
export async function renameDurable(from: string, to: string): Promise<void> {
  await rename(from, to);
  await fsyncDir(path.dirname(to));
  if (path.dirname(from) !== path.dirname(to)) await fsyncDir(path.dirname(from));
}

/** temp file + fsync + rename + fsync of the folder. */
export async function writeFileAtomic(file: string, data: string): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    const handle = await open(temp, "w", OWNER_ONLY_FILE);
    try {
      await handle.writeFile(data, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await renameDurable(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
