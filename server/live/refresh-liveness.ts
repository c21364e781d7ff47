import "server-only";
import { findDaemonForDisk } from "@/lib/live";
import { getDb } from "../db";

/**
 * A daemon of Canopy's own can die without Canopy seeing it (killed, machine restarted). The worker checks
 * now and then, so the dashboard does not keep showing such a disk as running.
 */
export async function refreshLiveness(): Promise<string[]> {
  const db = getDb();
  const running = await db.disk.findMany({ where: { runDir: { not: null } } });
  const gone: string[] = [];
  for (const disk of running) {
    if (await findDaemonForDisk(disk.runDir!).catch(() => null)) continue;
    await db.disk.update({ where: { id: disk.id }, data: { status: "stopped", qmpSocket: null, runDir: null } });
    gone.push(disk.name);
  }
  return gone;
}
