import { spawn } from "node:child_process";

/**
 * Every external process Canopy starts goes through here: arguments as an array (never a shell), a timeout
 * that is always set, and one typed result or error shape (modelled on execa) so callers and logs can say
 * exactly what ran, how it ended and how long it took.
 */

export interface RunOptions {
  /** Kill the process after this many milliseconds. Required in spirit: the default is deliberately finite. */
  timeoutMs?: number;
  /** Aborting kills the process (SIGTERM, then SIGKILL after a grace period). */
  signal?: AbortSignal;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Exit codes that count as success (qemu-img compare uses 1 for "differs", check uses 3 for leaks). */
  okExitCodes?: number[];
  /** Called with each chunk of stdout as it arrives (progress parsing). */
  onStdout?: (chunk: string) => void;
}

export interface RunResult {
  command: string;
  args: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export const DEFAULT_TIMEOUT_MS = 120_000;
const KILL_GRACE_MS = 2_000;
/** Keep at most this much of each stream: a runaway process must not exhaust memory. */
const MAX_CAPTURE = 64 * 1024 * 1024;

export class ProcessError extends Error {
  readonly command: string;
  readonly args: string[];
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
  readonly timedOut: boolean;
  readonly aborted: boolean;

  constructor(init: Omit<ProcessError, keyof Error | "shortMessage"> & { reason: string }) {
    super(`${init.command} ${init.reason}${firstLine(init.stderr) ? `: ${firstLine(init.stderr)}` : ""}`);
    this.name = "ProcessError";
    this.command = init.command;
    this.args = init.args;
    this.exitCode = init.exitCode;
    this.signal = init.signal;
    this.stdout = init.stdout;
    this.stderr = init.stderr;
    this.durationMs = init.durationMs;
    this.timedOut = init.timedOut;
    this.aborted = init.aborted;
  }

  /** The tool's own words, without the program name: what a person should read. */
  get shortMessage(): string {
    return firstLine(this.stderr) || this.message;
  }
}

function firstLine(text: string): string {
  const line = text.split("\n").find((l) => l.trim() !== "") ?? "";
  // qemu tools prefix their messages with their own name ("qemu-img: ..."); the caller already knows it.
  return line.replace(/^qemu-[a-z-]+: /, "").trim();
}

export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const okExitCodes = options.okExitCodes ?? [0];
  const started = performance.now();
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(abortError(command, args));
      return;
    }
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;

    const terminate = () => {
      child.kill("SIGTERM");
      killTimer = setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS);
      killTimer.unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      terminate();
    }, timeoutMs);
    const onAbort = () => {
      aborted = true;
      terminate();
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });

    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      if (stdout.length < MAX_CAPTURE) stdout += chunk;
      options.onStdout?.(chunk);
    });
    child.stderr.on("data", (chunk: string) => {
      if (stderr.length < MAX_CAPTURE) stderr += chunk;
    });

    const finish = (exitCode: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      options.signal?.removeEventListener("abort", onAbort);
      const durationMs = Math.round(performance.now() - started);
      if (!spawnError && !timedOut && !aborted && exitCode !== null && okExitCodes.includes(exitCode)) {
        resolve({ command, args: [...args], exitCode, stdout, stderr, durationMs });
        return;
      }
      const reason = spawnError
        ? `could not be started (${(spawnError as NodeJS.ErrnoException).code ?? spawnError.message})`
        : timedOut
          ? `timed out after ${timeoutMs} ms`
          : aborted
            ? "was cancelled"
            : signal
              ? `was killed by ${signal}`
              : `failed with exit code ${exitCode}`;
      reject(
        new ProcessError({
          command,
          args: [...args],
          exitCode,
          signal,
          stdout,
          stderr,
          durationMs,
          timedOut,
          aborted,
          reason,
        }),
      );
    };
    child.on("error", (err) => finish(null, null, err));
    child.on("close", (code, signal) => finish(code, signal));
  });
}

function abortError(command: string, args: readonly string[]): ProcessError {
  return new ProcessError({
    command,
    args: [...args],
    exitCode: null,
    signal: null,
    stdout: "",
    stderr: "",
    durationMs: 0,
    timedOut: false,
    aborted: true,
    reason: "was cancelled",
  });
}
