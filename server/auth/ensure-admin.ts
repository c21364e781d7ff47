import "server-only";
import { randomBytes } from "node:crypto";
import { getDb } from "../db";
import { hashPassword, verifyPassword } from "./password";
import { deleteUserSessions } from "./sessions";

export const ADMIN_USER = "admin";

export type EnsureAdminResult =
  | { action: "created"; name: string; generatedPassword: string | null }
  | { action: "password-reset"; name: string }
  | { action: "unchanged"; name: string };

/**
 * Makes sure the admin account exists. Its password is CANOPY_ADMIN_PASSWORD when set (a changed value
 * replaces the stored hash and ends the admin's sessions, so the variable doubles as the way to reset a
 * forgotten password); otherwise one is generated the first time and returned for the caller to print once.
 * Only the argon2id hash is stored.
 */
export async function ensureAdmin(
  env: Partial<Record<"CANOPY_ADMIN_PASSWORD", string>> = { CANOPY_ADMIN_PASSWORD: process.env.CANOPY_ADMIN_PASSWORD },
): Promise<EnsureAdminResult> {
  const db = getDb();
  const wanted = env.CANOPY_ADMIN_PASSWORD || null;
  const existing = await db.user.findUnique({ where: { name: ADMIN_USER } });
  if (!existing) {
    const password = wanted ?? generatePassword();
    await db.user.create({ data: { name: ADMIN_USER, passwordHash: await hashPassword(password) } });
    return { action: "created", name: ADMIN_USER, generatedPassword: wanted ? null : password };
  }
  if (wanted && !(await verifyPassword(existing.passwordHash, wanted))) {
    await db.user.update({ where: { id: existing.id }, data: { passwordHash: await hashPassword(wanted) } });
    await deleteUserSessions(existing.id);
    return { action: "password-reset", name: ADMIN_USER };
  }
  return { action: "unchanged", name: ADMIN_USER };
}

/** 18 random bytes as 24 base64url characters: easy to paste, far beyond guessing. */
function generatePassword(): string {
  return randomBytes(18).toString("base64url");
}
