import { createHash } from "node:crypto";
import { lstat, readlink, symlink, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { assertRealFolderInside } from "../inventory/paths";
import { mkdirOwnerOnly, tightenToOwner } from "../owner-only";

/**
 * Where a disk's daemon keeps its sockets and records: a run folder chosen by the caller. A unix socket path
 * must fit in sockaddr_un (108 bytes with the terminating NUL), which a run folder deep in a checkout, named
 * after a 128-character disk, easily exceeds. Then the sockets are reached through a short symlink to the run
 * folder under the system temp folder, named by a hash of the folder: the same folder always gets the same
 * link, so a restarted worker finds the sockets again.
 */

/** sockaddr_un.sun_path is 108 bytes, including the NUL. */
const MAX_SOCKET_PATH = 107;

export interface RunPaths {
  runDir: string;
  /** The folder socket paths are built on: runDir itself, or a short symlink to it. */
  socketDir: string;
  /** QMP for the caller (a QMP socket serves one client at a time). */
  qmpSocket: string;
  /** A second QMP monitor, kept free so stop() works while the caller is connected to qmpSocket. */
  controlSocket: string;
  nbdSocket: string;
  pidFile: string;
  /** The daemon's own record (daemon.json): what a restarted worker reads to find it again. */
  stateFile: string;
}

const SOCKET_NAMES = { qmp: "qmp.sock", control: "qmp-ctl.sock", nbd: "nbd.sock" } as const;
const LONGEST_SOCKET_NAME = Math.max(...Object.values(SOCKET_NAMES).map((n) => n.length));

export function shortLinkFor(runDir: string): string {
  const hash = createHash("sha256").update(path.resolve(runDir)).digest("hex").slice(0, 16);
  return path.join(tmpdir(), `canopy-run-${hash}`);
}

function fits(dir: string): boolean {
  return Buffer.byteLength(path.join(dir, "x".repeat(LONGEST_SOCKET_NAME))) <= MAX_SOCKET_PATH;
}

/** Creates the run folder (and the short link when needed) and returns every path in it. */
export async function prepareRunPaths(runDir: string): Promise<RunPaths> {
  const dir = path.resolve(runDir);
  // The sockets control the disk's QEMU and the NBD export is the disk itself: owner-only.
  await mkdirOwnerOnly(dir);
  // The daemon's record and sockets go here: the folder itself must not be a link elsewhere.
  await assertRealFolderInside(path.dirname(dir), dir);
  await tightenToOwner(dir);
  let socketDir = dir;
  if (!fits(dir)) {
    socketDir = shortLinkFor(dir);
    await ensureSymlink(socketDir, dir);
    if (!fits(socketDir)) throw new Error(`no unix socket path short enough for ${dir} (temp folder ${tmpdir()} is too long)`);
  }
  return pathsIn(dir, socketDir);
}

/** The same paths without touching the disk (to find a daemon started earlier). */
export function runPathsOf(runDir: string): RunPaths {
  const dir = path.resolve(runDir);
  return pathsIn(dir, fits(dir) ? dir : shortLinkFor(dir));
}

function pathsIn(runDir: string, socketDir: string): RunPaths {
  return {
    runDir,
    socketDir,
    qmpSocket: path.join(socketDir, SOCKET_NAMES.qmp),
    controlSocket: path.join(socketDir, SOCKET_NAMES.control),
    nbdSocket: path.join(socketDir, SOCKET_NAMES.nbd),
    pidFile: path.join(runDir, "daemon.pid"),
    stateFile: path.join(runDir, "daemon.json"),
  };
}

async function ensureSymlink(link: string, target: string): Promise<void> {
  const existing = await lstat(link).catch(() => undefined);
  if (existing?.isSymbolicLink() && (await readlink(link)) === target) return;
  // A stale link (or anything else) under our own hashed name: replace it.
  if (existing) await unlink(link);
  await symlink(target, link, "dir");
}

/** Removes the short link of a run folder, if one was made. */
export async function removeShortLink(runDir: string): Promise<void> {
  const link = shortLinkFor(path.resolve(runDir));
  const existing = await lstat(link).catch(() => undefined);
  if (existing?.isSymbolicLink()) await unlink(link).catch(() => undefined);
}
