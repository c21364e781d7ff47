import { test as base, expect, type APIRequestContext, type APIResponse } from "@playwright/test";
import fs from "node:fs";
import path from "node:path";
import { ADMIN, logIn, logOut, submitLogin } from "./fixtures";

// Logging in and out, the rate limit, and the rule that nothing but the login page answers without a session.
// These tests start logged out: they use Playwright's own `test`, not the logged-in one from ./fixtures.
const test = base;
const ARTIFACTS = "e2e/artifacts";

test("a wrong password is refused with a message; the right one leads on to the page asked for", async ({ page }) => {
  await page.goto("/jobs");
  await expect(page).toHaveURL(/\/login\?next=%2Fjobs$/);
  await expect(page.getByRole("heading", { name: "Log in to Canopy", level: 1 })).toBeVisible();
  // No sidebar, no navigation: nothing of the dashboard shows before logging in.
  await expect(page.getByRole("navigation", { name: "Main" })).toHaveCount(0);
  await page.screenshot({ path: `${ARTIFACTS}/login-page.png` });

  await submitLogin(page, { username: ADMIN.username, password: "not-the-password" });
  await expect(page.getByTestId("login-error")).toHaveText("Wrong user name or password.");
  await expect(page).toHaveURL(/\/login/);
  await expect(page.getByLabel("Password")).toHaveValue("");
  await page.screenshot({ path: `${ARTIFACTS}/login-error.png` });

  await logIn(page);
  await expect(page).toHaveURL(/\/jobs$/);
  await expect(page.getByRole("heading", { name: "Jobs", level: 1 })).toBeVisible();
  await expect(page.getByTestId("current-user")).toHaveText("admin");
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link")).toHaveText(["Disks", "Jobs", "Backups", "Backup policy", "Audit log"]);

  // Logged in, the login page sends you on.
  await page.goto("/login");
  await expect(page).toHaveURL(/\/$/);
});

test("the session cookie is httpOnly, SameSite=Lax and for the whole site", async ({ page, context }) => {
  await page.goto("/login");
  await logIn(page);
  const cookie = (await context.cookies()).find((c) => c.name === "canopy_session");
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Lax", path: "/", secure: false });
  expect(cookie?.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(cookie?.expires).toBeGreaterThan(Date.now() / 1000 + 6 * 24 * 3600);
});

test("logging out ends the session on the server, not just in the browser", async ({ page, context, browser }) => {
  await page.goto("/login");
  await logIn(page);
  const cookie = (await context.cookies()).find((c) => c.name === "canopy_session");
  expect(cookie?.value).toMatch(/^[A-Za-z0-9_-]{43}$/);

  await logOut(page);
  await page.goto("/audit");
  await expect(page).toHaveURL(/\/login\?next=%2Faudit$/);

  // The old cookie, replayed in another browser, opens nothing.
  const replay = await browser.newContext({ baseURL: test.info().project.use.baseURL });
  await replay.addCookies([{ ...cookie!, expires: -1 }]);
  const other = await replay.newPage();
  await other.goto("/");
  await expect(other).toHaveURL(/\/login$/);
  await replay.close();
});

test("after 5 wrong passwords for one user name from one address, the next attempt there is refused, under any spelling", async ({ page }) => {
  // A user name of its own: the limit this test reaches is for that name from 127.0.0.1 only, so the other tests'
  // admin logins from 127.0.0.1 go on (login-hardening.spec.ts has the attacks from other addresses).
  const username = `intruder-${test.info().repeatEachIndex}`;
  await page.goto("/login");
  for (let i = 1; i <= 5; i++) {
    await submitLogin(page, { username, password: `guess-${i}` });
    await expect(page.getByTestId("login-error")).toHaveText("Wrong user name or password.");
    await expect(page.getByRole("button", { name: "Log in" })).toBeEnabled();
  }
  await submitLogin(page, { username: ` ${username.toUpperCase()} `, password: "whatever" });
  await expect(page.getByTestId("login-error")).toHaveText(/^Too many failed logins\. Try again in \d+ s\.$/);
  await expect(page).toHaveURL(/\/login/);
});

// ---------------------------------------------------------------------------------------------------------
// Without a session, nothing answers: every page, every API route, every server action. The lists come from
// the app/ folder and the build's server-reference manifest, so a new page, route or action is covered the
// moment it exists. Each is tried twice: with no cookie (proxy.ts's cheap check) and with a made-up session
// cookie (which gets past the proxy, so the server-side checks must catch it).

const APP_DIR = "app";
const MANIFEST = ".next/server/server-reference-manifest.json";
/** Filled into every dynamic segment ([name], [id], ...): a real disk, so a missing check would show data. */
const SEGMENT_VALUE = "vm-1";
/** Actions anyone may call. The login form is the only one; it must still not log anyone in. */
const PUBLIC_ACTIONS = new Set(["server/actions/auth.ts#loginAction"]);
const PUBLIC_PAGES = new Set(["/login"]);
/** Every action gets this one argument: valid input for the operation and job actions alike (zod drops unknown keys). */
const INTRUDER_INPUT = {
  disk: "vm-1",
  request: { operation: "snapshot", name: "e2e-intruder" },
  jobId: "e2e-intruder",
};

const WITHOUT_SESSION = [
  { name: "no cookie", headers: {} as Record<string, string> },
  { name: "a made-up session cookie", headers: { cookie: "canopy_session=e2e-made-up-token-that-is-no-session" } },
];

/** "app/disks/[name]/page.tsx" -> "/disks/vm-1"; null for what Next does not route (private folders, slots). */
function routeOf(file: string): string | null {
  const segments = file.split("/").slice(1, -1);
  const out: string[] = [];
  for (const s of segments) {
    if (s.startsWith("_") || s.startsWith("@")) return null;
    if (s.startsWith("(") && s.endsWith(")")) continue;
    out.push(s.startsWith("[") ? SEGMENT_VALUE : s);
  }
  return `/${out.join("/")}`;
}

function filesNamed(dir: string, name: RegExp): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => name.test(path.basename(f))).map((f) => path.join(dir, f).split(path.sep).join("/"));
}

