import { Emitter, type Disposable } from "./emitter";
import { QmpAbortError, QmpClosedError, QmpTimeoutError } from "./errors";
import { QMP_EVENT_NAMES, type QmpEvent, type QmpEventName, type RawQmpEvent } from "./types";

/**
 * Fans QMP events out to subscribers: per-name typed listeners, one-shot waits and async iteration. Owned by
 * a QmpClient; subscriptions made with on()/onAny() outlive a reconnect, while waits and iterators end when the
 * connection they were listening on closes (events during the gap are lost, so they could not be trusted).
 */

export interface WaitForEventOptions {
  /** Default: the client's default call timeout. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface EventStreamOptions {
  /** Only these events (default: every known event). */
  names?: readonly QmpEventName[];
  signal?: AbortSignal;
  /** A consumer that falls this far behind gets an error rather than an ever-growing buffer. */
  maxBuffered?: number;
}

const DEFAULT_MAX_BUFFERED = 10_000;

/** Fired to end waits and streams: an error for a lost connection, undefined for the client's own close(). */
type EndReason = Error | undefined;

export class QmpEventHub {
  private readonly anyEmitter = new Emitter<RawQmpEvent>();
  private readonly named = new Map<string, Emitter<RawQmpEvent>>();
  private readonly endEmitter = new Emitter<EndReason>();

  constructor(private readonly defaultTimeoutMs: number) {}

  dispatch(event: RawQmpEvent): void {
    this.named.get(event.event)?.fire(event);
    this.anyEmitter.fire(event);
  }

  /** Ends current waits (rejected) and streams (finished, or thrown into when `reason` is set). */
  end(reason: EndReason): void {
    this.endEmitter.fire(reason);
  }

  on<E extends QmpEventName>(name: E, handler: (event: QmpEvent<E>) => void): Disposable {
    let emitter = this.named.get(name);
    if (!emitter) {
      emitter = new Emitter<RawQmpEvent>();
      this.named.set(name, emitter);
    }
    // The name was checked by the dispatch map; QEMU is trusted for the shape of `data`.
    return emitter.event((event) => handler(event as unknown as QmpEvent<E>));
  }

  /** Every event, including names QmpEvents does not describe. */
  onAny(handler: (event: RawQmpEvent) => void): Disposable {
    return this.anyEmitter.event(handler);
  }

  /**
   * The first `name` event for which `predicate` holds. Call it BEFORE the command that causes the event:
   * QEMU often sends the event before the command's reply.
   */
  waitFor<E extends QmpEventName>(
    name: E,
    predicate: (event: QmpEvent<E>) => boolean = () => true,
    options: WaitForEventOptions = {},
  ): Promise<QmpEvent<E>> {
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    const what = `waiting for ${name}`;
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted) {
        reject(new QmpAbortError(what, options.signal.reason));
        return;
      }
      const subscriptions: Disposable[] = [];
      const settle = (finish: () => void) => {
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        for (const s of subscriptions) s.dispose();
        finish();
      };
      const onAbort = () => settle(() => reject(new QmpAbortError(what, options.signal?.reason)));
      const timer = setTimeout(() => settle(() => reject(new QmpTimeoutError(what, timeoutMs))), timeoutMs);
      options.signal?.addEventListener("abort", onAbort, { once: true });
      subscriptions.push(
        this.on(name, (event) => {
          if (predicate(event)) settle(() => resolve(event));
        }),
        this.endEmitter.event((reason) =>
          settle(() => reject(reason ?? new QmpClosedError(`${what}: the client was closed`, what))),
        ),
      );
    });
  }

  /** An async iterator over events; `break` out of the loop (or abort) to unsubscribe. */
  stream(options: EventStreamOptions = {}): AsyncIterableIterator<QmpEvent> {
    const wanted = new Set<string>(options.names ?? QMP_EVENT_NAMES);
    const maxBuffered = options.maxBuffered ?? DEFAULT_MAX_BUFFERED;
    const buffer: QmpEvent[] = [];
    let waiting: { resolve: (r: IteratorResult<QmpEvent>) => void; reject: (e: unknown) => void } | undefined;
    let finished = false;
    let failure: unknown;

    const stop = (error?: unknown) => {
      if (finished) return;
      finished = true;
      failure = error;
      subscription.dispose();
      endSubscription.dispose();
      options.signal?.removeEventListener("abort", onAbort);
      if (waiting) {
        const w = waiting;
        waiting = undefined;
        if (error === undefined) w.resolve({ value: undefined, done: true });
        else w.reject(error);
      }
    };
    const onAbort = () => stop(new QmpAbortError("event stream", options.signal?.reason));
    const subscription = this.anyEmitter.event((raw) => {
      if (!wanted.has(raw.event)) return;
      const event = raw as unknown as QmpEvent;
      if (waiting) {
        const w = waiting;
        waiting = undefined;
        w.resolve({ value: event, done: false });
      } else if (buffer.length >= maxBuffered) {
        stop(new Error(`event stream: more than ${maxBuffered} events waiting to be read`));
      } else {
        buffer.push(event);
      }
    });
    const endSubscription = this.endEmitter.event((reason) => stop(reason));
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener("abort", onAbort, { once: true });

    const iterator: AsyncIterableIterator<QmpEvent> = {
      next: () => {
        const event = buffer.shift();
        if (event) return Promise.resolve({ value: event, done: false });
        if (finished) {
          // Report the failure once, then behave as an ended iterator.
          const error = failure;
          failure = undefined;
          return error === undefined ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(error);
        }
        return new Promise((resolve, reject) => {
          waiting = { resolve, reject };
        });
      },
      return: () => {
        stop();
        buffer.length = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }
}
