import "server-only";
import { CanopyError } from "@/lib/errors";
import { findDaemonForDisk, DISK_EXPORT_ID } from "@/lib/live";
import type { LiveTarget } from "@/lib/live";
import { QmpClient } from "@/lib/qmp";
import { getDb } from "../db";

export interface LiveConnection {
  qmp: QmpClient;
  target?: LiveTarget;
  close(): void;
}

const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Routing: a disk recorded as running is reached through its QMP socket, and every operation then goes
 * through QEMU; a stopped disk gets null, and qemu-img does the work. A daemon of Canopy's own that is gone
 * (killed, machine restarted) releases the files, so the disk is recorded as stopped again and the caller
 * goes on offline; a VM's socket that does not answer is an error, since the VM may still hold the files.
 */
export async function connectLive(disk: string): Promise<LiveConnection | null> {
  const db = getDb();
  const row = await db.disk.findUnique({ where: { name: disk } });
  if (!row?.qmpSocket) return null;
  try {
    const qmp = await QmpClient.connect(row.qmpSocket, { timeoutMs: CONNECT_TIMEOUT_MS });
    return { qmp, target: row.runDir ? { exportId: DISK_EXPORT_ID } : undefined, close: () => qmp.close() };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    if (row.runDir && !(await findDaemonForDisk(row.runDir).catch(() => null))) {
      await db.disk.update({ where: { id: row.id }, data: { status: "stopped", qmpSocket: null, runDir: null } });
      return null;
    }
    throw new CanopyError(
      "failed",
      `disk "${disk}" is recorded as running, but its QMP socket ${row.qmpSocket} does not answer (${why}); nothing was changed. If its VM has stopped, run "canopy stop ${disk}" to record that`,
    );
  }
}
