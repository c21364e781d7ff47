import { spawn, type ChildProcess } from "node:child_process";
import { QmpClient } from "./client";
import type { BlockdevOptionsQcow2, BlockdevOptionsRaw } from "./types";

/**
 * A qemu-storage-daemon standing in for a running VM (tests, the demo): it opens the given layers as block
 * nodes, serves QMP on a unix socket and can export the top node over NBD so a "guest" can write.
 *
 * The daemon gets a second, private QMP monitor (`<qmpSocket>.ctl`): a QMP socket serves one client at a time,
 * so stop() must not depend on the caller's connection. The QMP chardevs come last on the command line; QEMU
 * processes options in order, so once the private monitor greets, every node and export before it is open.
 */

export const DEFAULT_DAEMON_BINARY = process.env.CANOPY_QEMU_STORAGE_DAEMON ?? "qemu-storage-daemon";
const DEFAULT_START_TIMEOUT_MS = 10_000;
const DEFAULT_STOP_TIMEOUT_MS = 5_000;
const MAX_OUTPUT = 64 * 1024;

export interface DaemonBlockdev {
  nodeName: string;
  /** Image path; absolute, or relative to `cwd`. */
  file: string;
  /** Node name of the backing layer (listed earlier), or null to open this layer alone. */
  backing: string | null;
  readOnly?: boolean;
  /** Default qcow2. A raw node has no backing. */
  format?: "qcow2" | "raw";
}

export interface DaemonNbdExport {
  /** Unix socket path for the NBD server. */
  socket: string;
  /** Node to export; default: the last blockdev (the top). */
  nodeName?: string;
  /** NBD export name; default "vda". */
  name?: string;
  /** Default true: the export is where the stand-in guest writes. */
  writable?: boolean;
}

export interface StartDaemonOptions {
  qmpSocket: string;
  blockdevs: DaemonBlockdev[];
  nbd?: DaemonNbdExport;
  /** Bound on start-up (process spawned to QMP answering). Default 10 s. */
  startTimeoutMs?: number;
  cwd?: string;
  binary?: string;
}

export interface DaemonExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class DaemonStartError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(stderr.trim() ? `${message}: ${stderr.trim()}` : message);
    this.name = "DaemonStartError";
  }
}

/** The daemon's command line, as an argument array (never through a shell). */
export function daemonArgs(options: StartDaemonOptions): string[] {
  const args: string[] = [];
  for (const dev of options.blockdevs) args.push("--blockdev", JSON.stringify(blockdevJson(dev)));
  if (options.nbd) {
    const nodeName = options.nbd.nodeName ?? options.blockdevs.at(-1)?.nodeName;
    if (!nodeName) throw new Error("an NBD export needs a node: no blockdevs given");
    args.push("--nbd-server", JSON.stringify({ addr: { type: "unix", path: options.nbd.socket } }));
    args.push(
      "--export",
      JSON.stringify({
        type: "nbd",
        id: "export0",
        "node-name": nodeName,
        name: options.nbd.name ?? "vda",
        writable: options.nbd.writable ?? true,
      }),
    );
  }
  // Chardev options are QemuOpts, not JSON: a comma inside a value is written as ",,".
  const chardev = (id: string, path: string) => `socket,id=${id},path=${path.replaceAll(",", ",,")},server=on,wait=off`;
  args.push("--chardev", chardev("qmp0", options.qmpSocket), "--monitor", "chardev=qmp0");
  args.push("--chardev", chardev("ctl0", controlSocketPath(options.qmpSocket)), "--monitor", "chardev=ctl0");
  return args;
}

function blockdevJson(dev: DaemonBlockdev): BlockdevOptionsQcow2 | BlockdevOptionsRaw {
  const file = { driver: "file" as const, filename: dev.file };
  const common = { "node-name": dev.nodeName, "read-only": dev.readOnly ?? false, file };
  if (dev.format === "raw") return { driver: "raw", ...common };
  return { driver: "qcow2", ...common, backing: dev.backing };
}

export function controlSocketPath(qmpSocket: string): string {
  return `${qmpSocket}.ctl`;
}

// A test runner that dies must not leave daemons behind holding image locks: one exit hook kills them all.
const liveDaemons = new Set<ChildProcess>();
let exitHookInstalled = false;
function trackUntilExit(child: ChildProcess): void {
  liveDaemons.add(child);
  child.once("exit", () => liveDaemons.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const c of liveDaemons) c.kill("SIGKILL");
  });
}

