import net from "node:net";
import { StringDecoder } from "node:string_decoder";
import { Emitter, type Event } from "./emitter";

/**
 * A JSON-lines transport over a unix socket: one JSON value per line in each direction. It knows nothing about
 * QMP (that is client.ts), so the framing can be tested alone with recorded byte streams.
 */

/** A line longer than this is treated as a broken peer rather than buffered forever. */
export const DEFAULT_MAX_LINE_LENGTH = 64 * 1024 * 1024;

export class LineTooLongError extends Error {
  constructor(readonly limit: number) {
    super(`a line exceeded ${limit} characters without a newline`);
    this.name = "LineTooLongError";
  }
}

/**
 * Splits a byte stream into lines. Chunks may end anywhere, even inside a multi-byte UTF-8 character (the
 * StringDecoder keeps the partial bytes). QEMU ends lines with "\r\n"; a bare "\n" is accepted too.
 */
export class LineDecoder {
  private readonly decoder = new StringDecoder("utf8");
  // The unfinished line as pieces, so a long message arriving in many chunks is not re-scanned each time.
  private pieces: string[] = [];
  private partialLength = 0;

  constructor(private readonly maxLineLength = DEFAULT_MAX_LINE_LENGTH) {}

  /** Returns the complete lines in this chunk (without their terminators), keeping any unfinished tail. */
  push(chunk: Buffer | string): string[] {
    const text = typeof chunk === "string" ? chunk : this.decoder.write(chunk);
    const lines: string[] = [];
    let start = 0;
    for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
      this.pieces.push(text.slice(start, nl));
      lines.push(this.takeLine());
      start = nl + 1;
    }
    if (start < text.length) {
      this.pieces.push(text.slice(start));
      this.partialLength += text.length - start;
      if (this.partialLength > this.maxLineLength) throw new LineTooLongError(this.maxLineLength);
    }
    return lines.filter((line) => line !== "");
  }

  /** The unterminated tail at end of stream ("" when the stream ended cleanly on a newline). */
  end(): string {
    this.pieces.push(this.decoder.end());
    return this.takeLine();
  }

  private takeLine(): string {
    const line = this.pieces.join("");
    this.pieces = [];
    this.partialLength = 0;
    return line.endsWith("\r") ? line.slice(0, -1) : line;
  }
}

/** A line that is not JSON. The connection stays open: one bad line does not say the rest are bad. */
export class MessageParseError extends Error {
  constructor(
    readonly line: string,
    cause: unknown,
  ) {
    super(`received a line that is not JSON: ${line.length > 200 ? `${line.slice(0, 200)}...` : line}`, { cause });
    this.name = "MessageParseError";
  }
}

export class TransportClosedError extends Error {
  constructor(message = "the connection is closed") {
    super(message);
    this.name = "TransportClosedError";
  }
}

export interface CloseInfo {
  /** Why it closed when it was not our own close(): a socket error, or a protocol error we closed on. */
  error?: Error;
  /** True when close() was called on this side. */
  byUs: boolean;
}

export interface TransportConnectOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  maxLineLength?: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export class JsonLineTransport {
  private readonly messageEmitter = new Emitter<unknown>();
  private readonly parseErrorEmitter = new Emitter<MessageParseError>();
  private readonly closeEmitter = new Emitter<CloseInfo>();
  private readonly decoder: LineDecoder;
  private closeInfo: CloseInfo | undefined;
  private socketError: Error | undefined;
  private closingByUs = false;

  /** Each parsed JSON value, in arrival order. */
  readonly onMessage: Event<unknown> = this.messageEmitter.event;
  /** A line that could not be parsed (see MessageParseError). */
  readonly onParseError: Event<MessageParseError> = this.parseErrorEmitter.event;
  /** Fired once, after which send() throws. */
  readonly onClose: Event<CloseInfo> = this.closeEmitter.event;

  constructor(
    private readonly socket: net.Socket,
    maxLineLength = DEFAULT_MAX_LINE_LENGTH,
  ) {
    this.decoder = new LineDecoder(maxLineLength);
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("error", (err) => {
      this.socketError ??= err;
    });
    socket.on("close", () => this.finish());
  }

  /** Dials a unix socket. Rejects with the socket error (ENOENT, ECONNREFUSED, ...), a timeout or an abort. */
  static connect(path: string, options: TransportConnectOptions = {}): Promise<JsonLineTransport> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted) {
        reject(abortReason(options.signal));
        return;
      }
      const socket = net.createConnection({ path });
      const cleanup = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        socket.off("error", onError);
        socket.off("connect", onConnect);
      };
      const fail = (err: Error) => {
        cleanup();
        socket.destroy();
        reject(err);
      };
      const onError = (err: Error) => fail(err);
      const onAbort = () => fail(abortReason(options.signal));
      const onConnect = () => {
        cleanup();
        resolve(new JsonLineTransport(socket, options.maxLineLength));
      };
      const timer = setTimeout(
        () => fail(new Error(`connecting to ${path} timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
      socket.once("error", onError);
      socket.once("connect", onConnect);
      options.signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  get closed(): boolean {
    return this.closeInfo !== undefined || this.socket.destroyed;
  }

  /** Writes one message as one line. Throws TransportClosedError once the connection is gone. */
  send(message: unknown): void {
    if (this.closed) throw new TransportClosedError();
    this.socket.write(`${JSON.stringify(message)}\n`);
  }

  close(): void {
    if (this.closed) return;
    this.closingByUs = true;
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    let lines: string[];
    try {
      lines = this.decoder.push(chunk);
    } catch (err) {
      // An endless line means the peer is not speaking JSON lines at all: give up on the connection.
      this.socketError ??= err as Error;
      this.socket.destroy();
      return;
    }
    for (const line of lines) this.deliver(line);
  }

  private deliver(line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch (err) {
      this.parseErrorEmitter.fire(new MessageParseError(line, err));
      return;
    }
    this.messageEmitter.fire(message);
  }

  private finish(): void {
    if (this.closeInfo) return;
    const tail = this.decoder.end();
    // The peer died mid-message: report the fragment, there is nothing to deliver.
    if (tail !== "") this.parseErrorEmitter.fire(new MessageParseError(tail, new Error("connection closed mid-line")));
    this.closeInfo = this.closingByUs ? { byUs: true } : { byUs: false, error: this.socketError };
    this.closeEmitter.fire(this.closeInfo);
    this.messageEmitter.clear();
    this.parseErrorEmitter.clear();
    this.closeEmitter.clear();
  }
}

function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error) return reason;
  const err = new Error("the operation was aborted");
  err.name = "AbortError";
  return err;
}
