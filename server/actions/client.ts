import "server-only";
import { unstable_rethrow } from "next/navigation";
import type { z } from "zod";
import { getCurrentUser } from "../auth/current-user";
import type { SessionUser } from "../auth/sessions";
import { UNAUTHENTICATED, gateError, type ClientError } from "../error-gate";
import type { ActionResult } from "./types";

/**
 * The one way server actions are made. A server action is a public POST endpoint that anyone can call with
 * any arguments, so every action gets, in this order:
 *   1. the session check (`defineAction`; only `definePublicAction`, i.e. logging in, skips it),
 *   2. validation of its input with a zod schema (the handler only ever sees parsed input),
 *   3. the expected-error gate: a CanopyError's message reaches the admin, anything else becomes
 *      "Something went wrong (ref XYZ)" with the details in the server log.
 * Next's own control flow (redirect(), notFound()) passes through untouched.
 *
 *   export const cancelJobAction = defineAction(z.object({ jobId: z.string() }), async ({ jobId }, { user }) =>
 *     cancelJob(jobId, user.name));
 */

export interface ActionContext {
  user: SessionUser;
}

export interface PublicActionContext {
  user: SessionUser | null;
}

/** How an action was made: the source test checks that every export of a "use server" file has one. */
export type ActionAccess = "session" | "public";

const ACCESS = Symbol.for("canopy.action-access");

export function defineAction<S extends z.ZodType, T>(
  schema: S,
  handler: (input: z.output<S>, ctx: ActionContext) => Promise<T>,
): (input: z.input<S>) => Promise<ActionResult<T>> {
  return mark("session", async (input: z.input<S>) => {
    let user: SessionUser | null;
    try {
      user = await getCurrentUser();
    } catch (err) {
      return failure(gateError(err, "reading the session"));
    }
    if (!user) return failure(UNAUTHENTICATED);
    return run(schema, input, (parsed) => handler(parsed, { user }));
  });
}

/** For the login form only: no session is needed (there is none yet). */
export function definePublicAction<S extends z.ZodType, T>(
  schema: S,
  handler: (input: z.output<S>, ctx: PublicActionContext) => Promise<T>,
): (input: z.input<S>) => Promise<ActionResult<T>> {
  return mark("public", async (input: z.input<S>) =>
    run(schema, input, async (parsed) => handler(parsed, { user: await getCurrentUser() })),
  );
}

export function actionAccess(fn: unknown): ActionAccess | undefined {
  return typeof fn === "function" ? (fn as { [ACCESS]?: ActionAccess })[ACCESS] : undefined;
}

async function run<S extends z.ZodType, T>(
  schema: S,
  input: unknown,
  body: (parsed: z.output<S>) => Promise<T>,
): Promise<ActionResult<T>> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) return failure(invalidInput(parsed.error));
  try {
    return { ok: true, data: await body(parsed.data) };
  } catch (err) {
    unstable_rethrow(err);
    return failure(gateError(err, "server action"));
  }
}

function invalidInput(error: z.ZodError): ClientError {
  const issues = error.issues.map((i) => ({ path: i.path.map(String), message: i.message }));
  const text = issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message)).join("; ");
  return { code: "invalid-input", message: text || "Invalid input", details: { issues } };
}

function failure(error: ClientError): { ok: false; error: ClientError } {
  return { ok: false, error };
}

function mark<F extends (...args: never[]) => unknown>(access: ActionAccess, fn: F): F {
  Object.defineProperty(fn, ACCESS, { value: access });
  return fn;
}
