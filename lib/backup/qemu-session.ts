import { mkdtemp, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { CanopyError } from "../errors";
import { QmpClient } from "../qmp/client";
import { StorageDaemon } from "../qmp/daemon";
import type { BlockDeviceInfo } from "../qmp/types";
import type { BackupLayer } from "./types";

/**
 * Where a backup's block job runs. A running disk: in its own QEMU, through the caller's QMP client (never
 * closed here). A stopped disk: in a qemu-storage-daemon started for the job alone, with the backing layers
 * read-only and the active layer writable (its persistent bitmap is written), quit cleanly at the end so QEMU
 * stores the bitmaps (a killed daemon leaves them "in use", i.e. unusable).
 */

export interface QemuSession {
  client: QmpClient;
  /** Node name of every layer of the active chain. */
  nodeOf(layer: string): string;
  /** True when this is the disk's own QEMU (the guest may be writing). */
  running: boolean;
  /** Ends the session; for a job daemon, a clean quit. Returns what went wrong, if anything. */
  close(): Promise<string | null>;
}

/** The active chain, top first, as the caller's layers describe it. */
export function activeChain(layers: readonly BackupLayer[], active: string): BackupLayer[] {
  const byName = new Map(layers.map((l) => [l.name, l]));
  const chain: BackupLayer[] = [];
  for (let name: string | null = active; name !== null; ) {
    const layer = byName.get(name);
    if (!layer) throw new CanopyError("invalid-input", `layer ${name} (in the chain of ${active}) is not among the disk's layers`);
    if (chain.includes(layer)) throw new CanopyError("broken-chain", `the chain of ${active} loops through ${name}`);
    chain.push(layer);
    name = layer.parent;
  }
  return chain;
}

export async function attachToRunningQemu(
  client: QmpClient,
  chain: readonly BackupLayer[],
  nodeNames: Readonly<Record<string, string>> = {},
): Promise<QemuSession> {
  const nodes = await client.execute("query-named-block-nodes", { flat: true });
  const found = new Map<string, string>();
  for (const layer of chain) {
    const given = nodeNames[layer.name];
    const node = given ?? (await nodeForFile(nodes, layer.file));
    if (!node) {
      throw new CanopyError("failed", `layer ${layer.name} (${layer.file}) is not open in the running QEMU`);
    }
    found.set(layer.name, node);
  }
  return {
    client,
    running: true,
    nodeOf: (layer) => lookup(found, layer),
    close: async () => null,
  };
}

/** A qcow2 node whose image is this file (QEMU keeps the path as it was given: compare real paths). */
async function nodeForFile(nodes: BlockDeviceInfo[], file: string): Promise<string | undefined> {
  const want = await realpath(file);
  for (const node of nodes) {
    const image = node.drv === "qcow2" ? imagePath(node.file) : null;
    if (!image || !node["node-name"]) continue;
    const have = await realpath(image).catch(() => null);
    if (have === want) return node["node-name"];
  }
  return undefined;
}

/**
 * A node opened with its backing given as another node has no plain file name: QEMU describes it as
 * `json:{"driver":"qcow2","file":{"driver":"file","filename":...},"backing":...}`; the image is `file.filename`.
 */
function imagePath(filename: string): string | null {
  if (!filename.startsWith("json:")) return filename;
  try {
    const spec = JSON.parse(filename.slice("json:".length)) as { file?: { driver?: string; filename?: unknown } };
    return spec.file?.driver === "file" && typeof spec.file.filename === "string" ? spec.file.filename : null;
  } catch {
    return null;
  }
}

/** Unix socket paths are limited to 107 bytes; a deep run folder falls back to a short temporary one. */
const MAX_SOCKET_PATH = 100;

export async function startJobDaemon(chain: readonly BackupLayer[], runDir: string, id: string): Promise<QemuSession> {
  let socketDir = runDir;
  let ownSocketDir = false;
  if (path.join(runDir, `${id}.qmp.ctl`).length > MAX_SOCKET_PATH) {
    socketDir = await mkdtemp(path.join(tmpdir(), "canopy-"));
    ownSocketDir = true;
  }
  const bottomUp = [...chain].reverse();
  const nodes = new Map(bottomUp.map((layer, i) => [layer.name, `layer${i}`]));
  const daemon = await StorageDaemon.start({
    qmpSocket: path.join(socketDir, `${id}.qmp`),
    blockdevs: bottomUp.map((layer, i) => ({
      nodeName: `layer${i}`,
      file: layer.file,
      backing: i === 0 ? null : `layer${i - 1}`,
      readOnly: i < bottomUp.length - 1,
    })),
  }).catch(async (err: Error) => {
    if (ownSocketDir) await rm(socketDir, { recursive: true, force: true });
    const locked = /lock/i.test(err.message);
    throw new CanopyError(
      locked ? "busy" : "failed",
      locked
        ? `the disk is open in another process (a running VM?): back it up through that QEMU's QMP socket (${err.message})`
        : `could not start qemu-storage-daemon for the backup: ${err.message}`,
    );
  });
  let client: QmpClient;
  try {
    client = await QmpClient.connect(daemon.qmpSocket, { timeoutMs: 10_000 });
  } catch (err) {
    await daemon.stop();
    if (ownSocketDir) await rm(socketDir, { recursive: true, force: true });
    throw err;
  }
  return {
    client,
    running: false,
    nodeOf: (layer) => lookup(nodes, layer),
    close: async () => {
      client.close();
      const exit = await daemon.stop(30_000);
      if (ownSocketDir) await rm(socketDir, { recursive: true, force: true });
      await rm(daemon.qmpSocket, { force: true });
      await rm(`${daemon.qmpSocket}.ctl`, { force: true });
      if (exit.code === 0) return null;
      return `qemu-storage-daemon ended with ${exit.signal ?? `exit code ${exit.code}`}; its bitmaps may not have been stored (the next backup is then full)`;
    },
  };
}

function lookup(nodes: ReadonlyMap<string, string>, layer: string): string {
  const node = nodes.get(layer);
  if (!node) throw new Error(`no QEMU node for layer ${layer}`);
  return node;
}
