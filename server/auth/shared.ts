// What proxy.ts shares with the server-side checks. Free of "server-only" (like server/config.ts) because the
// proxy is bundled apart from the app; nothing here touches the database.

/** The session cookie's name. */
export const SESSION_COOKIE = "canopy_session";

/**
 * The request header proxy.ts sets to the path (and query) it let through, overwriting whatever the client
 * sent: layouts cannot see the URL otherwise (see app/layout.tsx).
 */
export const REQUEST_PATH_HEADER = "x-canopy-path";

/** Pages that open without a session. Everything else (pages, API routes, server actions) requires one. */
export const PUBLIC_PAGES: readonly string[] = ["/login"];

/** `path` may carry a query ("/login?next=/jobs"). */
export function isPublicPage(path: string | null | undefined): boolean {
  return path != null && PUBLIC_PAGES.includes(path.split(/[?#]/)[0] ?? "");
}

/** "/login", with where to go after it when that is a page of this site. */
export function loginPath(returnTo: string | null | undefined): string {
  const next = safeReturnPath(returnTo);
  return next && next !== "/" ? `/login?next=${encodeURIComponent(next)}` : "/login";
}

/** A local path to go to after logging in, or null: never another site ("//evil.example", "/\\evil"). */
export function safeReturnPath(value: string | null | undefined): string | null {
  if (!value || !value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return null;
  if (isPublicPage(value)) return null;
  return value;
}
