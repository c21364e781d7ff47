import os from "node:os";

/**
 * Who runs this CLI, as jobs and the audit log record it: "cli:<user>". $USER is unset under cron, systemd
 * and `su -c`, so the process's own account is asked next; "unknown" only if even that fails.
 */
export function cliActor(): string {
  return `cli:${process.env.USER || accountName() || "unknown"}`;
}

function accountName(): string | null {
  try {
    return os.userInfo().username || null;
  } catch {
    return null; // a uid with no passwd entry (some containers)
  }
}
