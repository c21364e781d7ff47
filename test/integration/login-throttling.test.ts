// The login limits against a real migrated database (SQLite, or PostgreSQL in the PostgreSQL pass): nobody can
// lock the admin out, a guesser is refused only where it guesses from, every refusal is in the audit log, and
// the address counted is the real peer unless a configured proxy forwarded it.
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { useTempDatabase } from "../support/auth-db";
import { fakeRequest } from "../support/fake-next-request";

vi.mock("server-only", () => ({}));
vi.mock("next/headers", async () => (await import("../support/fake-next-request")).nextHeaders);

let db: typeof import("@/server/db");
let admin: typeof import("@/server/auth/ensure-admin");
let login: typeof import("@/server/auth/log-in");
let limit: typeof import("@/server/auth/login-rate-limit");
let audit: typeof import("@/server/audit-events");
let address: typeof import("@/server/auth/client-address");
let sessions: typeof import("@/server/auth/sessions");

beforeAll(async () => {
  await useTempDatabase();
  db = await import("@/server/db");
  admin = await import("@/server/auth/ensure-admin");
  login = await import("@/server/auth/log-in");
  limit = await import("@/server/auth/login-rate-limit");
  audit = await import("@/server/audit-events");
  address = await import("@/server/auth/client-address");
  sessions = await import("@/server/auth/sessions");
});

afterAll(async () => {
  await db?.closeDb();
});

const t0 = new Date("2030-01-01T12:00:00Z");
const plus = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
/** The delays logins were asked to wait, instead of waiting them. */
let waited: number[] = [];

const attempt = (when: Date, key: Partial<{ ip: string; username: string; password: string }> = {}) =>
  login.logIn(
    { username: key.username ?? "admin", password: key.password ?? "wrong", ip: key.ip ?? "10.0.0.1" },
    { now: when, wait: async (ms) => waited.push(ms) },
  );
/** A login that let the admin in: its session's token, read back, is the admin's. */
async function expectAdminIn(loggingIn: ReturnType<typeof attempt>, when: Date): Promise<void> {
  const { user, session } = await loggingIn;
  expect(user.name).toBe("admin");
  expect(await sessions.findSessionUser(session.token, when)).toEqual(user);
}
const WRONG = "Wrong user name or password.";
const THROTTLED = /^Too many failed logins\. Try again in \d+ s\.$/;

beforeEach(async () => {
  fakeRequest.reset();
  waited = [];
  const d = db.getDb();
  await d.loginAttempt.deleteMany();
  await d.auditEvent.deleteMany();
  await d.session.deleteMany();
  await d.user.deleteMany();
  await admin.ensureAdmin({ CANOPY_ADMIN_PASSWORD: "pw" });
});

describe("the lock-out attempt", () => {
  it("many wrong passwords under variants of the admin's name from many addresses: the admin still logs in from a fresh one", async () => {
    const variants = ["admin", "Admin", " ADMIN ", "aDmIn\t", "ADMIN"];
    let n = 0;
    for (let host = 1; host <= 10; host++) {
      for (const username of variants) {
        await expect(attempt(plus(n++ / 10), { ip: `203.0.113.${host}`, username })).rejects.toThrow(WRONG);
      }
    }
    // Every variant counted as the one user name.
    const names = new Set((await db.getDb().loginAttempt.findMany()).map((r) => r.username));
    expect(names).toEqual(new Set(["admin"]));
    // The guessers were slowed down too (1 s, 2 s, ... then 10 s each).
    expect(waited.slice(0, 6)).toEqual([0, 0, 0, 0, 0, 0].map((_, i) => [1000, 2000, 4000, 8000, 10_000, 10_000][i]));
    waited = [];

    // The right password from an address that guessed nothing: in, after the user name's delay (capped).
    await expect(attempt(plus(5), { ip: "198.51.100.7", password: "pw" })).resolves.toMatchObject({ user: { name: "admin" } });
    expect(waited).toEqual([limit.LOGIN_LIMITS.maxDelayMs]);

    // The guessers' own addresses are refused for that user, the right password included, without a check.
    await expect(attempt(plus(6), { ip: "203.0.113.1", password: "pw" })).rejects.toThrow(THROTTLED);
  });

  it("the user name's delay grows with its failures from everywhere and never refuses", async () => {
    expect([0, 5, 6, 7, 8, 9, 10, 50].map(limit.userDelayMs)).toEqual([0, 0, 1000, 2000, 4000, 8000, 10_000, 10_000]);
    for (let i = 0; i < 6; i++) await expect(attempt(plus(i), { ip: `203.0.113.${i}` })).rejects.toThrow(WRONG);
    await expectAdminIn(attempt(plus(7), { ip: "198.51.100.7", password: "pw" }), plus(7));
    expect(waited).toEqual([1000]);
    // A minute after the failures, no delay.
    waited = [];
    await expectAdminIn(attempt(plus(70), { ip: "198.51.100.7", password: "pw" }), plus(70));
    expect(waited).toEqual([]);
  });
});

