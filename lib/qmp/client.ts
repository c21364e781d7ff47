import { Emitter, type Disposable } from "./emitter";
import { QmpAbortError, QmpClosedError, QmpConnectError, QmpError, QmpTimeoutError } from "./errors";
import { QmpEventHub, type EventStreamOptions, type WaitForEventOptions } from "./events";
import { JsonLineTransport, type CloseInfo } from "./transport";
import type {
  QmpArgs,
  QmpCommandName,
  QmpEvent,
  QmpEventName,
  QmpGreeting,
  QmpReturn,
  RawQmpEvent,
} from "./types";

/**
 * A QMP client over a unix socket. Every command carries an `id` that QEMU echoes back, so concurrent calls are
 * matched to their replies whatever the order; every call has a timeout and can be aborted. A QMP socket serves
 * one client at a time: a second connection is accepted by the kernel but gets no greeting until the first
 * leaves, which shows here as a handshake timeout.
 *
 * Longer than 300 lines: the handshake, id matching, timeouts, aborts and the event stream are one connection's
 * state.
 */

export const DEFAULT_CALL_TIMEOUT_MS = 30_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/**
 * Waiting for a socket that is about to appear (a daemon just started): the first retries come quickly, since a
 * qemu-storage-daemon opens its sockets within milliseconds, then back off to 50 ms between tries.
 */
const DIAL_RETRY_FIRST_MS = 2;
const DIAL_RETRY_MAX_MS = 50;

export interface QmpCallOptions {
  /** Default: the client's defaultTimeoutMs (30 s unless set at connect). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface QmpConnectOptions {
  /** Bound on dialling plus the greeting and capabilities handshake. Default 10 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Keep re-dialling while the socket is missing or refuses (a daemon still starting, or restarting), until
   * timeoutMs. Default false: a wrong path fails at once.
   */
  waitForSocket?: boolean;
  /** Timeout for calls and event waits that do not give their own. */
  defaultTimeoutMs?: number;
}

export type QmpReconnectOptions = Omit<QmpConnectOptions, "defaultTimeoutMs">;

/** `execute`'s parameters after the command: args are optional when the command has no required member. */
export type ExecuteParams<C extends QmpCommandName> =
  {} extends QmpArgs<C>
    ? [args?: QmpArgs<C>, options?: QmpCallOptions]
    : [args: QmpArgs<C>, options?: QmpCallOptions];

interface PendingCall {
  command: string;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

export class QmpClient {
  private transport: JsonLineTransport | undefined;
  /** False from dialling until qmp_capabilities succeeded: QEMU refuses other commands before that. */
  private negotiated = false;
  private greetingValue: QmpGreeting | undefined;
  private onGreeting: ((greeting: QmpGreeting) => void) | undefined;
  private readonly pending = new Map<number, PendingCall>();
  private nextId = 1;
  private readonly hub: QmpEventHub;
  private readonly closeEmitter = new Emitter<QmpClosedError>();
  private opening: Promise<void> | undefined;

  private constructor(
    readonly socketPath: string,
    readonly defaultTimeoutMs: number,
  ) {
    this.hub = new QmpEventHub(defaultTimeoutMs);
  }

  /** Dials, reads the greeting and negotiates capabilities. Rejects with QmpConnectError. */
  static async connect(socketPath: string, options: QmpConnectOptions = {}): Promise<QmpClient> {
    const client = new QmpClient(socketPath, options.defaultTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS);
    await client.open(options);
    return client;
  }

  /** What QEMU said on connecting (its version); from the latest connection. */
  get greeting(): QmpGreeting {
    if (!this.greetingValue) throw new QmpClosedError(`QMP ${this.socketPath}: not connected`);
    return this.greetingValue;
  }

  /** True unless a connection is open and negotiated (so also true while connecting or reconnecting). */
  get closed(): boolean {
    return !this.negotiated || this.transport === undefined || this.transport.closed;
  }

  execute<C extends QmpCommandName>(command: C, ...[args, options]: ExecuteParams<C>): Promise<QmpReturn<C>> {
    return this.executeRaw(command, args, options) as Promise<QmpReturn<C>>;
  }

