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

/** Only ever the origin of a parsed return path: a value that parses to any other origin leaves the site. */
const PARSE_ORIGIN = "http://canopy.invalid";

/**
 * Backslashes (browsers read "/\\evil" as "//evil"), whitespace and control characters (a tab in "/\t/evil"
 * is dropped by the URL parser, leaving "//evil"), and invisible format characters: none belongs in a path
 * Canopy makes, so any of them refuses the value rather than being cleaned out of it.
 */
const UNSAFE_CHARACTERS = /[\\\s\p{Cc}\p{Cf}]/u;

/**
 * A local path to go to after logging in, or null: never another site. The value must start with one "/",
 * hold nothing a browser would drop or reinterpret, and keep this site's origin when parsed the way a browser
 * parses a Location header; what comes back is the parsed path (so "/./" and "/.." are already resolved and
 * cannot turn into "//evil" afterwards).
 */
export function safeReturnPath(value: string | null | undefined): string | null {
  if (!value || value.length > 2048 || !value.startsWith("/") || value.startsWith("//")) return null;
  if (UNSAFE_CHARACTERS.test(value)) return null;
  let url: URL;
  try {
    url = new URL(value, PARSE_ORIGIN);
  } catch {
    return null;
  }
  const path = url.pathname + url.search + url.hash;
  if (url.origin !== PARSE_ORIGIN || path.startsWith("//") || isPublicPage(path)) return null;
  return path;
}
