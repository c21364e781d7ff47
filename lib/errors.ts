/**
 * An error Canopy expects and explains: a refused operation, an unknown disk, a busy disk. Its message is
 * written for the admin and is safe to show as-is; anything else that is thrown is an internal error whose
 * details stay in the logs.
 */
export type CanopyErrorCode =
  | "invalid-input"
  | "not-found"
  | "refused"
  | "busy"
  | "broken-chain"
  | "outside-root"
  | "failed"
  /** The database is not Canopy's, or not up to date: the message names the command that sets it up. */
  | "not-set-up";

export class CanopyError extends Error {
  constructor(
    readonly code: CanopyErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "CanopyError";
  }
}

export function isCanopyError(err: unknown): err is CanopyError {
  return err instanceof CanopyError;
}

/**
 * User input as an error message quotes it: at most `max` characters, so a name of a megabyte is not sent back
 * whole (to the terminal, the browser, the logs and the audit).
 */
export function shownInput(text: string, max = 40): string {
  return text.length <= max ? `"${text}"` : `"${text.slice(0, max)}…"`;
}
