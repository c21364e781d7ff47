import { closeSync, openSync, readSync } from "node:fs";

/**
 * Aiming a SIGKILL at the instant a qcow2 header changes. The header is read with plain synchronous reads in a
 * tight loop (a fifth of a millisecond apart), so the kill lands within a millisecond or so of the write: long
 * before qemu-img, with a writeback cache, would have flushed the tables of the clusters it copied.
 */

const pause = new Int32Array(new SharedArrayBuffer(4));

/** The backing name as the header on disk says right now ("" for none). */
export function backingNameNow(file: string): string {
  const fd = openSync(file, "r");
  try {
    const head = Buffer.alloc(4096);
    readSync(fd, head, 0, head.length, 0);
    const offset = Number(head.readBigUInt64BE(8));
    const size = head.readUInt32BE(16);
    if (offset === 0) return "";
    const name = Buffer.alloc(size);
    readSync(fd, name, 0, size, offset);
    return name.toString("utf8");
  } finally {
    closeSync(fd);
  }
}

/**
 * Polls `file`'s backing name until it is no longer `before`, then calls `kill` at once. Returns the new name,
 * or throws after `timeoutMs` without killing.
 */
export function killWhenBackingChanges(file: string, before: string, kill: () => void, timeoutMs = 120_000): string {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = backingNameNow(file);
    if (now !== before) {
      kill();
      return now;
    }
    if (Date.now() > deadline) throw new Error(`the backing name of ${file} stayed "${before}" for ${timeoutMs} ms`);
    Atomics.wait(pause, 0, 0, 0.2);
  }
}

/** A delay in [0, spanMs), from CANOPY_CRASH_SEED when set (to replay a failure), else random; printed either way. */
export function randomDelay(label: string, spanMs: number): number {
  const seed = process.env.CANOPY_CRASH_SEED;
  const fraction = seed ? (Number(seed) % 1000) / 1000 : Math.random();
  const delay = Math.floor(fraction * spanMs);
  console.log(`${label}: kill ${delay} ms after the first step started (replay with CANOPY_CRASH_SEED=${Math.round(fraction * 1000)})`);
  return delay;
}
