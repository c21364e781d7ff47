import "server-only";
import { randomBytes } from "node:crypto";
import { isCanopyError } from "@/lib/errors";
import { ProcessError } from "@/lib/proc/run";
import type { ActionResult } from "./actions/types";

export type ClientError = Extract<ActionResult<never>, { ok: false }>["error"];

/**
 * What the browser may learn of an error, one rule for server actions, API routes and pages. A CanopyError was
 * written for the admin and passes as it is (with its details, when they are plain data); anything else is an
 * internal error: it is logged here with a short reference, and the browser gets only that reference, never
 * the message or the stack.
 */
export function gateError(err: unknown, where: string): ClientError {
  if (isCanopyError(err)) {
    const details = plainData(err.details);
    return { code: err.code, message: err.message, ...(details === undefined ? {} : { details }) };
  }
  const ref = errorRef();
  console.error(`canopy: ${where} failed (ref ${ref}):`, err);
  return { code: "internal", message: `Something went wrong (ref ${ref}). The server log has the details.` };
}

/**
 * A job's error as it is stored on the job and shown on the Jobs page, the API and the audit log. A tool that
 * failed (qemu-img, QEMU) is an answer for the admin: its command and its own short reason pass. Anything else
 * passes the gate: a CanopyError as it is, an internal error (a database error with its file paths and source
 * lines) as a reference to the log.
 */
export function jobErrorMessage(err: unknown, where: string): string {
  if (err instanceof ProcessError) return `${err.command} ${err.timedOut ? "timed out" : "failed"}: ${err.shortMessage}`;
  return gateError(err, where).message;
}

export const UNAUTHENTICATED: ClientError = {
  code: "unauthenticated",
  message: "Your session has ended. Log in again.",
};

/** 8 characters, easy to read out and to grep for in the log. */
function errorRef(): string {
  return randomBytes(6).toString("base64url").toUpperCase().replace(/[-_]/g, "X").slice(0, 8);
}

/** The details as JSON-safe data, or undefined when they are not (a BigInt, a cycle). */
function plainData(details: unknown): unknown {
  if (details === undefined) return undefined;
  try {
    return JSON.parse(JSON.stringify(details)) as unknown;
  } catch {
    return undefined;
  }
}
