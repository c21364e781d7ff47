import type { CanopyErrorCode } from "@/lib/errors";

/**
 * What every server action returns. Expected errors (refusals, busy disks, bad input) carry their message for
 * the admin; anything unexpected becomes a generic message with an id that can be found in the server log,
 * so internals never reach the browser.
 */
export type ActionResult<T> =
  | { ok: true; data: T }
  | { ok: false; error: { code: CanopyErrorCode | "unauthenticated" | "internal"; message: string; details?: unknown } };

/** A job as pages show it: plain data, numbers not BigInts. */
export interface JobView {
  id: string;
  disk: string | null;
  kind: string;
  state: "queued" | "running" | "succeeded" | "failed" | "cancelled";
  stage: string | null;
  progressDone: number;
  progressTotal: number;
  requestedBy: string;
  cancelRequested: boolean;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  error: string | null;
  summary: string | null;
}

export const TERMINAL_JOB_STATES = ["succeeded", "failed", "cancelled"] as const;