describe("the limits", () => {
  it("5 wrong passwords per user name and address: the 6th from there is refused even when right, elsewhere not", async () => {
    for (let i = 0; i < 5; i++) await expect(attempt(plus(i))).rejects.toThrow(WRONG);
    await expect(attempt(plus(10), { password: "pw" })).rejects.toMatchObject({
      code: "refused",
      message: "Too many failed logins. Try again in 50 s.",
      details: { retryAfterSeconds: 50 },
    });
    await expect(attempt(plus(10), { ip: "10.0.0.2", password: "pw" })).resolves.toMatchObject({ user: { name: "admin" } });
    // A minute after the first failure, one slot is free again.
    await expect(attempt(plus(60.5), { password: "pw" })).resolves.toMatchObject({ user: { name: "admin" } });
  });

  it("20 wrong passwords per address whatever the user names, so rotating names does not buy more password checks", async () => {
    for (let i = 0; i < 20; i++) await expect(attempt(plus(i), { username: `user${i}` })).rejects.toThrow(WRONG);
    await expect(attempt(plus(20), { username: "someone-new" })).rejects.toThrow(THROTTLED);
    await expect(attempt(plus(20), { password: "pw" })).rejects.toThrow(THROTTLED);
    await expectAdminIn(attempt(plus(20), { ip: "10.0.0.2", password: "pw" }), plus(20));
  });

  it("counts an IPv6 /64 as one address: new addresses in it buy nothing", async () => {
    for (let i = 1; i <= 20; i++) await expect(attempt(plus(i), { ip: `2001:db8:1:2::${i.toString(16)}`, username: `u${i}` })).rejects.toThrow(WRONG);
    await expect(attempt(plus(21), { ip: "2001:db8:1:2:ffff:ffff:ffff:ffff", username: "x" })).rejects.toThrow(THROTTLED);
    await expectAdminIn(attempt(plus(21), { ip: "2001:db8:1:3::1", password: "pw" }), plus(21));
  });

  it("counts only wrong passwords: successes and refused attempts do not fill the window", async () => {
    for (let i = 0; i < 10; i++) await expectAdminIn(attempt(plus(i), { password: "pw" }), plus(i));
    for (let i = 0; i < 5; i++) await expect(attempt(plus(10 + i))).rejects.toThrow(WRONG);
    for (let i = 0; i < 5; i++) await expect(attempt(plus(20 + i), { password: "pw" })).rejects.toThrow(THROTTLED);
    // Being refused again and again does not push the end of the wait further out.
    await expectAdminIn(attempt(plus(70.5), { password: "pw" }), plus(70.5));
    const outcomes = (await db.getDb().loginAttempt.findMany()).map((r) => r.outcome);
    expect(outcomes.filter((o) => o === "success")).toHaveLength(11);
    expect(outcomes.filter((o) => o === "failure")).toHaveLength(5);
    // Of the five refusals in one minute, only the address's first is kept: the rest would only grow the table.
    expect(outcomes.filter((o) => o === "blocked")).toHaveLength(1);
  });

  it("holds against a burst of parallel attempts: no more than 5 of them get to check a password", async () => {
    // Attempts still being checked count as failures, so a burst may let fewer than 5 through, never more.
    const slots = await Promise.all(Array.from({ length: 12 }, () => limit.takeLoginAttempt({ ip: "10.0.2.1", username: "admin" }, plus(0))));
    expect(slots.filter((s) => s.retryAfterSeconds === 0).length).toBeLessThanOrEqual(5);
    expect(slots.filter((s) => s.retryAfterSeconds > 0).length).toBeGreaterThanOrEqual(7);
  });

  it("survives a restart: the count is in the database, not in memory", async () => {
    for (let i = 0; i < 5; i++) await expect(attempt(plus(i))).rejects.toThrow(WRONG);
    await db.closeDb(); // what a restarted web server starts from
    await expect(attempt(plus(6), { password: "pw" })).rejects.toThrow(THROTTLED);
  });

  it("forgets attempts after a day", async () => {
    await expect(attempt(plus(0))).rejects.toThrow(WRONG);
    expect(await db.getDb().loginAttempt.count()).toBe(1);
    await limit.pruneLoginAttempts(plus(24 * 3600 - 1));
    expect(await db.getDb().loginAttempt.count(), "kept for a day").toBe(1);
    await limit.pruneLoginAttempts(plus(24 * 3600 + 1));
    expect(await db.getDb().loginAttempt.count()).toBe(0);
  });
});

