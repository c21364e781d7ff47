// Passwords, sessions and the admin account, against a real migrated database (SQLite, or PostgreSQL in the
// PostgreSQL pass). The login limits are in login-throttling.test.ts.
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { useTempDatabase } from "../support/auth-db";
import { fakeRequest } from "../support/fake-next-request";
import { openRawDb } from "../support/raw-db";

vi.mock("server-only", () => ({}));
vi.mock("next/headers", async () => (await import("../support/fake-next-request")).nextHeaders);
vi.mock("next/navigation", async () => import("next/dist/client/components/navigation.react-server.js"));

let dbUrl: string;
let db: typeof import("@/server/db");
let password: typeof import("@/server/auth/password");
let sessions: typeof import("@/server/auth/sessions");
let admin: typeof import("@/server/auth/ensure-admin");
let login: typeof import("@/server/auth/log-in");
let currentUser: typeof import("@/server/auth/current-user");

beforeAll(async () => {
  dbUrl = await useTempDatabase();
  db = await import("@/server/db");
  password = await import("@/server/auth/password");
  sessions = await import("@/server/auth/sessions");
  admin = await import("@/server/auth/ensure-admin");
  login = await import("@/server/auth/log-in");
  currentUser = await import("@/server/auth/current-user");
});

afterAll(async () => {
  await db?.closeDb();
});

beforeEach(async () => {
  fakeRequest.reset();
  const d = db.getDb();
  await d.loginAttempt.deleteMany();
  await d.session.deleteMany();
  await d.user.deleteMany();
});

/** What is in the database, read apart from Prisma: nothing secret may be there in the clear. */
async function rawRows(table: string): Promise<Record<string, unknown>[]> {
  const raw = await openRawDb(dbUrl, { readonly: true });
  try {
    return await raw.all(`SELECT * FROM "${table}"`);
  } finally {
    await raw.close();
  }
}

const at = (iso: string) => new Date(iso);

describe("password hashing", () => {
  it("stores argon2id in PHC form with its own salt, and verifies only the right password", async () => {
    const a = await password.hashPassword("correct horse");
    const b = await password.hashPassword("correct horse");
    expect(a).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(a).not.toBe(b); // a fresh salt each time
    expect(await password.verifyPassword(a, "correct horse")).toBe(true);
    expect(await password.verifyPassword(b, "correct horse")).toBe(true);
    expect(await password.verifyPassword(a, "correct horse ")).toBe(false);
    expect(await password.verifyPassword(a, "")).toBe(false);
  });

  it("says no, without throwing, for a stored value that is not a hash", async () => {
    expect(await password.verifyPassword("plain text", "plain text")).toBe(false);
    expect(await password.verifyPassword("", "x")).toBe(false);
  });
});

describe("the admin account", () => {
  it("is created with a generated password when none is configured, printed once, stored only hashed", async () => {
    const first = await admin.ensureAdmin({});
    expect(first).toMatchObject({ action: "created", name: "admin" });
    const generated = first.action === "created" ? first.generatedPassword : null;
    expect(generated).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(JSON.stringify(await rawRows("User"))).not.toContain(generated!);
    expect(await login.logIn({ username: "admin", password: generated!, ip: "10.0.0.1" })).toMatchObject({ user: { name: "admin" } });

    // The next start changes nothing and shows no password.
    expect(await admin.ensureAdmin({})).toEqual({ action: "unchanged", name: "admin" });
  });

  it("takes CANOPY_ADMIN_PASSWORD, and a changed value resets the password and ends the admin's sessions", async () => {
    expect(await admin.ensureAdmin({ CANOPY_ADMIN_PASSWORD: "first-secret" })).toEqual({
      action: "created",
      name: "admin",
      generatedPassword: null,
    });
    const { session } = await login.logIn({ username: "admin", password: "first-secret", ip: "10.0.0.1" });
    expect(await sessions.findSessionUser(session.token)).toMatchObject({ name: "admin" });

    expect(await admin.ensureAdmin({ CANOPY_ADMIN_PASSWORD: "first-secret" })).toEqual({ action: "unchanged", name: "admin" });
    expect(await admin.ensureAdmin({ CANOPY_ADMIN_PASSWORD: "second-secret" })).toEqual({ action: "password-reset", name: "admin" });
    expect(await sessions.findSessionUser(session.token)).toBeNull();
    await expect(login.logIn({ username: "admin", password: "first-secret", ip: "10.0.0.1" })).rejects.toThrow("Wrong user name or password.");
    const second = await login.logIn({ username: "admin", password: "second-secret", ip: "10.0.0.1" });
    expect(await sessions.findSessionUser(second.session.token)).toMatchObject({ name: "admin" });
  });
});

