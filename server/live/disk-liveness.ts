import "server-only";
import { realpath } from "node:fs/promises";
import path from "node:path";
import { CanopyError } from "@/lib/errors";
import { tightenToOwner } from "@/lib/owner-only";
import { findDaemonForDisk, inspectLive, nodeNamed, startDaemonForDisk, stopDaemonForDisk } from "@/lib/live";
import { QmpClient } from "@/lib/qmp";
import { LayerTree } from "@/lib/tree/model";
import { requireHealthy } from "@/lib/ops/checks";
import { getDb } from "../db";
import { loadConfig } from "../config";
import { loadDiskState } from "../ops/disk-state";
import { recordAuditEvent } from "../audit-events";
import { refuseIfDiskHeld } from "../jobs/disk-holder";

/** Starting, stopping and attaching the process that holds a disk open. */

async function audit(disk: string, actor: string, action: string, detail: Record<string, unknown>) {
  const row = await getDb().disk.findUnique({ where: { name: disk } });
  await recordAuditEvent({ actor, action, diskId: row?.id ?? null, detail });
}

async function requireIdle(disk: string) {
  await refuseIfDiskHeld(disk);
  return getDb().disk.findUniqueOrThrow({ where: { name: disk } });
}

/** Starts a qemu-storage-daemon that holds the disk's active layer and serves it over NBD (a stand-in VM). */
export async function startDisk(disk: string, actor: string) {
  const { storageRoot, runRoot } = loadConfig();
  const state = await loadDiskState(disk);
  const row = await requireIdle(disk);
  if (row.qmpSocket) throw new CanopyError("invalid-input", `disk "${disk}" is already running (QMP socket ${row.qmpSocket})`);
  if (!state.active) throw new CanopyError("invalid-input", `disk "${disk}" has no active layer to start`);
  requireHealthy(state, [state.active]);
  const chain = new LayerTree(state.layers).chain(state.active).map((l) => ({ name: l.name, file: path.join(storageRoot, l.file) }));
  const runDir = path.join(runRoot, disk);
  await tightenToOwner(runRoot); // a run root made before run folders were owner-only
  const daemon = await startDaemonForDisk({ runDir, chain });
  await getDb().disk.update({ where: { name: disk }, data: { status: "running", qmpSocket: daemon.qmpSocket, runDir } });
  await audit(disk, actor, "start", { pid: daemon.pid, nbdUri: daemon.nbdUri, active: state.active });
  return { disk, status: "running" as const, pid: daemon.pid, qmpSocket: daemon.qmpSocket, nbdUri: daemon.nbdUri };
}

/** Stops Canopy's own daemon, or, for an attached VM, only forgets its socket (the VM is not Canopy's to stop). */
export async function stopDisk(disk: string, actor: string) {
  const row = await requireIdle(disk);
  if (!row.qmpSocket) throw new CanopyError("invalid-input", `disk "${disk}" is not running`);
  let how = "detached";
  if (row.runDir) {
    const daemon = await findDaemonForDisk(row.runDir);
    how = daemon ? (await stopDaemonForDisk(daemon)).how : "not-running";
  }
  await getDb().disk.update({ where: { id: row.id }, data: { status: "stopped", qmpSocket: null, runDir: null } });
  await audit(disk, actor, "stop", { how });
  return { disk, status: "stopped" as const, how };
}

/** Records the QMP socket of a VM started elsewhere, after checking that it really holds this disk's active layer. */
export async function attachDisk(disk: string, socket: string, actor: string) {
  if (!socket) throw new CanopyError("invalid-input", "give the VM's QMP socket: canopy attach <disk> --qmp <socket>");
  const { storageRoot } = loadConfig();
  const state = await loadDiskState(disk);
  const row = await requireIdle(disk);
  if (row.qmpSocket) throw new CanopyError("invalid-input", `disk "${disk}" is already running (QMP socket ${row.qmpSocket})`);
  const active = state.layers.find((l) => l.name === state.active);
  if (!active) throw new CanopyError("invalid-input", `disk "${disk}" has no active layer`);
  const qmp = await QmpClient.connect(path.resolve(socket), { timeoutMs: 5_000 }).catch((err: unknown) => {
    throw new CanopyError("failed", `cannot connect to ${socket}: ${err instanceof Error ? err.message : String(err)}`);
  });
  try {
    const view = await inspectLive(qmp);
    const want = await realpath(path.join(storageRoot, active.file));
    const activeNode = view.active ? nodeNamed(view, view.active) : undefined;
    const held = activeNode ? await realpath(activeNode.file).catch(() => activeNode.file) : null;
    if (held !== want) {
      throw new CanopyError(
        "refused",
        `the process at ${socket} writes to ${held ?? "no image"}, not to ${disk}'s active layer ${active.name} (${want}); not attached`,
      );
    }
  } finally {
    qmp.close();
  }
  await getDb().disk.update({ where: { name: disk }, data: { status: "running", qmpSocket: path.resolve(socket), runDir: null } });
  await audit(disk, actor, "attach", { socket: path.resolve(socket) });
  return { disk, status: "running" as const, qmpSocket: path.resolve(socket) };
}
