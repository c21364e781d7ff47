import { chmod, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { CanopyError } from "../errors";
import { OWNER_ONLY_FILE } from "../owner-only";
import { ProcessError, run } from "../proc/run";
import { readQcow2Header } from "../qcow2/header";
import { QmpClient } from "../qmp/client";
import { DEFAULT_DAEMON_BINARY } from "../qmp/daemon";
import type { BlockdevOptionsQcow2 } from "../qmp/types";
import { uniqueNodeName } from "./node-names";
import { prepareRunPaths, removeShortLink, runPathsOf, type RunPaths } from "./run-dir";

/**
 * A qemu-storage-daemon that Canopy starts for one disk: it stands in for the VM, holds the active layer open
 * for writing (backing layers read-only, as a VM opens them) and serves it over NBD on a unix socket.
 *
 * It runs with --daemonize, in its own session: a restarted or killed worker must not take the "VM" down with
 * it, and a live job must survive the worker that started it (recover.ts picks it up). So the daemon is found
 * again from its run folder (daemon.json + pid file), not from a child-process handle.
 */

export interface ChainLayer {
  name: string;
  /** Absolute path of the layer's file. */
  file: string;
}

export interface StartDiskDaemonOptions {
  /** Folder for the sockets, the pid file and daemon.json; created if missing. One daemon per folder. */
  runDir: string;
  /** The disk's chain, the ACTIVE layer FIRST and the bottom layer last (as LayerTree.chain(active) lists it). */
  chain: ChainLayer[];
  /** NBD export name; default "vda". */
  exportName?: string;
  /** Bound on start-up. Default 15 s. */
  startTimeoutMs?: number;
  binary?: string;
}

export interface DaemonNode {
  layer: string;
  node: string;
  file: string;
  readOnly: boolean;
}

/** Plain data (it is also what daemon.json holds). */
export interface DiskDaemon {
  pid: number;
  runDir: string;
  qmpSocket: string;
  controlSocket: string;
  nbdSocket: string;
  /** `nbd+unix:///vda?socket=...`, for qemu-io, qemu-img, nbdinfo, or a VM's NBD client. */
  nbdUri: string;
  exportId: string;
  exportName: string;
  /** The chain as opened, the active layer first. */
  nodes: DaemonNode[];
  startedAt: string;
}

export const DISK_EXPORT_ID = "canopy-disk";
const DEFAULT_START_TIMEOUT_MS = 15_000;
const DEFAULT_STOP_TIMEOUT_MS = 5_000;
const EXIT_POLL_MS = 25;

export async function startDaemonForDisk(options: StartDiskDaemonOptions): Promise<DiskDaemon> {
  if (options.chain.length === 0) throw new CanopyError("invalid-input", "a disk daemon needs at least one layer");
  const paths = await prepareRunPaths(options.runDir);
  const running = await findDaemonForDisk(options.runDir);
  if (running) {
    throw new CanopyError("busy", `a qemu-storage-daemon (pid ${running.pid}) already serves ${paths.runDir}`);
  }
  await verifyChain(options.chain);
  await removeLeftovers(paths);

  const taken = new Set<string>();
  const nodes: DaemonNode[] = options.chain.map((layer, i) => {
    const node = uniqueNodeName(layer.name, taken);
    taken.add(node);
    return { layer: layer.name, node, file: path.resolve(layer.file), readOnly: i > 0 };
  });
  const exportName = options.exportName ?? "vda";
  const args = daemonForDiskArgs(paths, nodes, exportName);
  const binary = options.binary ?? DEFAULT_DAEMON_BINARY;
  const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  try {
    // With --daemonize the launcher exits 0 once every node, the export and both monitors are up, or exits 1
    // with QEMU's reason on stderr: no polling for the socket is needed.
    await run(binary, args, { timeoutMs });
  } catch (err) {
    await killIfOurs(paths).catch(() => undefined);
    const reason = err instanceof ProcessError ? err.shortMessage : (err as Error).message;
    throw new CanopyError("failed", `qemu-storage-daemon could not open the disk: ${reason}`);
  }
  const pid = await readPid(paths.pidFile);
  if (pid === undefined) throw new CanopyError("failed", `qemu-storage-daemon started but wrote no pid to ${paths.pidFile}`);
  const daemon: DiskDaemon = {
    pid,
    runDir: paths.runDir,
    qmpSocket: paths.qmpSocket,
    controlSocket: paths.controlSocket,
    nbdSocket: paths.nbdSocket,
    nbdUri: `nbd+unix:///${exportName}?socket=${paths.nbdSocket}`,
    exportId: DISK_EXPORT_ID,
    exportName,
    nodes,
    startedAt: new Date().toISOString(),
  };
  // QEMU made the pid file and the sockets with the process's umask; the run folder is owner-only already,
  // and so is what is in it, should the folder's mode ever be widened.
  await Promise.all(
    [paths.pidFile, paths.qmpSocket, paths.controlSocket, paths.nbdSocket].map((f) => chmod(f, OWNER_ONLY_FILE).catch(() => undefined)),
  );
  // A new file, never written through a link left at its name: no daemon serves this folder, so the old record is stale.
  await rm(paths.stateFile, { force: true });
  await writeFile(paths.stateFile, `${JSON.stringify(daemon, null, 2)}\n`, { mode: OWNER_ONLY_FILE, flag: "wx" });
  return daemon;
}

/** The command line, as an argument array. Blockdevs go bottom first: a backing reference must name an earlier node. */
export function daemonForDiskArgs(paths: RunPaths, nodesTopFirst: DaemonNode[], exportName: string): string[] {
  const args = ["--daemonize", "--pidfile", paths.pidFile];
  const bottomUp = [...nodesTopFirst].reverse();
  bottomUp.forEach((n, i) => {
    const blockdev: BlockdevOptionsQcow2 = {
      driver: "qcow2",
      "node-name": n.node,
      "read-only": n.readOnly,
      file: { driver: "file", filename: n.file },
      // Explicit, so QEMU never resolves a backing string on its own: the nodes are exactly the chain given.
      backing: i === 0 ? null : bottomUp[i - 1]!.node,
    };
    args.push("--blockdev", JSON.stringify(blockdev));
  });
  const active = nodesTopFirst[0]!.node;
  args.push("--nbd-server", JSON.stringify({ addr: { type: "unix", path: paths.nbdSocket } }));
  args.push(
    "--export",
    JSON.stringify({ type: "nbd", id: DISK_EXPORT_ID, "node-name": active, name: exportName, writable: true }),
  );
  // Chardev options are QemuOpts, not JSON: a comma inside a value is written ",,".
  const chardev = (id: string, p: string) => `socket,id=${id},path=${p.replaceAll(",", ",,")},server=on,wait=off`;
  args.push("--chardev", chardev("qmp0", paths.qmpSocket), "--monitor", "chardev=qmp0");
  args.push("--chardev", chardev("ctl0", paths.controlSocket), "--monitor", "chardev=ctl0");
  return args;
}

/** The daemon serving a run folder, if one is alive (read from daemon.json, checked against the process table). */
export async function findDaemonForDisk(runDir: string): Promise<DiskDaemon | null> {
  const paths = runPathsOf(runDir);
  const text = await readFile(paths.stateFile, "utf8").catch(() => undefined);
  if (!text) return null;
  let daemon: DiskDaemon;
  try {
    daemon = JSON.parse(text) as DiskDaemon;
  } catch {
    return null;
  }
  return (await isOurDaemon(daemon.pid, paths.pidFile)) ? daemon : null;
}

export interface StopResult {
  how: "quit" | "killed" | "not-running";
}

/** QMP `quit` on the private monitor, then SIGKILL if it has not exited in time; the run folder is cleaned. */
export async function stopDaemonForDisk(
  daemon: Pick<DiskDaemon, "runDir" | "pid">,
  options: { timeoutMs?: number } = {},
): Promise<StopResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  const paths = runPathsOf(daemon.runDir);
  let how: StopResult["how"] = "not-running";
  if (await isOurDaemon(daemon.pid, paths.pidFile)) {
    const deadline = Date.now() + timeoutMs;
    await quitOverQmp(paths.controlSocket, Math.max(500, timeoutMs / 2));
    if (await waitForExit(daemon.pid, paths.pidFile, deadline)) how = "quit";
    else {
      process.kill(daemon.pid, "SIGKILL");
      await waitForExit(daemon.pid, paths.pidFile, Date.now() + 5_000);
      how = "killed";
    }
  }
  await removeLeftovers(paths);
  await rm(paths.stateFile, { force: true });
  await removeShortLink(paths.runDir);
  return { how };
}

