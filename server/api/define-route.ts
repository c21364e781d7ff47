import "server-only";
import { getCurrentUser } from "../auth/current-user";
import type { SessionUser } from "../auth/sessions";
import { UNAUTHENTICATED, gateError, type ClientError } from "../error-gate";

/**
 * Route handlers for the dashboard's polling, with the same rules as server actions: a session is required,
 * and errors pass the same gate (a CanopyError's message, or "Something went wrong (ref XYZ)"). Success is the
 * data itself as JSON; failure is `{ error: { code, message } }` with a matching status.
 *
 *   export const GET = defineRoute<{ id: string }>(async (request, { params }) => getJobView(params.id));
 */
export interface RouteContext<P> {
  user: SessionUser;
  params: P;
}

export function defineRoute<P = Record<string, never>>(
  handler: (request: Request, ctx: RouteContext<P>) => Promise<unknown>,
): (request: Request, context: { params: Promise<P> }) => Promise<Response> {
  return async (request, context) => {
    try {
      const user = await getCurrentUser();
      if (!user) return errorResponse(UNAUTHENTICATED);
      const data = await handler(request, { user, params: await context.params });
      return Response.json(data, { headers: { "cache-control": "no-store" } });
    } catch (err) {
      return errorResponse(gateError(err, `${request.method} ${new URL(request.url).pathname}`));
    }
  };
}

const STATUS: Record<string, number> = {
  unauthenticated: 401,
  "invalid-input": 400,
  "not-found": 404,
  refused: 409,
  busy: 409,
  internal: 500,
};

function errorResponse(error: ClientError): Response {
  return Response.json({ error }, { status: STATUS[error.code] ?? 422, headers: { "cache-control": "no-store" } });
}
