import "server-only";
import { CanopyError } from "@/lib/errors";
import { getDb } from "../db";
import { pruneLoginAttempts, settleLoginAttempt, takeLoginAttempt } from "./login-rate-limit";
import { verifyAgainstNobody, verifyPassword } from "./password";
import { createSession, deleteExpiredSessions, type NewSession, type SessionUser } from "./sessions";

export interface Credentials {
  username: string;
  password: string;
  /** The client's address, for the rate limit. */
  ip: string;
}

/** User names are compared without case or surrounding spaces ("Admin " is admin). */
export function normalizeUsername(name: string): string {
  return name.trim().toLowerCase();
}

/**
 * Checks a password and opens a session. Every refusal says the same thing whether the user exists or not;
 * a rate-limited attempt is refused before its password is even looked at.
 */
export async function logIn({ username, password, ip }: Credentials, now = new Date()): Promise<{ user: SessionUser; session: NewSession }> {
  const name = normalizeUsername(username);
  const slot = await takeLoginAttempt({ ip, username: name }, now);
  if (slot.retryAfterSeconds > 0) {
    throw new CanopyError("refused", `Too many failed logins. Try again in ${slot.retryAfterSeconds} s.`, {
      retryAfterSeconds: slot.retryAfterSeconds,
    });
  }
  const user = await getDb().user.findUnique({ where: { name } });
  const ok = user ? await verifyPassword(user.passwordHash, password) : await verifyAgainstNobody(password);
  if (!user || !ok) throw new CanopyError("refused", "Wrong user name or password.");
  await settleLoginAttempt(slot.id, "success");
  // Housekeeping rides on logins: they are rare, and nothing else needs a timer for it.
  await Promise.all([pruneLoginAttempts(now), deleteExpiredSessions(now)]);
  return { user: { id: user.id, name: user.name }, session: await createSession(user.id, now) };
}
