/** A failed API call: the server's message for people, and the HTTP status (401: the session has ended). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/**
 * GET one of the dashboard's own API routes (server/api/define-route.ts): the data, or an ApiError carrying
 * the `{ error: { code, message } }` the route answered with.
 */
export async function fetchJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: "application/json" }, cache: "no-store", signal });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ApiError("The dashboard could not reach the server. Check that it is running.", 0, null);
  }
  const body: unknown = await res.json().catch(() => null);
  if (res.ok) return body as T;
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const message = typeof error?.message === "string" ? error.message : `The server answered ${res.status}.`;
  throw new ApiError(message, res.status, typeof error?.code === "string" ? error.code : null);
}

/** Polling more cannot help with these: the session is gone, or the thing does not exist. */
export function isFinalApiError(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 401 || err.status === 404);
}
