import "server-only";
import { hash, verify, type Algorithm } from "@node-rs/argon2";

// Algorithm.Argon2id: the package declares it as an ambient const enum, which isolatedModules cannot inline.
const ARGON2ID = 2 as Algorithm;

/** OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): about 50 ms here, slow enough for guessing, fine for logins. */
const OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/** A PHC string ($argon2id$v=19$m=19456,t=2,p=1$salt$hash) with its own random salt. */
export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

/** False for a wrong password and for a stored value that is not an argon2 hash at all. */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * Spends the same time as a real check when the user does not exist, so response times do not tell which
 * user names are real.
 */
export async function verifyAgainstNobody(password: string): Promise<false> {
  dummyHash ??= hashPassword("canopy: no such user");
  await verifyPassword(await dummyHash, password);
  return false;
}
