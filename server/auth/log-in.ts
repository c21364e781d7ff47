import "server-only";
import { setTimeout as sleep } from "node:timers/promises";
import { CanopyError } from "@/lib/errors";
import { recordAuditEvent } from "../audit-events";
import { getDb } from "../db";
import { addressBucket } from "./client-address-rules";
import { pruneLoginAttempts, settleLoginAttempt, takeLoginAttempt } from "./login-rate-limit";
import { verifyAgainstNobody, verifyPassword } from "./password";
import { withPasswordCheckSlot } from "./password-check-slots";
import { createSession, deleteExpiredSessions, type NewSession, type SessionUser } from "./sessions";

export interface Credentials {
  username: string;
  password: string;
  /** The client's address (see client-address.ts), for the limits and the audit log. */
  ip: string;
}

export interface LogInOptions {
  now?: Date;
  /** How the user name's delay is waited out (tests pass one that only records it). */
  wait?: (ms: number) => Promise<unknown>;
}

/** The longest user name kept in the audit log and the attempts table; the form refuses longer ones anyway. */
const MAX_RECORDED_NAME = 100;

/** User names are compared without case or surrounding spaces ("Admin " is admin), and counted that way. */
export function normalizeUsername(name: string): string {
  return name.trim().toLowerCase().slice(0, MAX_RECORDED_NAME);
}

/**
 * Checks a password and opens a session. Every refusal says the same thing whether the user exists or not;
 * a throttled attempt is refused before its password is even looked at (see login-rate-limit.ts). Every wrong
 * password is in the audit log as "login-failed", and so is an address's first throttled refusal in a minute.
 */
export async function logIn(
  { username, password, ip }: Credentials,
  { now = new Date(), wait = sleep }: LogInOptions = {},
): Promise<{ user: SessionUser; session: NewSession }> {
  const name = normalizeUsername(username);
  const slot = await takeLoginAttempt({ ip: addressBucket(ip), username: name }, now);
  if (slot.retryAfterSeconds > 0) {
    if (slot.recorded) {
      const reason = "too many failed logins (further refusals of this address within a minute are not recorded one by one)";
      await recordAuditEvent({ actor: name, action: "login-failed", detail: { ip, reason } });
    }
    throw new CanopyError("refused", `Too many failed logins. Try again in ${slot.retryAfterSeconds} s.`, {
      retryAfterSeconds: slot.retryAfterSeconds,
    });
  }
  if (slot.delayMs > 0) await wait(slot.delayMs);
  const user = await getDb().user.findUnique({ where: { name } });
  const ok = await withPasswordCheckSlot(() => (user ? verifyPassword(user.passwordHash, password) : verifyAgainstNobody(password)));
  if (!user || !ok) {
    await recordAuditEvent({ actor: name, action: "login-failed", detail: { ip, reason: "wrong user name or password" } });
    throw new CanopyError("refused", "Wrong user name or password.");
  }
  await settleLoginAttempt(slot.id, "success");
  // Housekeeping rides on logins: they are rare, and nothing else needs a timer for it.
  await Promise.all([pruneLoginAttempts(now), deleteExpiredSessions(now)]);
  return { user: { id: user.id, name: user.name }, session: await createSession(user.id, now) };
}
