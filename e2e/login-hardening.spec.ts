import { test as base, expect } from "@playwright/test";
import fs from "node:fs";
import http from "node:http";
import { ADMIN, logIn } from "./fixtures";

// The login against an attacker: where it sends you afterwards, and the lock-out attempt with forged
// X-Forwarded-For headers. The attacker's requests come from other loopback addresses (127.0.0.2, ...), the
// browser's from 127.0.0.1, so the server sees really different peers; the server trusts no proxy.
const test = base;
const MANIFEST = ".next/server/server-reference-manifest.json";

/** Hostile ?next= values that once left the site or would in some browser. */
const HOSTILE_NEXT = ["/\t/evil.example/phish", "//evil.example", "/\\evil.example", "/.//evil.example", "https://evil.example/", "/%2e%2e//evil.example"];

function loginActionId(): string {
  const manifest = JSON.parse(fs.readFileSync(MANIFEST, "utf8")) as { node: Record<string, { exportedName?: string }> };
  const id = Object.entries(manifest.node).find(([, entry]) => entry.exportedName === "loginAction")?.[0];
  if (!id) throw new Error("no loginAction in the build's manifest");
  return id;
}

/**
 * Calls the login action the way the login form does (a FormData argument: fields "_1_<name>" and the
 * arguments "0" = ["$K1"]), from the loopback address `from`, with whatever X-Forwarded-For the attacker likes.
 */
function attackerLogin(from: string, forwardedFor: string, username: string, password: string): Promise<string> {
  const boundary = "----canopy-e2e-boundary";
  const field = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const body = field("_1_username", username) + field("_1_password", password) + field("0", '["$K1"]') + `--${boundary}--\r\n`;
  const base = new URL(test.info().project.use.baseURL!);
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: base.hostname,
        port: base.port,
        path: "/login",
        method: "POST",
        localAddress: from,
        headers: {
          "next-action": loginActionId(),
          accept: "text/x-component",
          "content-type": `multipart/form-data; boundary=${boundary}`,
          "content-length": Buffer.byteLength(body),
          "x-forwarded-for": forwardedFor,
        },
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (text += chunk));
        response.on("end", () => resolve(text));
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

test("after logging in, a hostile ?next= never leads off the site", async ({ page }) => {
  // Logged out: the form carries ?next= through the login.
  await page.goto(`/login?next=${encodeURIComponent(HOSTILE_NEXT[0]!)}`);
  await logIn(page);
  expect(new URL(page.url()).origin).toBe(new URL(test.info().project.use.baseURL!).origin);

  // Logged in: the login page redirects at once; every Location stays on this origin.
  for (const next of HOSTILE_NEXT) {
    const response = await page.request.get(`/login?next=${encodeURIComponent(next)}`, { maxRedirects: 0 });
    expect(response.status(), next).toBe(307);
    const location = response.headers().location ?? "";
    expect(location, next).toMatch(/^\/(?![\\/\s])/);
    expect(new URL(location, "https://canopy.example").origin, next).toBe("https://canopy.example");
  }
  // A page of the site is still where it leads.
  const jobs = await page.request.get(`/login?next=${encodeURIComponent("/jobs?x=1")}`, { maxRedirects: 0 });
  expect(jobs.headers().location).toBe("/jobs?x=1");
});

test("forged X-Forwarded-For and spellings of admin do not lock the admin out, and every failure is audited", async ({ page }) => {
  const forged = (i: number) => `203.0.113.${i}, 198.51.100.${i}`;
  // Five wrong passwords as five spellings of admin, each "from" another forged address: all one user, one peer.
  for (const [i, name] of ["admin", "Admin", " ADMIN ", "aDmIn", "ADMIN"].entries()) {
    expect(await attackerLogin("127.0.0.2", forged(i), name, `guess-${i}`)).toContain("Wrong user name or password.");
  }
  // The forged header bought nothing: the peer is refused, even the right password, whatever it claims now.
  expect(await attackerLogin("127.0.0.2", forged(99), ADMIN.username, ADMIN.password)).toMatch(/Too many failed logins\. Try again in \d+ s\./);
  // Another attacker address adds two more failures (seven for admin: the admin's own logins now wait 2 s).
  for (const i of [1, 2]) expect(await attackerLogin("127.0.0.3", forged(i), "Admin", `other-${i}`)).toContain("Wrong user name or password.");

  // The admin, from an address that guessed nothing, logs in.
  await page.goto("/login");
  await logIn(page);

  // The audit log has each failure with the real peer, never a forged address.
  await page.goto("/audit");
  const failures = page.getByTestId("audit-event-login-failed");
  await expect(failures.filter({ hasText: "127.0.0.2: wrong user name or password" })).toHaveCount(5);
  await expect(failures.filter({ hasText: "127.0.0.2: too many failed logins" })).toHaveCount(1);
  await expect(failures.filter({ hasText: "127.0.0.3" })).toHaveCount(2);
  await expect(page.getByTestId("audit-log")).not.toContainText("203.0.113.");
  await expect(page.getByTestId("audit-log")).not.toContainText("198.51.100.");
});
