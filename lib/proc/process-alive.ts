import { readFileSync } from "node:fs";

/**
 * Whether a process still runs. `kill -0` alone also answers yes for a zombie: a killed CLI's child, orphaned
 * by the same kill, stays one until init reaps it (seen up to two seconds here), and a job or lock it held would
 * look owned all that time. So a process whose state in /proc is Z (zombie) or X (dead) counts as gone.
 */
export function processAlive(pid: number | null | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    // "pid (comm) S ...": the state follows the last ")", since comm may itself hold one.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
  } catch {
    return true; // no /proc to ask: kill -0 said it exists
  }
}