const THROTTLED_REASON = "too many failed logins (further refusals of this address within a minute are not recorded one by one)";

describe("the audit log", () => {
  it("records every failed login, wrong or throttled, with the address and the name as counted", async () => {
    for (let i = 0; i < 5; i++) await expect(attempt(plus(i), { username: " Admin ", ip: "192.0.2.9" })).rejects.toThrow(WRONG);
    await expect(attempt(plus(6), { username: "ADMIN", ip: "192.0.2.9", password: "pw" })).rejects.toThrow(THROTTLED);
    await expect(attempt(plus(7), { username: "root", ip: "192.0.2.10" })).rejects.toThrow(WRONG);
    const events = (await audit.listAuditEvents({ limit: 50 })).filter((e) => e.action === "login-failed");
    expect(events.map((e) => [e.actor, e.extra.ip, e.extra.reason])).toEqual([
      ["root", "192.0.2.10", "wrong user name or password"],
      ["admin", "192.0.2.9", THROTTLED_REASON],
      ...Array.from({ length: 5 }, () => ["admin", "192.0.2.9", "wrong user name or password"]),
    ]);
  });

  it("keeps one row per minute for an address refused again and again, so hammering the form grows nothing", async () => {
    const wrongTwenty = async (from: number) => {
      for (let i = 0; i < 20; i++) await expect(attempt(plus(from + i / 10), { ip: "192.0.2.20", username: `guess${i}` })).rejects.toThrow(WRONG);
    };
    await wrongTwenty(0);
    for (let i = 0; i < 200; i++) await expect(attempt(plus(5 + i / 100), { ip: "192.0.2.20", username: `name${i}` })).rejects.toThrow(THROTTLED);
    const refusals = async () => (await audit.listAuditEvents({ limit: 500 })).filter((e) => e.extra.reason === THROTTLED_REASON);
    expect(await refusals()).toHaveLength(1);
    expect(await db.getDb().loginAttempt.count({ where: { ip: "192.0.2.20", outcome: "blocked" } })).toBe(1);
    // Still refused until the window has room, and the next minute's first refusal is recorded again.
    await expect(attempt(plus(59.5), { ip: "192.0.2.20", password: "pw" })).rejects.toThrow(THROTTLED);
    await wrongTwenty(62);
    await expect(attempt(plus(65), { ip: "192.0.2.20" })).rejects.toThrow(THROTTLED);
    expect(await refusals()).toHaveLength(2);
  });
});

describe("the address counted", () => {
  const saved = { peer: process.env.CANOPY_PEER_ADDRESS_HEADER, proxies: process.env.CANOPY_TRUSTED_PROXIES };
  afterAll(() => {
    for (const [name, value] of [["CANOPY_PEER_ADDRESS_HEADER", saved.peer], ["CANOPY_TRUSTED_PROXIES", saved.proxies]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  const request = (headers: Record<string, string>) => fakeRequest.reset({ headers });

  it("is the peer, whatever X-Forwarded-For says, unless the peer is a configured proxy", async () => {
    process.env.CANOPY_PEER_ADDRESS_HEADER = "1";
    delete process.env.CANOPY_TRUSTED_PROXIES;
    request({ "x-canopy-peer-address": "::ffff:192.0.2.1", "x-forwarded-for": "203.0.113.99" });
    expect(await address.clientAddress()).toBe("192.0.2.1");

    process.env.CANOPY_TRUSTED_PROXIES = "127.0.0.1, 10.0.0.0/8";
    request({ "x-canopy-peer-address": "192.0.2.1", "x-forwarded-for": "203.0.113.99" });
    expect(await address.clientAddress()).toBe("192.0.2.1"); // not a proxy: its header is the client's own
    request({ "x-canopy-peer-address": "127.0.0.1", "x-forwarded-for": "203.0.113.99, 198.51.100.5, 10.1.2.3" });
    expect(await address.clientAddress()).toBe("198.51.100.5"); // past the trusted hops, never the client's own part
  });

  it("is 'unknown' (one address for everyone) when the server did not report the peer, never the client's header", async () => {
    delete process.env.CANOPY_PEER_ADDRESS_HEADER;
    delete process.env.CANOPY_TRUSTED_PROXIES;
    request({ "x-canopy-peer-address": "192.0.2.1", "x-forwarded-for": "203.0.113.99" });
    expect(await address.clientAddress()).toBe("unknown");
  });
});
