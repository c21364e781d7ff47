import "server-only";
import { getDb } from "../db";

/**
 * Login throttling, counted in the database so that restarting the web server does not reset it. Only wrong
 * passwords count, over the last minute. The design follows OWASP's: nobody can lock the admin out, because
 * the only refusals are per address (a guesser blocks only itself), and a user name under attack from
 * everywhere makes its logins wait, not fail.
 *   - per (user name, address): 5 wrong passwords, then that address is refused for that user;
 *   - per address, whatever the user names: 20, then the address is refused (this bounds the password checks,
 *     i.e. the argon2 work, that one address can force);
 *   - per user name, from all addresses together: past 5, each login as that user first waits 1 s, doubling
 *     with each further failure up to 10 s, and then goes on to check its password.
 * Addresses are counted by server/auth/client-address-rules.ts's addressBucket (an IPv6 /64 is one address).
 */
export const LOGIN_LIMITS = {
  windowMs: 60_000,
  perPair: 5,
  perAddress: 20,
  userFailuresBeforeDelay: 5,
  firstDelayMs: 1_000,
  maxDelayMs: 10_000,
};

/** Rows older than this are only kept for the record; they no longer count. */
const KEEP_ATTEMPTS_MS = 24 * 60 * 60 * 1000;

export type LoginOutcome = "success" | "failure" | "blocked";

export interface LoginKey {
  /** The address's bucket (see addressBucket). */
  ip: string;
  /** Normalised (see normalizeUsername). */
  username: string;
}

export interface AttemptSlot {
  id: string;
  /** Seconds until this key may try again; 0 when this attempt may go on to check the password. */
  retryAfterSeconds: number;
  /** How long to wait before checking the password (the user name's delay). */
  delayMs: number;
  /**
   * For a refused attempt: whether it is kept (and audited). Only an address's first refusal in the window is;
   * the rest are dropped, so a blocked client hammering the form cannot grow the tables or the audit log.
   */
  recorded: boolean;
}

/**
 * Records an attempt before its password is checked, counted as a failure until `settleLoginAttempt` says
 * otherwise. Recording first is what holds the limits against parallel requests: each one counts every attempt
 * written before it, so at most the limit's number of a burst get to check a password.
 */
export async function takeLoginAttempt(key: LoginKey, now = new Date()): Promise<AttemptSlot> {
  const attempt = await getDb().loginAttempt.create({ data: { ...key, outcome: "failure", createdAt: now } });
  const since = new Date(now.getTime() - LOGIN_LIMITS.windowMs);
  const [byPair, byAddress, byUser] = await Promise.all([
    failuresSince(key, since, attempt.id),
    failuresSince({ ip: key.ip }, since, attempt.id),
    countFailuresSince({ username: key.username }, since, attempt.id),
  ]);
  const retryAt = Math.max(retryTime(byPair, LOGIN_LIMITS.perPair), retryTime(byAddress, LOGIN_LIMITS.perAddress));
  if (retryAt > 0) {
    const retryAfterSeconds = Math.max(1, Math.ceil((retryAt - now.getTime()) / 1000));
    const refusedBefore = await getDb().loginAttempt.count({
      where: { ip: key.ip, outcome: "blocked", createdAt: { gt: since }, id: { not: attempt.id } },
    });
    if (refusedBefore > 0) {
      await getDb().loginAttempt.delete({ where: { id: attempt.id } });
      return { id: attempt.id, retryAfterSeconds, delayMs: 0, recorded: false };
    }
    await settleLoginAttempt(attempt.id, "blocked");
    return { id: attempt.id, retryAfterSeconds, delayMs: 0, recorded: true };
  }
  return { id: attempt.id, retryAfterSeconds: 0, delayMs: userDelayMs(byUser), recorded: true };
}

export async function settleLoginAttempt(id: string, outcome: LoginOutcome): Promise<void> {
  await getDb().loginAttempt.update({ where: { id }, data: { outcome } });
}

/** Drops attempts too old to count or to be of interest. */
export async function pruneLoginAttempts(now = new Date()): Promise<void> {
  await getDb().loginAttempt.deleteMany({ where: { createdAt: { lt: new Date(now.getTime() - KEEP_ATTEMPTS_MS) } } });
}

type AttemptWhere = { ip?: string; username?: string };

const failureWhere = (where: AttemptWhere, since: Date, exclude: string) => ({
  ...where,
  outcome: "failure",
  createdAt: { gt: since },
  id: { not: exclude },
});

/** Earlier failures in the window (oldest first); the attempt being decided is left out. */
async function failuresSince(where: AttemptWhere, since: Date, exclude: string): Promise<Date[]> {
  const rows = await getDb().loginAttempt.findMany({
    where: failureWhere(where, since, exclude),
    orderBy: { createdAt: "asc" },
    select: { createdAt: true },
  });
  return rows.map((r) => r.createdAt);
}

function countFailuresSince(where: AttemptWhere, since: Date, exclude: string): Promise<number> {
  return getDb().loginAttempt.count({ where: failureWhere(where, since, exclude) });
}

/** When the window has room again: once the oldest of the last `max` failures leaves it (0: room now). */
function retryTime(failures: Date[], max: number): number {
  if (failures.length < max) return 0;
  const oldestCounted = failures[failures.length - max];
  return oldestCounted ? oldestCounted.getTime() + LOGIN_LIMITS.windowMs : 0;
}

/** The user name's delay after `failures` wrong passwords in the window: none up to 5, then 1 s, 2 s, 4 s, ... 10 s. */
export function userDelayMs(failures: number): number {
  const over = failures - LOGIN_LIMITS.userFailuresBeforeDelay;
  if (over <= 0) return 0;
  return Math.min(LOGIN_LIMITS.maxDelayMs, LOGIN_LIMITS.firstDelayMs * 2 ** Math.min(over - 1, 20));
}
