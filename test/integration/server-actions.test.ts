// Every server action of the app: made through the action client (so none can skip the session check), and the
// operation actions run for real against a seeded storage root, a migrated database and real qemu-img.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { makeCanopyEnv, type CanopyEnv } from "../support/canopy-env";
import { fakeRequest } from "../support/fake-next-request";

vi.mock("server-only", () => ({}));
vi.mock("next/headers", async () => (await import("../support/fake-next-request")).nextHeaders);
vi.mock("next/navigation", async () => import("next/dist/client/components/navigation.react-server.js"));

const REPO = path.resolve(import.meta.dirname, "../..");
const SOURCE_DIRS = ["app", "server", "components"];
/** Actions anyone may call: the login form. Everything else needs a session. */
const PUBLIC_ACTIONS = ["server/actions/auth.ts#loginAction"];

function sourceFiles(): string[] {
  return SOURCE_DIRS.flatMap((dir) =>
    fs
      .readdirSync(path.join(REPO, dir), { recursive: true, encoding: "utf8" })
      .filter((f) => /\.(ts|tsx)$/.test(f) && !f.split(path.sep).includes("generated"))
      .map((f) => path.join(dir, f).split(path.sep).join("/")),
  );
}

/** A "use server" directive as the file's first statement (comments may come before it). */
const FILE_DIRECTIVE = /^(?:\s|\/\/[^\n]*\n|\/\*[\s\S]*?\*\/)*["']use server["']/;
const ANY_DIRECTIVE = /^\s*["']use server["'];?\s*$/gm;

describe("every server action goes through the action client", () => {
  const files = sourceFiles().map((file) => ({ file, text: fs.readFileSync(path.join(REPO, file), "utf8") }));
  const actionFiles = files.filter((f) => FILE_DIRECTIVE.test(f.text));

  it("finds the action files", () => {
    expect(actionFiles.map((f) => f.file)).toEqual(expect.arrayContaining(["server/actions/auth.ts", "server/actions/operations.ts"]));
  });

  it("has no inline server actions (a \"use server\" inside a function would bypass defineAction)", () => {
    const inline = files.filter((f) => (f.text.match(ANY_DIRECTIVE)?.length ?? 0) > (FILE_DIRECTIVE.test(f.text) ? 1 : 0));
    expect(inline.map((f) => f.file)).toEqual([]);
  });

  it("makes every export of a \"use server\" file with defineAction, or definePublicAction for the login form only", async () => {
    const { actionAccess } = await import("@/server/actions/client");
    const found: Record<string, string | undefined> = {};
    for (const { file } of actionFiles) {
      const mod = (await import(/* @vite-ignore */ path.join(REPO, file))) as Record<string, unknown>;
      for (const [name, value] of Object.entries(mod)) found[`${file}#${name}`] = actionAccess(value);
    }
    const unguarded = Object.entries(found).filter(([, access]) => access === undefined).map(([name]) => name);
    expect(unguarded).toEqual([]);
    expect(Object.entries(found).filter(([, access]) => access === "public").map(([name]) => name)).toEqual(PUBLIC_ACTIONS);
    expect(Object.keys(found)).toEqual(
      expect.arrayContaining([
        "server/actions/auth.ts#logoutAction",
        "server/actions/operations.ts#planOperationAction",
        "server/actions/operations.ts#startOperationAction",
        "server/actions/operations.ts#cancelJobAction",
      ]),
    );
  });
});

describe("the operation actions, on the seed example", () => {
  let env: CanopyEnv;
  let token: string;
  let actions: typeof import("@/server/actions/operations");
  let db: typeof import("@/server/db");

  beforeAll(async () => {
    env = await makeCanopyEnv();
    for (const key of ["DATABASE_URL", "CANOPY_STORAGE_ROOT", "CANOPY_BACKUP_ROOT"]) process.env[key] = env.env[key];
    db = await import("@/server/db");
    actions = await import("@/server/actions/operations");
    await (await import("@/server/auth/ensure-admin")).ensureAdmin({ CANOPY_ADMIN_PASSWORD: "pw" });
    token = (await (await import("@/server/auth/log-in")).logIn({ username: "admin", password: "pw", ip: "10.0.0.1" })).session.token;
  }, 120_000);

  afterAll(async () => {
    await db?.closeDb();
  });

  beforeEach(() => fakeRequest.reset({ cookies: { canopy_session: token } }));

  const jobs = () => db.getDb().job.findMany({ orderBy: { createdAt: "asc" } });

  it("plans: a refused plan is data (with its reason and safe alternative), not an error", async () => {
    const refused = await actions.planOperationAction({ disk: "vm-1", request: { operation: "merge-down", top: "1B", base: "VM1" } });
    expect(refused).toMatchObject({ ok: true, data: { operation: "merge-down", refused: { dependents: ["1X"], alternative: { operation: "merge-up" } } } });

    const snapshot = await actions.planOperationAction({ disk: "vm-1", request: { operation: "snapshot", name: "S1" } });
    expect(snapshot).toMatchObject({ ok: true, data: { refused: null, creates: ["S1"], activeBefore: "1C", activeAfter: "S1" } });

    expect(await actions.planOperationAction({ disk: "no-such-disk", request: { operation: "flatten" } })).toMatchObject({
      ok: false,
      error: { code: "not-found", message: 'no disk named "no-such-disk" under the storage root' },
    });
    expect(await actions.planOperationAction({ disk: "vm-1", request: { operation: "explode" } as never })).toMatchObject({
      ok: false,
      error: { code: "invalid-input" },
    });
    expect(await jobs()).toEqual([]);
  });

  it("starts: queues a job for the worker in the admin's name, refuses a refused plan and a busy disk", async () => {
    const started = await actions.startOperationAction({ disk: "vm-2", request: { operation: "snapshot", name: "S2" } });
    expect(started).toMatchObject({ ok: true, data: { jobId: expect.any(String) } });
    const jobId = started.ok ? started.data.jobId : "";
    expect(await jobs()).toEqual([expect.objectContaining({ id: jobId, state: "queued", requestedBy: "admin", kind: "snapshot" })]);

    const busy = await actions.startOperationAction({ disk: "vm-2", request: { operation: "flatten" } });
    expect(busy).toMatchObject({ ok: false, error: { code: "busy", details: { jobId } } });

    const refused = await actions.startOperationAction({ disk: "vm-1", request: { operation: "merge-down", top: "1B", base: "VM1" } });
    expect(refused).toMatchObject({ ok: false, error: { code: "refused", message: expect.stringContaining("sibling rule") } });
    expect(await jobs()).toHaveLength(1);
  });

  it("cancels a queued job at once, frees its disk, and records who asked", async () => {
    const [job] = await jobs();
    expect(await actions.cancelJobAction({ jobId: job!.id })).toEqual({ ok: true, data: { id: job!.id, state: "cancelled" } });
    expect(await db.getDb().job.findUniqueOrThrow({ where: { id: job!.id } })).toMatchObject({ state: "cancelled", error: "cancelled by admin" });
    expect(await db.getDb().diskLock.count()).toBe(0);
    expect(await db.getDb().auditEvent.findFirst({ where: { action: "cancel" } })).toMatchObject({ actor: "admin" });

    expect(await actions.cancelJobAction({ jobId: job!.id })).toMatchObject({ ok: false, error: { code: "invalid-input", message: expect.stringContaining("has already ended") } });
    expect(await actions.cancelJobAction({ jobId: "nope" })).toMatchObject({ ok: false, error: { code: "not-found" } });
  });

  it("does nothing at all without a session", async () => {
    fakeRequest.reset();
    const before = await jobs();
    for (const result of [
      await actions.startOperationAction({ disk: "vm-2", request: { operation: "snapshot", name: "S3" } }),
      await actions.planOperationAction({ disk: "vm-2", request: { operation: "flatten" } }),
      await actions.cancelJobAction({ jobId: before[0]!.id }),
    ]) {
      expect(result).toMatchObject({ ok: false, error: { code: "unauthenticated" } });
    }
    expect(await jobs()).toEqual(before);
    expect(fs.existsSync(path.join(env.root, "vm-2", "S3.qcow2"))).toBe(false);
  });
});
