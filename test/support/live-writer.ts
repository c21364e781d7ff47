import { QemuIoSession } from "./live-qemu-io";

/**
 * The stand-in guest: one interactive qemu-io on the disk's NBD export, writing small blocks one after the
 * other, each a new pattern at a new offset, in a known order, and recording for each write when it was
 * sent, when it was answered and whether it succeeded. Afterwards, every write either landed (the disk shows
 * its pattern) or failed visibly (ok: false); content.ts turns the record into the bytes expected.
 */

export interface WriteRecord {
  index: number;
  offset: number;
  length: number;
  pattern: number;
  /** performance.now() when sent and when answered. */
  startedAt: number;
  endedAt: number;
  ok: boolean;
  output?: string;
}

export interface WriterOptions {
  /** Where the writes go: [regionStart, regionStart + slots * blockSize). */
  regionStart: number;
  slots: number;
  blockSize?: number;
  /** Pause between writes, to leave the two cores to QEMU. Default 2 ms. */
  pauseMs?: number;
  /** Stop after this many writes failed in a row (the export is gone). Default 20. */
  maxFailuresInARow?: number;
}

/** Pattern of the i-th write: never 0 (unwritten reads as 0), and a slot written twice gets two different ones. */
export function patternOf(index: number): number {
  return (index % 255) + 1;
}

export class GuestWriter {
  readonly writes: WriteRecord[] = [];
  private stopping = false;
  private readonly loop: Promise<void>;
  private readonly waiters: Array<{ count: number; resolve: () => void }> = [];

  private constructor(
    private readonly io: QemuIoSession,
    readonly options: Required<WriterOptions>,
  ) {
    this.loop = this.run();
  }

  static async start(nbdUri: string, options: WriterOptions): Promise<GuestWriter> {
    const io = await QemuIoSession.open(nbdUri, ["-f", "raw"]);
    return new GuestWriter(io, { blockSize: 4096, pauseMs: 2, maxFailuresInARow: 20, ...options });
  }

  get okCount(): number {
    return this.writes.filter((w) => w.ok).length;
  }

  get failedCount(): number {
    return this.writes.filter((w) => !w.ok).length;
  }

  /** Resolves once `count` more writes have been answered (ok or not) than when called. */
  async moreWrites(count: number, timeoutMs = 30_000): Promise<void> {
    const target = this.writes.length + count;
    if (this.writes.length >= target) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`writer: ${count} more writes did not come within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        count: target,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** Writes answered between two instants (performance.now()): proof the guest kept writing during an operation. */
  writesBetween(from: number, to: number): WriteRecord[] {
    return this.writes.filter((w) => w.startedAt >= from && w.endedAt <= to);
  }

  /** Stops after the write in flight, closes qemu-io, returns the record. */
  async stop(): Promise<WriteRecord[]> {
    this.stopping = true;
    await this.loop.catch(() => undefined);
    await this.io.close();
    return this.writes;
  }

  kill(): void {
    this.stopping = true;
    this.io.kill();
  }

  private async run(): Promise<void> {
    const { regionStart, slots, blockSize, pauseMs, maxFailuresInARow } = this.options;
    let failuresInARow = 0;
    for (let index = 0; !this.stopping; index++) {
      const offset = regionStart + (index % slots) * blockSize;
      const pattern = patternOf(index);
      const startedAt = performance.now();
      let ok = false;
      let output: string | undefined;
      try {
        const reply = await this.io.command(`write -P 0x${pattern.toString(16)} ${offset} ${blockSize}`, 20_000);
        ok = reply.ok && /^wrote /m.test(reply.output);
        if (!ok) output = reply.output.trim();
      } catch (err) {
        output = (err as Error).message;
      }
      this.writes.push({ index, offset, length: blockSize, pattern, startedAt, endedAt: performance.now(), ok, ...(output ? { output } : {}) });
      for (const w of [...this.waiters]) {
        if (this.writes.length >= w.count) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve();
        }
      }
      failuresInARow = ok ? 0 : failuresInARow + 1;
      if (failuresInARow >= maxFailuresInARow || !this.io.running) break;
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    }
  }
}
