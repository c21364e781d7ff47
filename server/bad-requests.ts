// What proxy.ts refuses before Next sees it: server action bodies that Next itself would answer with a 500
// (oversized, or not what React's decoder reads). A malformed router-state header is the web server's to refuse
// (server/web/main.mjs): Next strips that header from what the proxy sees. Free of "server-only" like
// server/auth/shared.ts, because the proxy is bundled apart from the app.

/** Next's default serverActions.bodySizeLimit ("1mb", which Next reads as 1 MiB): a larger action body fails. */
export const ACTION_BODY_LIMIT_BYTES = 1024 * 1024;

/** A 4xx with a short reason, in the API's error shape, or null when the request may go on. */
export async function refuseBadRequest(request: Request): Promise<Response | null> {
  if (request.method === "POST" && request.headers.has("next-action")) return refuseBadActionBody(request);
  return null;
}

/**
 * A server action's arguments come as one JSON text (text/plain), or as multipart form data whose field "0"
 * is that JSON text (when an argument is a FormData). Anything else makes React's decoder throw, which Next
 * answers with a 500.
 */
async function refuseBadActionBody(request: Request): Promise<Response | null> {
  const tooLarge = () => refusal(413, `The request body is over ${ACTION_BODY_LIMIT_BYTES} bytes.`);
  if (Number(request.headers.get("content-length") ?? 0) > ACTION_BODY_LIMIT_BYTES) return tooLarge();
  const type = request.headers.get("content-type") ?? "";
  if (type.startsWith("application/x-www-form-urlencoded")) return null; // a form post without JavaScript: Next answers 404 itself
  let argumentsJson: unknown;
  try {
    // Read as bytes, so a body sent without a length (chunked) is measured too.
    const bytes = await request.clone().arrayBuffer();
    if (bytes.byteLength > ACTION_BODY_LIMIT_BYTES) return tooLarge();
    argumentsJson = type.startsWith("multipart/form-data")
      ? (await new Response(bytes, { headers: { "content-type": type } }).formData()).get("0")
      : new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return refusal(400, "The request body is malformed.");
  }
  if (typeof argumentsJson !== "string" || !parses(() => JSON.parse(argumentsJson as string))) {
    return refusal(400, "The request body is malformed: the action's arguments are not JSON.");
  }
  return null;
}

function parses(parse: () => unknown): boolean {
  try {
    parse();
    return true;
  } catch {
    return false;
  }
}

function refusal(status: number, message: string): Response {
  return Response.json({ error: { code: "invalid-input", message } }, { status, headers: { "cache-control": "no-store" } });
}