describe("sessions", () => {
  it("keep only a hash of the token, find their user until they expire, and end on logout", async () => {
    await admin.ensureAdmin({ CANOPY_ADMIN_PASSWORD: "pw" });
    const now = at("2030-01-01T00:00:00Z");
    const { user, session } = await login.logIn({ username: " Admin ", password: "pw", ip: "10.0.0.1" }, { now });
    expect(user.name).toBe("admin");
    expect(session.token).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes
    expect(session.expiresAt.getTime() - now.getTime()).toBe(sessions.SESSION_LIFETIME_MS);

    const rows = await rawRows("Session");
    expect(rows).toHaveLength(1);
    expect(rows[0]!.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rows)).not.toContain(session.token);

    expect(await sessions.findSessionUser(session.token, at("2030-01-07T23:59:59Z"))).toEqual({ id: user.id, name: "admin" });
    expect(await sessions.findSessionUser(`${session.token}x`, now)).toBeNull();
    expect(await sessions.findSessionUser("", now)).toBeNull();

    // Expired: refused, and the row is gone.
    expect(await sessions.findSessionUser(session.token, at("2030-01-08T00:00:00Z"))).toBeNull();
    expect(await rawRows("Session")).toHaveLength(0);

    const second = await login.logIn({ username: "admin", password: "pw", ip: "10.0.0.1" });
    await sessions.deleteSession(second.session.token);
    expect(await sessions.findSessionUser(second.session.token)).toBeNull();
  });

  it("are read from the request's cookie by requireUser(), which sends everyone else to the login page", async () => {
    await admin.ensureAdmin({ CANOPY_ADMIN_PASSWORD: "pw" });
    const { session } = await login.logIn({ username: "admin", password: "pw", ip: "10.0.0.1" });

    fakeRequest.reset({ cookies: { canopy_session: session.token } });
    await expect(currentUser.requireUser()).resolves.toMatchObject({ name: "admin" });

    fakeRequest.reset({ cookies: { canopy_session: "made-up" }, headers: { "x-canopy-path": "/jobs?x=1" } });
    await expect(currentUser.requireUser()).rejects.toMatchObject({ digest: expect.stringMatching(/^NEXT_REDIRECT;replace;\/login\?next=%2Fjobs%3Fx%3D1;307;/) });

    fakeRequest.reset();
    await expect(currentUser.requireUser()).rejects.toMatchObject({ digest: expect.stringMatching(/^NEXT_REDIRECT;replace;\/login;307;/) });
  });
});

describe("logging in", () => {
  it("refuses a wrong password and an unknown user with the same words", async () => {
    await admin.ensureAdmin({ CANOPY_ADMIN_PASSWORD: "pw" });
    const wrong = login.logIn({ username: "admin", password: "nope", ip: "10.0.0.1" });
    await expect(wrong).rejects.toMatchObject({ name: "CanopyError", code: "refused", message: "Wrong user name or password." });
    const nobody = login.logIn({ username: "root", password: "pw", ip: "10.0.0.2" });
    await expect(nobody).rejects.toMatchObject({ name: "CanopyError", code: "refused", message: "Wrong user name or password." });
    expect((await rawRows("LoginAttempt")).map((r) => [r.username, r.ip, r.outcome])).toEqual(
      expect.arrayContaining([
        ["admin", "10.0.0.1", "failure"],
        ["root", "10.0.0.2", "failure"],
      ]),
    );
    expect(await rawRows("Session")).toHaveLength(0);
  });
});
