import { test as base, expect, type Browser, type Page } from "@playwright/test";
import fs from "node:fs";
import path from "node:path";

/**
 * Shared by every spec: the admin's credentials, logging in and out through the real form, and a `test` whose
 * pages start logged in as the admin.
 *
 *   import { test, expect } from "./fixtures";          // every page starts logged in
 *   import { ADMIN, logIn, logOut } from "./fixtures";   // for tests about logging in itself
 */

/** The account scripts/e2e-server.sh creates (same variable, same default). */
export const ADMIN = {
  username: "admin",
  password: process.env.CANOPY_ADMIN_PASSWORD || "e2e-admin-password",
} as const;

export interface Credentials {
  username: string;
  password: string;
}

const onLoginPage = (url: URL) => url.pathname === "/login";

/**
 * Logs in through /login (or the login page `page` is already on, keeping its ?next=) and waits until the
 * dashboard shows, sidebar and all. Throws with the page's message if the login was refused.
 */
export async function logIn(page: Page, credentials: Credentials = ADMIN): Promise<void> {
  if (!onLoginPage(new URL(page.url(), "http://localhost"))) await page.goto("/login");
  await submitLogin(page, credentials);
  try {
    await page.waitForURL((url) => !onLoginPage(url), { timeout: 15_000 });
  } catch {
    const message = await page.getByTestId("login-error").textContent({ timeout: 1_000 }).catch(() => null);
    throw new Error(`login refused: ${message ?? "no message on the page"}`);
  }
  await expect(page.getByTestId("current-user")).toHaveText(credentials.username);
}

/**
 * Fills and sends the login form, and waits for the server's answer (not for what the page does with it):
 * for tests about refusals.
 */
export async function submitLogin(page: Page, { username, password }: Credentials): Promise<void> {
  const form = page.getByTestId("login-form");
  await form.getByLabel("User name").fill(username);
  await form.getByLabel("Password").fill(password);
  const answered = page.waitForResponse((r) => r.request().method() === "POST" && r.request().headers()["next-action"] !== undefined);
  await form.getByRole("button", { name: "Log in" }).click();
  await answered;
}

/** Logs out with the sidebar's button and waits for the login page. */
export async function logOut(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login$/);
}

const STATE_DIR = "e2e/artifacts/.auth";

/** One login per worker, saved as browser storage; each test's context starts from it. */
async function adminStorageState(browser: Browser, baseURL: string | undefined, workerIndex: number): Promise<string> {
  const file = path.join(STATE_DIR, `admin-${workerIndex}.json`);
  fs.mkdirSync(STATE_DIR, { recursive: true });
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await logIn(page);
  await context.storageState({ path: file });
  await context.close();
  return file;
}

/**
 * `test` with every page logged in as the admin. The session is shared by the tests of a worker: a test that
 * logs out must use its own context (`browser.newContext()` + `logIn`), not this `page`.
 */
export const test = base.extend<object, { adminState: string }>({
  adminState: [
    async ({ browser }, use, workerInfo) => {
      await use(await adminStorageState(browser, workerInfo.project.use.baseURL, workerInfo.workerIndex));
    },
    { scope: "worker" },
  ],
  storageState: ({ adminState }, use) => use(adminState),
});

export { expect };
