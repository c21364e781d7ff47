import "server-only";
import { getDb } from "../db";
import { generateSessionToken, hashSessionToken } from "./session-token";

/** How long a login lasts. Fixed, not sliding: a cookie's lifetime can only be renewed by a response that sets it. */
export const SESSION_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

export interface SessionUser {
  id: string;
  name: string;
}

export interface NewSession {
  /** Goes into the cookie and nowhere else. */
  token: string;
  expiresAt: Date;
}

export async function createSession(userId: string, now = new Date()): Promise<NewSession> {
  const token = generateSessionToken();
  const expiresAt = new Date(now.getTime() + SESSION_LIFETIME_MS);
  await getDb().session.create({ data: { tokenHash: hashSessionToken(token), userId, expiresAt } });
  return { token, expiresAt };
}

/** The user a cookie's token belongs to, or null when it is unknown or expired (an expired row is removed). */
export async function findSessionUser(token: string, now = new Date()): Promise<SessionUser | null> {
  if (!token) return null;
  const db = getDb();
  const session = await db.session.findUnique({
    where: { tokenHash: hashSessionToken(token) },
    include: { user: { select: { id: true, name: true } } },
  });
  if (!session) return null;
  if (session.expiresAt.getTime() <= now.getTime()) {
    await db.session.deleteMany({ where: { id: session.id } });
    return null;
  }
  return session.user;
}

export async function deleteSession(token: string): Promise<void> {
  await getDb().session.deleteMany({ where: { tokenHash: hashSessionToken(token) } });
}

/** Ends every session of a user (after a password change). */
export async function deleteUserSessions(userId: string): Promise<void> {
  await getDb().session.deleteMany({ where: { userId } });
}

/** Expired rows are only dropped when someone presents them; this sweeps the rest (called at each login). */
export async function deleteExpiredSessions(now = new Date()): Promise<void> {
  await getDb().session.deleteMany({ where: { expiresAt: { lte: now } } });
}
