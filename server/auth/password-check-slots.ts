import "server-only";
import { slots } from "@/lib/slots";

/**
 * Password checks (argon2id, about 50 ms of one core and 19 MiB each) run at most this many at a time, the
 * rest wait their turn: however many addresses an attacker sends logins from, the hashing they force takes
 * this much of the machine and no more, and the jobs and pages keep the rest.
 */
export const MAX_PARALLEL_PASSWORD_CHECKS = 2;

export const withPasswordCheckSlot = slots(MAX_PARALLEL_PASSWORD_CHECKS);