function pageRoutes(): string[] {
  return filesNamed(APP_DIR, /^page\.(tsx|ts|jsx|js)$/).map(routeOf).filter((r): r is string => r !== null).sort();
}

function apiRoutes(): { route: string; methods: string[] }[] {
  return filesNamed(path.join(APP_DIR, "api"), /^route\.(ts|js)$/)
    .map((file) => {
      const source = fs.readFileSync(file, "utf8");
      const methods = [...source.matchAll(/export\s+(?:const|async\s+function|function)\s+(GET|POST|PUT|PATCH|DELETE)\b/g)].map((m) => m[1]!);
      return { route: routeOf(file)!, methods };
    })
    .sort((a, b) => a.route.localeCompare(b.route));
}

interface ManifestAction {
  id: string;
  name: string;
  /** A page the action is reachable from: server actions are POSTs to a page's URL. */
  route: string;
}

function serverActions(): ManifestAction[] {
  const manifest = JSON.parse(fs.readFileSync(MANIFEST, "utf8")) as {
    node: Record<string, { workers: Record<string, unknown>; filename?: string; exportedName?: string }>;
    edge: Record<string, { workers: Record<string, unknown>; filename?: string; exportedName?: string }>;
  };
  return Object.entries({ ...manifest.node, ...manifest.edge }).map(([id, entry]) => {
    const route = Object.keys(entry.workers)
      .filter((w) => w.endsWith("/page"))
      .map((w) => routeOf(`${w}.tsx`))
      .find((r): r is string => r !== null);
    if (!route) throw new Error(`action ${id} (${entry.filename}#${entry.exportedName}) is on no page this test can reach`);
    return { id, name: `${entry.filename ?? "?"}#${entry.exportedName ?? id}`, route };
  });
}

async function postAction(request: APIRequestContext, action: ManifestAction, headers: Record<string, string>): Promise<APIResponse> {
  return request.post(action.route, {
    headers: { ...headers, "next-action": action.id, accept: "text/x-component", "content-type": "text/plain;charset=UTF-8" },
    data: JSON.stringify([INTRUDER_INPUT]),
    maxRedirects: 0,
  });
}

