/**
 * Who started a job, as the disk page says it. Job.requestedBy holds "cli:<shell user>" for the CLI (plain "cli"
 * on rows older than that), "schedule" for the worker's backup schedule, and the dashboard user's name.
 */
export function startedByText(requestedBy: string): string {
  if (requestedBy === "schedule") return "started by the backup schedule";
  if (requestedBy === "cli" || requestedBy.startsWith("cli:")) {
    const user = requestedBy.slice("cli:".length);
    // The CLI records "unknown" when the shell had no USER.
    return user && user !== "unknown" ? `started from the CLI by ${user}` : "started from the CLI";
  }
  return `started by ${requestedBy || "someone unknown"}`;
}
