import "server-only";
import type { Plan } from "@/lib/ops/types";
import { getDb } from "./db";

/**
 * The audit log: one event per finished job (written by server/jobs/run-job.ts with its plan), and one per
 * login, failed login (see server/auth/log-in.ts), logout and cancel request from the dashboard.
 */

export interface AuditEventView {
  id: string;
  createdAt: string;
  actor: string;
  /** An operation ("merge-down", ...), or "login", "login-failed", "logout", "cancel". */
  action: string;
  disk: string | null;
  /** How the job ended, for operation events. */
  outcome: string | null;
  summary: string | null;
  error: string | null;
  jobId: string | null;
  plan: Plan | null;
  /** Anything else the event recorded (e.g. the client address of a login). */
  extra: Record<string, unknown>;
}

export async function recordAuditEvent(event: {
  actor: string;
  action: string;
  diskId?: string | null;
  detail: Record<string, unknown>;
}): Promise<void> {
  await getDb().auditEvent.create({
    data: { actor: event.actor, action: event.action, diskId: event.diskId ?? null, detail: JSON.stringify(event.detail) },
  });
}

export async function listAuditEvents({ limit }: { limit: number }): Promise<AuditEventView[]> {
  const rows = await getDb().auditEvent.findMany({
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: limit,
    include: { disk: { select: { name: true } } },
  });
  return rows.map((row) => {
    const { jobId, outcome, error, summary, plan, disk, ...extra } = parseDetail(row.detail);
    const planView = isPlan(plan) ? plan : null;
    return {
      id: row.id,
      createdAt: row.createdAt.toISOString(),
      actor: row.actor,
      action: row.action,
      disk: row.disk?.name ?? planView?.disk ?? str(disk),
      outcome: str(outcome),
      summary: str(summary) ?? planView?.summary ?? null,
      error: str(error),
      jobId: str(jobId),
      plan: planView,
      extra,
    };
  });
}

function parseDetail(json: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(json);
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function str(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

function isPlan(value: unknown): value is Plan {
  return !!value && typeof value === "object" && Array.isArray((value as Plan).steps) && typeof (value as Plan).summary === "string";
}