async function quitOverQmp(socket: string, timeoutMs: number): Promise<void> {
  let client: QmpClient | undefined;
  try {
    client = await QmpClient.connect(socket, { timeoutMs, defaultTimeoutMs: timeoutMs });
    // The reply can lose the race with the socket closing; the exit is what counts.
    await client.execute("quit").catch(() => undefined);
  } catch {
    // A frozen or half-dead daemon: the caller falls back to SIGKILL.
  } finally {
    client?.close();
  }
}

/** Every layer's header must name the next one as its backing file, and the last must have none. */
async function verifyChain(chain: ChainLayer[]): Promise<void> {
  for (const [i, layer] of chain.entries()) {
    const header = await readQcow2Header(layer.file).catch((err: Error) => {
      throw new CanopyError("broken-chain", `${layer.name}: ${err.message}`);
    });
    const below = chain[i + 1];
    const backing = header.backingFile ? path.resolve(path.dirname(layer.file), header.backingFile) : null;
    const expected = below ? path.resolve(below.file) : null;
    if (backing !== expected) {
      throw new CanopyError(
        "broken-chain",
        `${layer.name} is backed by ${header.backingFile ?? "nothing"}, but the chain given has ${below?.name ?? "nothing"} below it`,
      );
    }
  }
}

async function readPid(pidFile: string): Promise<number | undefined> {
  const text = await readFile(pidFile, "utf8").catch(() => "");
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * True when `pid` is a live qemu-storage-daemon started with this run folder's pid file: a pid from an old
 * record may have been reused by an unrelated process, which must never be signalled.
 */
export async function isOurDaemon(pid: number, pidFile: string): Promise<boolean> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => undefined);
  if (cmdline === undefined) return false;
  const args = cmdline.split("\0");
  const i = args.indexOf("--pidfile");
  if (i < 0 || args[i + 1] !== pidFile) return false;
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  // A zombie ("Z") has exited; only its parent's wait is missing.
  return !/^\d+ \(.*\) Z/.test(stat);
}

async function waitForExit(pid: number, pidFile: string, deadline: number): Promise<boolean> {
  while (Date.now() < deadline) {
    if (!(await isOurDaemon(pid, pidFile))) return true;
    await new Promise((r) => setTimeout(r, EXIT_POLL_MS));
  }
  return !(await isOurDaemon(pid, pidFile));
}

async function killIfOurs(paths: RunPaths): Promise<void> {
  const pid = await readPid(paths.pidFile);
  if (pid !== undefined && (await isOurDaemon(pid, paths.pidFile))) {
    process.kill(pid, "SIGKILL");
    await waitForExit(pid, paths.pidFile, Date.now() + 5_000);
  }
}

/** Sockets and the pid file of a daemon that is gone (QEMU leaves its sockets behind when killed). */
async function removeLeftovers(paths: RunPaths): Promise<void> {
  await Promise.all(
    [paths.qmpSocket, paths.controlSocket, paths.nbdSocket, paths.pidFile].map((p) => rm(p, { force: true })),
  );
}
