import "server-only";
import { cookies } from "next/headers";
import { clientProtocol } from "./client-address";
import { SESSION_COOKIE } from "./shared";
import type { NewSession } from "./sessions";

export async function readSessionToken(): Promise<string | null> {
  return (await cookies()).get(SESSION_COOKIE)?.value || null;
}

/**
 * httpOnly (scripts never see it), SameSite=Lax (not sent with cross-site posts, so another site cannot drive
 * the dashboard), Secure when the request came over https (directly, or through a trusted proxy that says so
 * in X-Forwarded-Proto), the whole site, and gone when the session ends.
 */
export async function setSessionCookie(session: NewSession): Promise<void> {
  (await cookies()).set(SESSION_COOKIE, session.token, {
    httpOnly: true,
    sameSite: "lax",
    secure: await servedOverHttps(),
    path: "/",
    expires: session.expiresAt,
  });
}

export async function clearSessionCookie(): Promise<void> {
  (await cookies()).set(SESSION_COOKIE, "", {
    httpOnly: true,
    sameSite: "lax",
    secure: await servedOverHttps(),
    path: "/",
    maxAge: 0,
  });
}

async function servedOverHttps(): Promise<boolean> {
  return (await clientProtocol()) === "https";
}