export class StorageDaemon {
  private output = "";
  private exitInfo: DaemonExit | undefined;
  private control: QmpClient | undefined;
  /** Settles when the process has exited and its output is read (never rejects). */
  readonly exited: Promise<DaemonExit>;

  private constructor(
    private readonly child: ChildProcess,
    readonly pid: number,
    readonly qmpSocket: string,
    readonly nbdSocket: string | undefined,
    readonly nbdName: string | undefined,
  ) {
    const capture = (chunk: Buffer) => {
      if (this.output.length < MAX_OUTPUT) this.output += chunk.toString("utf8");
    };
    // After a successful spawn, 'error' only reports a failed kill(); without a listener it would throw.
    child.on("error", () => undefined);
    child.stdout?.on("data", capture);
    child.stderr?.on("data", capture);
    this.exited = new Promise((resolve) => {
      // 'close', not 'exit': it comes after stdout/stderr are drained, so a start error quotes all of stderr.
      child.once("close", (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
    trackUntilExit(child);
  }

  /** Spawns the daemon and waits until its QMP answers; on failure the daemon is killed and its stderr quoted. */
  static async start(options: StartDaemonOptions): Promise<StorageDaemon> {
    const binary = options.binary ?? DEFAULT_DAEMON_BINARY;
    const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    const child = spawn(binary, daemonArgs(options), {
      cwd: options.cwd,
      stdio: ["ignore", "pipe", "pipe"],
      detached: false,
    });
    const spawned = await new Promise<Error | undefined>((resolve) => {
      child.once("spawn", () => resolve(undefined));
      child.once("error", (err) => resolve(err));
    });
    if (spawned || child.pid === undefined) {
      throw new DaemonStartError(`${binary} could not be started (${spawned?.message ?? "no pid"})`, "");
    }
    const daemon = new StorageDaemon(
      child,
      child.pid,
      options.qmpSocket,
      options.nbd?.socket,
      options.nbd ? (options.nbd.name ?? "vda") : undefined,
    );
    await daemon.waitUntilServing(timeoutMs);
    return daemon;
  }

  /** Everything the daemon wrote to stdout and stderr (the first 64 KiB). */
  get stderr(): string {
    return this.output;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** `nbd+unix:///vda?socket=...`, for qemu-io / qemu-img / nbdinfo. */
  get nbdUri(): string | undefined {
    return this.nbdSocket && this.nbdName ? `nbd+unix:///${this.nbdName}?socket=${this.nbdSocket}` : undefined;
  }

  /** QMP `quit` on the private monitor, then SIGKILL if the process has not exited within timeoutMs. */
  async stop(timeoutMs = DEFAULT_STOP_TIMEOUT_MS): Promise<DaemonExit> {
    if (this.exitInfo) return this.exitInfo;
    // One deadline for the whole stop, so a frozen daemon costs timeoutMs, not twice that.
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    try {
      const control = this.control;
      if (control && !control.closed) {
        // The reply may lose the race with the socket closing; either way the exit is what counts.
        await control.execute("quit", {}, { timeoutMs }).catch(() => undefined);
      }
      return await this.exited;
    } finally {
      clearTimeout(timer);
      this.control?.close();
    }
  }

  /** Sends a signal (default SIGKILL: a crash) and waits for the exit. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<DaemonExit> {
    if (this.exitInfo) return this.exitInfo;
    this.child.kill(signal);
    const exit = await this.exited;
    this.control?.close();
    return exit;
  }

  private async waitUntilServing(timeoutMs: number): Promise<void> {
    const abort = new AbortController();
    const early = this.exited.then((exit) => {
      abort.abort();
      throw new DaemonStartError(
        `qemu-storage-daemon exited (${exit.signal ?? `code ${exit.code}`}) before its QMP socket was ready`,
        this.output,
      );
    });
    try {
      this.control = await Promise.race([
        QmpClient.connect(controlSocketPath(this.qmpSocket), {
          timeoutMs,
          waitForSocket: true,
          signal: abort.signal,
        }),
        early,
      ]);
    } catch (err) {
      this.child.kill("SIGKILL");
      await this.exited;
      if (err instanceof DaemonStartError) throw err;
      throw new DaemonStartError(
        `qemu-storage-daemon did not answer on QMP within ${timeoutMs} ms (${(err as Error).message})`,
        this.output,
      );
    } finally {
      early.catch(() => undefined);
    }
  }
}

/** Same as StorageDaemon.start. */
export function startStorageDaemon(options: StartDaemonOptions): Promise<StorageDaemon> {
  return StorageDaemon.start(options);
}
