import { CanopyError } from "../errors";

/**
 * Errors of the live side. Refusals and failures are CanopyErrors (their messages are written for the admin);
 * a cancelled step is its own class, named "AbortError" like every other cancellation, so the job runner can
 * tell "stopped as asked" from "failed".
 */

export class LiveStepCancelled extends Error {
  constructor(
    readonly what: string,
    /** What the files hold now, for the job's record (a cancelled commit leaves part of the data in the base). */
    readonly state: string,
  ) {
    super(`${what} was cancelled; ${state}`);
    this.name = "AbortError";
  }
}

/** The QMP connection went away mid-step: the QEMU process exited or was killed, or the connection was dropped. */
export class LiveConnectionLost extends CanopyError {
  constructor(
    message: string,
    /** True when the QMP socket no longer answers at all: the process is gone, not just our connection. */
    readonly processGone: boolean,
  ) {
    super("failed", message, { processGone });
    this.name = "LiveConnectionLost";
  }
}

export function refused(message: string, dependents: string[] = []): CanopyError {
  return new CanopyError("refused", message, { dependents });
}

/** Before anything changes: a step cancelled before it started did nothing. */
export function throwIfCancelled(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new LiveStepCancelled(what, "nothing was changed");
}
