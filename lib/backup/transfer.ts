import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { chmod, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { OWNER_ONLY_FILE } from "../owner-only";
import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";
import { fsyncFile, renameDurable } from "./durable";
import { hashFile, IO_CHUNK, type HashProgress } from "./hash-file";
import { partialFileName } from "./names";

/**
 * The transfer stage: the staged file goes into the repository as a partial (dot) file, its sha256 is taken
 * from the bytes that land there, it is synced, and only then renamed to its final name. A crash leaves either
 * no backup file or a complete one, never a short one under a backup's name.
 *
 * When the staging folder and the repository share a file system the staged file is moved, not copied (a
 * rename), and hashed by reading it once while it is synced. Across file systems it is streamed, and hashed on
 * the way. Either way the hash is taken from the bytes of the file that stays in the repository, so the backup's
 * own verify (storage stage) need not read it again.
 */

export interface TransferResult {
  sha256: string;
  fileSize: number;
  copied: boolean;
}

export async function transferToRepository(staged: string, final: string, opts: HashProgress = {}): Promise<TransferResult> {
  const partial = path.join(path.dirname(final), partialFileName(path.basename(final)));
  const [from, to] = await Promise.all([stat(staged), stat(path.dirname(final))]);
  const copied = from.dev !== to.dev;
  try {
    let sha256: string;
    let fileSize: number;
    if (copied) {
      ({ sha256, fileSize } = await copyHashing(staged, partial, from.size, opts));
    } else {
      await rename(staged, partial);
      // QEMU wrote the staging file without syncing it (the node has no-flush): the disk writes it back while the
      // hash reads it from the page cache, so the sync costs about nothing on top of the hash.
      [{ sha256, size: fileSize }] = await Promise.all([hashFile(partial, opts), fsyncFile(partial)]);
    }
    // QEMU made the staged file with the process's umask; a backup is a copy of the disk, for the owner only.
    await chmod(partial, OWNER_ONLY_FILE);
    if (copied) await fsyncFile(partial);
    await renameDurable(partial, final);
    if (copied) await rm(staged, { force: true });
    return { sha256, fileSize, copied };
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
}

async function copyHashing(
  from: string,
  to: string,
  total: number,
  opts: HashProgress,
): Promise<{ sha256: string; fileSize: number }> {
  const hash = createHash("sha256");
  let done = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, callback) {
      hash.update(chunk);
      done += chunk.length;
      opts.onProgress?.(done, total);
      callback(null, chunk);
    },
  });
  await pipeline(
    createReadStream(from, { highWaterMark: IO_CHUNK }),
    tap,
    createWriteStream(to, { flags: "wx", mode: OWNER_ONLY_FILE }),
    { signal: opts.signal },
  );
  return { sha256: hash.digest("hex"), fileSize: done };
}
