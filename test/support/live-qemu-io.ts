import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";

/**
 * One long-lived interactive qemu-io: commands go in on stdin, one line each, and each command's output is
 * everything up to the next "qemu-io> " prompt. Used as the stand-in guest (a writer on the disk's NBD export)
 * and by the latency benchmark, where starting a process per write would measure process start-up instead.
 */

const PROMPT = "qemu-io> ";

export interface IoReply {
  output: string;
  /** Wall time from sending the command to its prompt coming back, measured here. */
  ms: number;
  /** qemu-io's own timing of the request (from its "ops/sec" figure), when it printed one. */
  qemuMs?: number;
  ok: boolean;
}

interface Pending {
  resolve(reply: IoReply): void;
  reject(error: Error): void;
  sentAt: number;
  timer: NodeJS.Timeout;
}

export class QemuIoSession {
  private buffer = "";
  private readonly queue: Pending[] = [];
  private greeted = false;
  private greetedWaiters: Array<() => void> = [];
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    // Errors go to stdout with the prompt; stderr gets the odd warning, which belongs to the current command.
    child.stdout.on("data", (chunk: string) => this.absorb(chunk));
    child.stderr.on("data", (chunk: string) => (this.buffer += chunk));
    child.stdin.on("error", () => undefined);
    this.exited = new Promise((resolve) =>
      child.once("close", (code, signal) => {
        this.exitInfo = { code, signal };
        for (const p of this.queue.splice(0)) {
          clearTimeout(p.timer);
          p.reject(new Error(`qemu-io exited (${signal ?? `code ${code}`}): ${this.buffer.trim()}`));
        }
        for (const w of this.greetedWaiters.splice(0)) w();
        resolve();
      }),
    );
  }

  /** Opens `target` (e.g. an nbd+unix:// URI with format raw) and waits for the first prompt. */
  static async open(target: string, args: string[] = ["-f", "raw"], timeoutMs = 10_000): Promise<QemuIoSession> {
    const child = spawn("qemu-io", [...args, target], { stdio: ["pipe", "pipe", "pipe"] });
    const session = new QemuIoSession(child);
    const greeted = new Promise<void>((resolve) => session.greetedWaiters.push(resolve));
    const timer = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), timeoutMs).unref());
    if ((await Promise.race([greeted, timer])) === "timeout" || !session.greeted) {
      child.kill("SIGKILL");
      throw new Error(`qemu-io ${target} did not start: ${session.buffer.trim()}`);
    }
    return session;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** Sends one command and resolves with its output; `ok` is false when qemu-io reported a failure. */
  command(line: string, timeoutMs = 30_000): Promise<IoReply> {
    return new Promise((resolve, reject) => {
      if (!this.running) {
        reject(new Error("qemu-io has exited"));
        return;
      }
      const entry: Pending = {
        resolve,
        reject,
        sentAt: performance.now(),
        timer: setTimeout(() => {
          const i = this.queue.indexOf(entry);
          if (i >= 0) this.queue.splice(i, 1);
          reject(new Error(`qemu-io: no reply to "${line}" within ${timeoutMs} ms`));
          this.child.kill("SIGKILL");
        }, timeoutMs),
      };
      this.queue.push(entry);
      this.child.stdin.write(`${line}\n`);
    });
  }

  /** quit, then SIGKILL if it lingers. */
  async close(timeoutMs = 3_000): Promise<void> {
    if (!this.running) return;
    this.child.stdin.end("quit\n");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  kill(): void {
    this.child.kill("SIGKILL");
  }

  private absorb(chunk: string): void {
    this.buffer += chunk;
    for (let at = this.buffer.indexOf(PROMPT); at >= 0; at = this.buffer.indexOf(PROMPT)) {
      const output = this.buffer.slice(0, at);
      this.buffer = this.buffer.slice(at + PROMPT.length);
      if (!this.greeted) {
        // The first prompt: the image is open (anything before it is start-up noise).
        this.greeted = true;
        for (const w of this.greetedWaiters.splice(0)) w();
        continue;
      }
      const pending = this.queue.shift();
      if (!pending) continue;
      clearTimeout(pending.timer);
      const ms = performance.now() - pending.sentAt;
      const rate = /and ([\d.]+) ops\/sec/.exec(output);
      const opsPerSec = rate ? Number(rate[1]) : undefined;
      pending.resolve({
        output,
        ms,
        ...(opsPerSec ? { qemuMs: 1000 / opsPerSec } : {}),
        ok: !/failed|error|Could not|cannot/i.test(output),
      });
    }
  }
}
