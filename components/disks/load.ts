/** Small helpers for pages that load server data and must show failures instead of crashing. */

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/** The configured root for display; a misconfigured root must not take the whole page down. */
export function readStorageRoot(get: () => string): string {
  try {
    return get();
  } catch (err) {
    return `(storage root not configured: ${errorMessage(err)})`;
  }
}

/**
 * Next 16 hands dynamic route params over still percent-encoded ("my%20disk"). A malformed escape is kept
 * as-is, which then simply matches no disk (404) instead of throwing a URIError (500).
 */
export function decodeRouteParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