  /** Any command, untyped: for what QmpCommands does not list. */
  executeRaw(command: string, args?: object, options: QmpCallOptions = {}): Promise<unknown> {
    return this.call(command, args, options, false);
  }

  private call(command: string, args: object | undefined, options: QmpCallOptions, handshake: boolean): Promise<unknown> {
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    const signal = options.signal;
    return new Promise((resolve, reject) => {
      const transport = this.transport;
      if (!transport || transport.closed || (!this.negotiated && !handshake)) {
        reject(new QmpClosedError(`${command}: QMP ${this.socketPath} is not connected`, command));
        return;
      }
      if (signal?.aborted) {
        reject(new QmpAbortError(command, signal.reason));
        return;
      }
      const id = this.nextId++;
      const done = () => {
        this.pending.delete(id);
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      // A late reply for a call that timed out or was aborted finds no entry and is dropped.
      const onAbort = () => {
        done();
        reject(new QmpAbortError(command, signal?.reason));
      };
      const timer = setTimeout(() => {
        done();
        reject(new QmpTimeoutError(command, timeoutMs));
      }, timeoutMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.pending.set(id, {
        command,
        resolve: (value) => {
          done();
          resolve(value);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      });
      try {
        transport.send(args === undefined ? { execute: command, id } : { execute: command, arguments: args, id });
      } catch (err) {
        // Arguments that do not serialise (a BigInt, a cycle): nothing was sent.
        this.pending.get(id)?.reject(err as Error);
      }
    });
  }

  /** Typed listener for one event; survives reconnects. */
  on<E extends QmpEventName>(name: E, handler: (event: QmpEvent<E>) => void): Disposable {
    return this.hub.on(name, handler);
  }

  onAnyEvent(handler: (event: RawQmpEvent) => void): Disposable {
    return this.hub.onAny(handler);
  }

  /** Called when a connection ends for any reason, including close(). */
  onClose(handler: (error: QmpClosedError) => void): Disposable {
    return this.closeEmitter.event(handler);
  }

  /** See QmpEventHub.waitFor: subscribe before sending the command that causes the event. */
  waitForEvent<E extends QmpEventName>(
    name: E,
    predicate?: (event: QmpEvent<E>) => boolean,
    options?: WaitForEventOptions,
  ): Promise<QmpEvent<E>> {
    return this.hub.waitFor(name, predicate, options);
  }

  /** Events as an async iterator. It ends on close(), and throws QmpClosedError when the connection drops. */
  events(options?: EventStreamOptions): AsyncIterableIterator<QmpEvent> {
    return this.hub.stream(options);
  }

  /** Closes the connection; pending calls reject with QmpClosedError. The client can reconnect() later. */
  close(): void {
    const transport = this.transport;
    if (!transport) return;
    this.detach(transport, { byUs: true });
    transport.close();
  }

  /**
   * Dials the same socket again and redoes the handshake, closing the current connection first if it is still
   * open. Events QEMU sent while disconnected are lost: after reconnecting, re-read state (query-jobs,
   * query-named-block-nodes) instead of assuming. Listeners added with on()/onAnyEvent()/onClose() are kept.
   */
  reconnect(options: QmpReconnectOptions = {}): Promise<void> {
    // One attempt at a time: a second reconnect() joins the first rather than killing its connection.
    if (this.opening) return this.opening;
    this.close();
    return this.open(options);
  }

  private open(options: QmpReconnectOptions): Promise<void> {
    this.opening ??= this.handshake(options).finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async handshake(options: QmpReconnectOptions): Promise<void> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    const left = () => Math.max(1, deadline - Date.now());
    const transport = await this.dial(options, deadline);
    this.attach(transport);
    try {
      this.greetingValue = await this.awaitGreeting(transport, left(), options.signal);
      await this.call("qmp_capabilities", undefined, { timeoutMs: left(), signal: options.signal }, true);
      this.negotiated = true;
    } catch (err) {
      this.close();
      if (err instanceof QmpConnectError) throw err;
      throw new QmpConnectError(this.socketPath, `handshake failed: ${(err as Error).message}`, err);
    }
  }

  private async dial(options: QmpReconnectOptions, deadline: number): Promise<JsonLineTransport> {
    for (let wait = DIAL_RETRY_FIRST_MS; ; wait = Math.min(wait * 2, DIAL_RETRY_MAX_MS)) {
      try {
        return await JsonLineTransport.connect(this.socketPath, {
          timeoutMs: Math.max(1, deadline - Date.now()),
          signal: options.signal,
        });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const retryable = code === "ENOENT" || code === "ECONNREFUSED";
        if (!options.waitForSocket || !retryable || Date.now() + wait >= deadline) {
          throw new QmpConnectError(this.socketPath, `cannot connect: ${(err as Error).message}`, err);
        }
        await sleep(wait);
      }
    }
  }

  private awaitGreeting(transport: JsonLineTransport, timeoutMs: number, signal?: AbortSignal): Promise<QmpGreeting> {
    return new Promise((resolve, reject) => {
      const finish = (action: () => void) => {
        clearTimeout(timer);
        closeSub.dispose();
        signal?.removeEventListener("abort", onAbort);
        this.onGreeting = undefined;
        action();
      };
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(
              new QmpConnectError(
                this.socketPath,
                `no greeting within ${timeoutMs} ms (a QMP socket serves one client at a time: is another connected?)`,
              ),
            ),
          ),
        timeoutMs,
      );
      const onAbort = () => finish(() => reject(new QmpAbortError("QMP handshake", signal?.reason)));
      signal?.addEventListener("abort", onAbort, { once: true });
      const closeSub = transport.onClose(() =>
        finish(() => reject(new QmpConnectError(this.socketPath, "the connection closed before the greeting"))),
      );
      this.onGreeting = (greeting) => finish(() => resolve(greeting));
    });
  }

  private attach(transport: JsonLineTransport): void {
    this.transport = transport;
    transport.onMessage((message) => {
      if (this.transport === transport) this.receive(message);
    });
    transport.onClose((info) => this.detach(transport, info));
    // Unparseable lines are dropped: QEMU always sends JSON, and a call whose reply was lost still times out.
  }

  /** Tears down everything tied to one connection; idempotent (close() and the socket's close both call it). */
  private detach(transport: JsonLineTransport, info: CloseInfo): void {
    if (this.transport !== transport) return;
    this.transport = undefined;
    const wasOpen = this.negotiated;
    this.negotiated = false;
    const why = info.byUs ? "was closed by the client" : `closed${info.error ? ` (${info.error.message})` : ""}`;
    const calls = [...this.pending.values()];
    this.pending.clear();
    for (const call of calls) {
      call.reject(
        new QmpClosedError(`${call.command}: QMP ${this.socketPath} ${why} before QEMU replied`, call.command, info.error),
      );
    }
    // A connection that never finished its handshake was never "open": no close to report.
    if (!wasOpen) return;
    const error = new QmpClosedError(`QMP ${this.socketPath} ${why}`, undefined, info.error);
    this.hub.end(info.byUs ? undefined : error);
    this.closeEmitter.fire(error);
  }

  private receive(message: unknown): void {
    if (typeof message !== "object" || message === null) return;
    const m = message as Record<string, unknown>;
    if ("QMP" in m) {
      this.onGreeting?.(m as unknown as QmpGreeting);
    } else if (typeof m.event === "string") {
      this.hub.dispatch(m as unknown as RawQmpEvent);
    } else if ("return" in m || "error" in m) {
      this.settle(m);
    }
  }

  private settle(reply: Record<string, unknown>): void {
    // QEMU replies without an id only when it could not parse the request enough to find one; in-band
    // commands are answered in order, so such a reply belongs to the oldest call in flight.
    const id = typeof reply.id === "number" ? reply.id : reply.id === undefined ? this.oldestPendingId() : undefined;
    const call = id === undefined ? undefined : this.pending.get(id);
    if (!call) return;
    if ("error" in reply) {
      const error = (reply.error ?? {}) as { class?: unknown; desc?: unknown };
      call.reject(new QmpError(call.command, String(error.class ?? "GenericError"), String(error.desc ?? "")));
    } else {
      call.resolve(reply.return);
    }
  }

  private oldestPendingId(): number | undefined {
    const first = this.pending.keys().next();
    return first.done ? undefined : first.value;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
