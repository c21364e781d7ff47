"use server";
import "server-only";
import { redirect } from "next/navigation";
import { z } from "zod";
import { recordAuditEvent } from "../audit-events";
import { clientAddress } from "../auth/client-address";
import { logIn } from "../auth/log-in";
import { clearSessionCookie, readSessionToken, setSessionCookie } from "../auth/session-cookie";
import { deleteSession } from "../auth/sessions";
import { safeReturnPath } from "../auth/shared";
import { defineAction, definePublicAction } from "./client";

const field = (form: FormData, name: string) => {
  const value = form.get(name);
  return typeof value === "string" ? value : "";
};

const loginForm = z
  .instanceof(FormData)
  .transform((form) => ({ username: field(form, "username"), password: field(form, "password"), next: field(form, "next") }))
  .pipe(
    z.object({
      username: z.string().trim().min(1, "Enter your user name.").max(100),
      password: z.string().min(1, "Enter your password.").max(1024),
      next: z.string().max(2048),
    }),
  );

/** The login form's action: a session cookie and on to the page the admin came for, or the reason it failed. */
export const loginAction = definePublicAction(loginForm, async ({ username, password, next }) => {
  const ip = await clientAddress();
  const { user, session } = await logIn({ username, password, ip });
  await setSessionCookie(session);
  await recordAuditEvent({ actor: user.name, action: "login", detail: { ip } });
  redirect(safeReturnPath(next) ?? "/");
});

export const logoutAction = defineAction(z.void(), async (_input, { user }) => {
  const token = await readSessionToken();
  if (token) await deleteSession(token);
  await clearSessionCookie();
  await recordAuditEvent({ actor: user.name, action: "logout", detail: {} });
  redirect("/login");
});
