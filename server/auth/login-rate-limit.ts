import "server-only";
import { getDb } from "../db";

/**
 * At most this many wrong passwords per minute, counted per client address and per user name alike, in the
 * database so that restarting the web server does not reset the count.
 */
export const LOGIN_LIMIT = { maxFailures: 5, windowMs: 60_000 };

/** Rows older than this are only kept for the record; they no longer count. */
const KEEP_ATTEMPTS_MS = 24 * 60 * 60 * 1000;

export type LoginOutcome = "success" | "failure" | "blocked";

export interface LoginKey {
  ip: string;
  username: string;
}

export interface AttemptSlot {
  id: string;
  /** Seconds until this key may try again; 0 when this attempt may go on to check the password. */
  retryAfterSeconds: number;
}

/**
 * Records an attempt before its password is checked, counted as a failure until `settleLoginAttempt` says
 * otherwise. Recording first is what holds the limit against parallel requests: each one counts every attempt
 * written before it, so at most `maxFailures` of a burst get to check a password.
 */
export async function takeLoginAttempt(key: LoginKey, now = new Date()): Promise<AttemptSlot> {
  const db = getDb();
  const attempt = await db.loginAttempt.create({ data: { ...key, outcome: "failure", createdAt: now } });
  const since = new Date(now.getTime() - LOGIN_LIMIT.windowMs);
  const [byIp, byUser] = await Promise.all([
    failuresSince({ ip: key.ip }, since, attempt.id),
    failuresSince({ username: key.username }, since, attempt.id),
  ]);
  const retryAt = Math.max(retryTime(byIp), retryTime(byUser));
  if (retryAt <= 0) return { id: attempt.id, retryAfterSeconds: 0 };
  await settleLoginAttempt(attempt.id, "blocked");
  return { id: attempt.id, retryAfterSeconds: Math.max(1, Math.ceil((retryAt - now.getTime()) / 1000)) };
}

export async function settleLoginAttempt(id: string, outcome: LoginOutcome): Promise<void> {
  await getDb().loginAttempt.update({ where: { id }, data: { outcome } });
}

/** Drops attempts too old to count or to be of interest. */
export async function pruneLoginAttempts(now = new Date()): Promise<void> {
  await getDb().loginAttempt.deleteMany({ where: { createdAt: { lt: new Date(now.getTime() - KEEP_ATTEMPTS_MS) } } });
}

/** Earlier failures in the window (oldest first); the attempt being decided is left out. */
async function failuresSince(where: { ip: string } | { username: string }, since: Date, exclude: string): Promise<Date[]> {
  const rows = await getDb().loginAttempt.findMany({
    where: { ...where, outcome: "failure", createdAt: { gt: since }, id: { not: exclude } },
    orderBy: { createdAt: "asc" },
    select: { createdAt: true },
  });
  return rows.map((r) => r.createdAt);
}

/** When the window has room again: once the oldest of the last `maxFailures` failures leaves it (0: room now). */
function retryTime(failures: Date[]): number {
  if (failures.length < LOGIN_LIMIT.maxFailures) return 0;
  const oldestCounted = failures[failures.length - LOGIN_LIMIT.maxFailures];
  return oldestCounted ? oldestCounted.getTime() + LOGIN_LIMIT.windowMs : 0;
}
