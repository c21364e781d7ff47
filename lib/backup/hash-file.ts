import { createHash } from "node:crypto";
import { open } from "node:fs/promises";

/** Big reads: hashing is bound by the disk and SHA-256 (about 1.5-2 GB/s with SHA-NI), not by syscalls. */
export const IO_CHUNK = 8 * 1024 * 1024;

export interface HashProgress {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/**
 * sha256 of a whole file, as hex, with its size. Two buffers: the next read is in flight (in libuv's thread
 * pool) while this one is hashed, so a file that is not in the page cache costs max(read, hash), not the sum.
 */
export async function hashFile(file: string, opts: HashProgress = {}): Promise<{ sha256: string; size: number }> {
  const handle = await open(file, "r");
  let pending: Promise<{ bytesRead: number }> | undefined;
  try {
    const { size } = await handle.stat();
    const hash = createHash("sha256");
    const buffers = [Buffer.allocUnsafe(IO_CHUNK), Buffer.allocUnsafe(IO_CHUNK)] as const;
    let done = 0;
    let turn = 0;
    pending = handle.read(buffers[0], 0, IO_CHUNK, 0);
    for (;;) {
      const { bytesRead }: { bytesRead: number } = await pending;
      if (bytesRead === 0) break;
      const current = buffers[turn]!;
      turn ^= 1;
      pending = handle.read(buffers[turn]!, 0, IO_CHUNK, done + bytesRead);
      hash.update(current.subarray(0, bytesRead));
      done += bytesRead;
      opts.onProgress?.(done, size);
      opts.signal?.throwIfAborted();
    }
    return { sha256: hash.digest("hex"), size: done };
  } finally {
    await pending?.catch(() => undefined);
    await handle.close();
  }
}
