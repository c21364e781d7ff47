/**
 * A minimal typed event emitter in the style of vscode-jsonrpc: `event(listener)` returns a Disposable, so a
 * subscriber can never forget which function it registered, and one listener's exception cannot stop the
 * others from hearing the event.
 */

export interface Disposable {
  dispose(): void;
}

export type Listener<T> = (value: T) => void;
export type Event<T> = (listener: Listener<T>) => Disposable;

export class Emitter<T> {
  private readonly listeners = new Set<Listener<T>>();

  /** Subscribe; each call is its own subscription (even for the same function) and disposing removes only it. */
  readonly event: Event<T> = (listener) => {
    const entry: Listener<T> = (value) => listener(value);
    this.listeners.add(entry);
    return { dispose: () => void this.listeners.delete(entry) };
  };

  fire(value: T): void {
    // Copy: a listener may dispose itself (or others) while we iterate.
    for (const listener of [...this.listeners]) {
      try {
        listener(value);
      } catch (err) {
        // A broken listener must not break the connection's read loop (nor crash a server): report it and go on.
        console.error("qmp: an event listener threw", err);
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }

  clear(): void {
    this.listeners.clear();
  }
}

/** Dispose several subscriptions at once (used where one operation holds many). */
export function disposeAll(items: Iterable<Disposable>): void {
  for (const item of items) item.dispose();
}
