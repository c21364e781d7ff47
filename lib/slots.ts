/**
 * At most `max` of some task at a time; the rest wait their turn in order. Returns the function that runs a
 * task in a slot.
 */
export function slots(max: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next(); // the slot passes straight to the next waiter
      else running--;
    }
  };
}
