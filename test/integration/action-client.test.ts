// The action client (server/actions/client.ts): session check, input validation and the expected-error gate,
// with sessions from a real migrated database and the request's cookie faked.
import { z } from "zod";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { CanopyError } from "@/lib/errors";
import { useTempDatabase } from "../support/auth-db";
import { fakeRequest } from "../support/fake-next-request";

vi.mock("server-only", () => ({}));
vi.mock("next/headers", async () => (await import("../support/fake-next-request")).nextHeaders);
vi.mock("next/navigation", async () => import("next/dist/client/components/navigation.react-server.js"));

let db: typeof import("@/server/db");
let client: typeof import("@/server/actions/client");
let navigation: typeof import("next/navigation");
let token: string;

beforeAll(async () => {
  await useTempDatabase();
  db = await import("@/server/db");
  client = await import("@/server/actions/client");
  navigation = await import("next/navigation");
  await (await import("@/server/auth/ensure-admin")).ensureAdmin({ CANOPY_ADMIN_PASSWORD: "pw" });
  const { logIn } = await import("@/server/auth/log-in");
  token = (await logIn({ username: "admin", password: "pw", ip: "10.0.0.1" })).session.token;
});

afterAll(async () => {
  await db?.closeDb();
});

const loggedIn = () => fakeRequest.reset({ cookies: { canopy_session: token } });

beforeEach(() => {
  loggedIn();
  vi.restoreAllMocks();
});

const input = z.object({ disk: z.string().min(1), count: z.number().int().default(1) });

describe("defineAction", () => {
  it("hands the parsed input and the logged-in user to the handler, and its value back as data", async () => {
    const handler = vi.fn(async (i: z.output<typeof input>, ctx: { user: { name: string } }) => `${ctx.user.name}:${i.disk}:${i.count}`);
    const action = client.defineAction(input, handler);
    expect(await action({ disk: "vm-1" })).toEqual({ ok: true, data: "admin:vm-1:1" });
    expect(client.actionAccess(action)).toBe("session");
  });

  it("refuses without a session, or with one that is unknown, before looking at the input", async () => {
    const handler = vi.fn(async () => "ran");
    const action = client.defineAction(input, handler);
    const requests: Record<string, string>[] = [{}, { canopy_session: "made-up" }, { canopy_session: "" }];
    for (const cookies of requests) {
      fakeRequest.reset({ cookies });
      expect(await action({ disk: "" })).toEqual({
        ok: false,
        error: { code: "unauthenticated", message: "Your session has ended. Log in again." },
      });
    }
    expect(handler).not.toHaveBeenCalled();
  });

  it("refuses input its schema rejects, saying where, without running the handler", async () => {
    const handler = vi.fn(async () => "ran");
    const action = client.defineAction(input, handler);
    const result = await action({ disk: "", count: 1.5 } as never);
    expect(result).toMatchObject({ ok: false, error: { code: "invalid-input" } });
    if (result.ok) throw new Error("unreachable");
    expect(result.error.message).toMatch(/^disk: .+; count: .+$/);
    expect(result.error.details).toEqual({ issues: [expect.objectContaining({ path: ["disk"] }), expect.objectContaining({ path: ["count"] })] });
    expect(await action(undefined as never)).toMatchObject({ ok: false, error: { code: "invalid-input" } });
    expect(handler).not.toHaveBeenCalled();
  });

  it("passes a CanopyError through: its code, its message and its details", async () => {
    const action = client.defineAction(input, async () => {
      throw new CanopyError("busy", 'disk "vm-1" is busy: job j1 (merge-down) is running', { jobId: "j1" });
    });
    expect(await action({ disk: "vm-1" })).toEqual({
      ok: false,
      error: { code: "busy", message: 'disk "vm-1" is busy: job j1 (merge-down) is running', details: { jobId: "j1" } },
    });
  });

  it("turns anything else into a reference: the message and stack stay in the server log", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const secret = new Error("SQLITE_CANTOPEN: /var/lib/canopy/secret-path.db");
    const action = client.defineAction(input, async () => {
      throw secret;
    });
    const result = await action({ disk: "vm-1" });
    expect(result).toMatchObject({ ok: false, error: { code: "internal" } });
    if (result.ok) throw new Error("unreachable");
    const ref = /^Something went wrong \(ref ([A-Z0-9]{8})\)\. The server log has the details\.$/.exec(result.error.message)?.[1];
    expect(ref).toBeDefined();
    expect(JSON.stringify(result)).not.toContain("secret-path");
    expect(result.error).not.toHaveProperty("details");
    expect(log).toHaveBeenCalledWith(expect.stringContaining(`(ref ${ref})`), secret);
  });

  it("details that are not plain data are dropped rather than breaking the answer", async () => {
    const action = client.defineAction(input, async () => {
      throw new CanopyError("refused", "no", { size: 1n });
    });
    expect(await action({ disk: "vm-1" })).toEqual({ ok: false, error: { code: "refused", message: "no" } });
  });

  it("lets Next's redirect() and notFound() through, as Next needs them", async () => {
    const redirecting = client.defineAction(input, async () => navigation.redirect("/login"));
    await expect(redirecting({ disk: "vm-1" })).rejects.toMatchObject({ digest: expect.stringMatching(/^NEXT_REDIRECT;/) });
    const missing = client.defineAction(input, async () => navigation.notFound());
    await expect(missing({ disk: "vm-1" })).rejects.toMatchObject({ digest: expect.stringMatching(/^NEXT_HTTP_ERROR_FALLBACK;404/) });
  });

  it("answers with a reference, not a crash, when the session cannot even be read", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = "file:/nonexistent/canopy.db";
    try {
      const result = await client.defineAction(input, async () => "ran")({ disk: "vm-1" });
      expect(result).toMatchObject({ ok: false, error: { code: "internal", message: expect.stringMatching(/^Something went wrong \(ref /) } });
    } finally {
      process.env.DATABASE_URL = saved;
    }
    expect(log).toHaveBeenCalled();
  });
});

describe("definePublicAction", () => {
  it("runs without a session (the login form), with the same validation and error gate", async () => {
    fakeRequest.reset();
    const action = client.definePublicAction(input, async (i, ctx) => ({ disk: i.disk, user: ctx.user }));
    expect(client.actionAccess(action)).toBe("public");
    expect(await action({ disk: "vm-1" })).toEqual({ ok: true, data: { disk: "vm-1", user: null } });
    expect(await action({ disk: "" })).toMatchObject({ ok: false, error: { code: "invalid-input" } });
    const failing = client.definePublicAction(input, async () => {
      throw new CanopyError("refused", "Wrong user name or password.");
    });
    expect(await failing({ disk: "x" })).toEqual({ ok: false, error: { code: "refused", message: "Wrong user name or password." } });
  });
});
