import "server-only";

/**
 * Password checks (argon2id, about 50 ms of one core and 19 MiB each) run at most this many at a time, the
 * rest wait their turn: however many addresses an attacker sends logins from, the hashing they force takes
 * this much of the machine and no more, and the jobs and pages keep the rest.
 */
export const MAX_PARALLEL_PASSWORD_CHECKS = 2;

let running = 0;
const waiting: (() => void)[] = [];

export async function withPasswordCheckSlot<T>(check: () => Promise<T>): Promise<T> {
  if (running >= MAX_PARALLEL_PASSWORD_CHECKS) await new Promise<void>((resolve) => waiting.push(resolve));
  else running++;
  try {
    return await check();
  } finally {
    const next = waiting.shift();
    if (next) next(); // the slot passes straight to the next waiter
    else running--;
  }
}
