import type { CanopyErrorCode } from "@/lib/errors";

/**
 * What every server action returns. Expected errors (refusals, busy disks, bad input) carry their message for
 * the admin; anything unexpected becomes a generic message with an id that can be found in the server log,
 * so internals never reach the browser.
 */
export type ActionResult<T> =
  | { ok: true; data: T }
  | { ok: false; error: { code: CanopyErrorCode | "unauthenticated" | "internal"; message: string; details?: unknown } };
