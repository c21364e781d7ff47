import { NextResponse, type NextRequest } from "next/server";
import { REQUEST_PATH_HEADER, SESSION_COOKIE, isPublicPage, loginPath } from "@/server/auth/shared";
import { refuseBadRequest } from "@/server/bad-requests";

/**
 * The cheap first line: a page request without a session cookie goes to the login page at once, and an API
 * request without one gets a 401, before anything renders. It only looks at whether the cookie is there; the
 * real check (is the session valid?) happens server-side in every layout, page, route and action, because a
 * proxy can be bypassed by a matcher change, and server actions are POSTs to whatever page they live on.
 *
 * Server action calls (a POST with a `Next-Action` header) pass through untouched so that the action client
 * answers them with its own "unauthenticated" result instead of an HTML redirect the caller cannot read. Before
 * either, a server action body Next would answer with a 500 (too large, malformed) gets a 4xx here.
 */
export async function proxy(request: NextRequest) {
  const refused = await refuseBadRequest(request);
  if (refused) return refused;

  const { pathname, search } = request.nextUrl;
  const path = pathname + search;
  const hasCookie = Boolean(request.cookies.get(SESSION_COOKIE)?.value);
  const isAction = request.method === "POST" && request.headers.has("next-action");

  if (!hasCookie && !isAction && !isPublicPage(pathname)) {
    if (pathname.startsWith("/api/")) {
      return NextResponse.json({ error: { code: "unauthenticated", message: "Log in first." } }, { status: 401 });
    }
    return NextResponse.redirect(new URL(loginPath(path), request.url));
  }

  const headers = new Headers(request.headers);
  headers.set(REQUEST_PATH_HEADER, path);
  return NextResponse.next({ request: { headers } });
}

export const config = {
  // Everything but Next's own assets and the files in public/ that browsers fetch on their own.
  matcher: ["/((?!_next/static|_next/image|favicon.ico|icon.svg|robots.txt).*)"],
};