test.describe("without a session", () => {
  test("the lists of pages, API routes and server actions are what this app has", () => {
    expect(pageRoutes()).toEqual(expect.arrayContaining(["/", "/audit", "/disks/vm-1", "/jobs", "/login"]));
    expect(apiRoutes().map((r) => r.route)).toEqual(expect.arrayContaining(["/api/disks/vm-1/tree", "/api/jobs", "/api/jobs/vm-1"]));
    expect(serverActions().map((a) => a.name)).toEqual(
      expect.arrayContaining(["server/actions/auth.ts#loginAction", "server/actions/auth.ts#logoutAction", "server/actions/operations.ts#cancelJobAction"]),
    );
  });

  for (const { name, headers } of WITHOUT_SESSION) {
    test(`every page redirects to the login page (${name})`, async ({ request }) => {
      for (const route of pageRoutes()) {
        const res = await request.get(route, { headers, maxRedirects: 0 });
        if (PUBLIC_PAGES.has(route)) {
          expect(res.status(), route).toBe(200);
          continue;
        }
        expect(res.status(), route).toBe(307);
        expect(res.headers().location, route).toMatch(/^\/login(\?next=.*)?$/);
        if (headers.cookie) {
          // Past the proxy, the root layout redirects; but Next renders a page's segment alongside its layout
          // and streams it behind the 307 anyway, so each page must refuse by itself too (requireUser()). Each
          // segment that refuses adds its own redirect to the response's flight data: the layout's and the page's.
          const body = await res.text();
          expect(body.match(/NEXT_REDIRECT;/g)?.length ?? 0, `${route} must call requireUser() itself`).toBeGreaterThanOrEqual(2);
          expect(body, route).not.toContain('"activeLayer"'); // no disk data, whatever the page
        }
      }
    });

    test(`every API route answers 401 (${name})`, async ({ request }) => {
      for (const { route, methods } of apiRoutes()) {
        expect(methods.length, `${route} exports no handler this test knows`).toBeGreaterThan(0);
        for (const method of methods) {
          const res = await request.fetch(route, { method, headers, maxRedirects: 0 });
          expect(res.status(), `${method} ${route}`).toBe(401);
          expect(await res.json(), `${method} ${route}`).toMatchObject({ error: { code: "unauthenticated" } });
        }
      }
    });

    test(`every server action is refused without running (${name})`, async ({ request }) => {
      for (const action of serverActions()) {
        const res = await postAction(request, action, headers);
        const body = await res.text();
        expect(res.status(), action.name).toBe(200);
        expect(res.headers()["set-cookie"] ?? "", action.name).not.toContain("canopy_session=");
        if (PUBLIC_ACTIONS.has(action.name)) {
          expect(body, action.name).toContain('"code":"invalid-input"'); // not a form: nobody is logged in
        } else {
          expect(body, action.name).toContain('"code":"unauthenticated"');
        }
      }
    });
  }

  test("every page, API route and refusal carries the security headers", async ({ request }) => {
    const responses = [
      ...pageRoutes().map((route) => ({ what: `GET ${route}`, get: () => request.get(route, { maxRedirects: 0 }) })),
      ...apiRoutes().map(({ route }) => ({ what: `GET ${route}`, get: () => request.get(route, { maxRedirects: 0 }) })),
      { what: "a static asset", get: () => request.get("/icon.svg") },
    ];
    for (const { what, get } of responses) {
      const headers = (await get()).headers();
      expect(headers["content-security-policy"], what).toContain("frame-ancestors 'none'");
      expect(headers["x-content-type-options"], what).toBe("nosniff");
      expect(headers["referrer-policy"], what).toBe("same-origin");
    }
  });

  test("every server action answers an oversized or malformed body with a 4xx and a short reason", async ({ request }) => {
    const actionHeaders = (id: string, type: string) => ({ "next-action": id, accept: "text/x-component", "content-type": type });
    const bodies = [
      { name: "2 MB", type: "text/plain;charset=UTF-8", data: `["${"a".repeat(2 * 1024 * 1024)}"]`, status: 413 },
      { name: "malformed JSON", type: "text/plain;charset=UTF-8", data: '[{"disk":', status: 400 },
      { name: "malformed form data", type: "multipart/form-data; boundary=x", data: "--x\r\nContent-Disposition: form-data; name=\"0\"\r\n\r\n{nope\r\n--x--\r\n", status: 400 },
    ];
    for (const action of serverActions()) {
      for (const body of bodies) {
        const res = await request.post(action.route, { headers: actionHeaders(action.id, body.type), data: body.data, maxRedirects: 0 });
        expect(res.status(), `${action.name}: ${body.name}`).toBe(body.status);
        expect((await res.json()) as unknown, `${action.name}: ${body.name}`).toMatchObject({ error: { code: "invalid-input", message: expect.stringMatching(/^The request body /) } });
      }
    }
  });

  test("every page answers a malformed router-state header with 400", async ({ request }) => {
    for (const route of pageRoutes()) {
      for (const state of ["[1,2", "%E0%A4%A", '{"a":1}']) {
        const res = await request.get(route, { headers: { rsc: "1", "next-router-state-tree": state }, maxRedirects: 0 });
        expect(res.status(), `${route} with ${state}`).toBe(400);
        expect(await res.json(), route).toEqual({ error: { code: "invalid-input", message: "The router state header is malformed." } });
      }
    }
  });

  test("nothing the refused actions were asked to do happened", async ({ page }) => {
    await page.goto("/login");
    await logIn(page);
    const tree = (await (await page.request.get("/api/disks/vm-1/tree")).json()) as { layers: { name: string }[] };
    expect(tree.layers.map((l) => l.name)).not.toContain("e2e-intruder");
    const jobs = (await (await page.request.get("/api/jobs?disk=vm-1")).json()) as { summary: string | null }[];
    expect(jobs.filter((j) => j.summary?.includes("e2e-intruder"))).toEqual([]);
  });
});
