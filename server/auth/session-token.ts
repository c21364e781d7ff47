import "server-only";
import { createHash, randomBytes } from "node:crypto";

/** 32 random bytes (256 bits), base64url: what the cookie carries. */
export function generateSessionToken(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * What the database keeps instead of the token. A fast hash is enough here (unlike passwords): the token is
 * random and long, so there is nothing to guess.
 */
export function hashSessionToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
