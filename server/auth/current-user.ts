import "server-only";
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { cache } from "react";
import { REQUEST_PATH_HEADER, loginPath } from "./shared";
import { readSessionToken } from "./session-cookie";
import { findSessionUser, type SessionUser } from "./sessions";

/** The logged-in user of this request, or null; looked up once per request however many callers ask. */
export const getCurrentUser = cache(async (): Promise<SessionUser | null> => {
  const token = await readSessionToken();
  return token ? findSessionUser(token) : null;
});

/** For pages and layouts: the logged-in user, or a redirect to the login page that comes back here after. */
export async function requireUser(): Promise<SessionUser> {
  const user = await getCurrentUser();
  if (user) return user;
  redirect(loginPath((await headers()).get(REQUEST_PATH_HEADER)));
}
