import "server-only";
import { headers } from "next/headers";

/**
 * The client's address for the login rate limit. Next puts the socket's address in X-Forwarded-For unless the
 * request already had one (from a reverse proxy in front, or from the client itself when Canopy is reached
 * directly), so this is what the request says, not proof: the per-user-name limit is the one that cannot be
 * dodged.
 */
export async function clientAddress(): Promise<string> {
  const forwarded = (await headers()).get("x-forwarded-for");
  return forwarded?.split(",")[0]?.trim() || "unknown";
}
