/**
 * The ways a QMP call can end without a reply value. Each names the command so that a log line alone says what
 * was being attempted.
 */

/** QEMU answered with an error. `class` and `desc` are QEMU's own; `desc` is what a person should read. */
export class QmpError extends Error {
  /** QEMU's error class: GenericError, CommandNotFound, DeviceNotFound, DeviceNotActive, KVMMissingCap. */
  readonly class: string;
  readonly desc: string;
  readonly command: string;

  constructor(command: string, errorClass: string, desc: string) {
    super(`${command}: ${desc}`);
    this.name = "QmpError";
    this.class = errorClass;
    this.desc = desc;
    this.command = command;
  }
}

/**
 * No reply in time. QMP cannot take a command back: QEMU may still carry it out later, and its late reply is
 * dropped. Callers that changed state (blockdev-add, job starts) should re-query before retrying.
 */
export class QmpTimeoutError extends Error {
  constructor(
    readonly command: string,
    readonly timeoutMs: number,
  ) {
    super(`${command}: no reply from QEMU within ${timeoutMs} ms`);
    this.name = "QmpTimeoutError";
  }
}

/** The caller's AbortSignal fired. As with a timeout, only the waiting stops; QEMU may still run the command. */
export class QmpAbortError extends Error {
  constructor(
    readonly command: string,
    cause?: unknown,
  ) {
    super(`${command}: cancelled before QEMU replied`, { cause });
    // The conventional name, so generic `err.name === "AbortError"` checks work.
    this.name = "AbortError";
  }
}

/** The connection is gone (or was never there): the daemon exited, was killed, or close() was called. */
export class QmpClosedError extends Error {
  constructor(
    message: string,
    readonly command?: string,
    cause?: unknown,
  ) {
    super(message, { cause });
    this.name = "QmpClosedError";
  }
}

/** Connecting or the greeting/capabilities handshake failed. */
export class QmpConnectError extends Error {
  constructor(
    readonly socketPath: string,
    message: string,
    cause?: unknown,
  ) {
    super(`QMP ${socketPath}: ${message}`, { cause });
    this.name = "QmpConnectError";
  }
}
