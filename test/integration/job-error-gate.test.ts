// A job's error is stored and shown through the error gate: a failed tool and a CanopyError say what happened,
// an internal error (here a real Prisma error, which names source files and quotes source lines) becomes a
// short reference, with the detail in the server's log. Real database, real job machinery, real qemu-img;
// GET /api/jobs/<id> is the route handler itself, with the request's session cookie faked.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { CanopyError } from "@/lib/errors";
import { run } from "@/lib/proc/run";
import { useTempDatabase } from "../support/auth-db";
import { fakeRequest } from "../support/fake-next-request";
import { makeTempDir } from "../support/tmp";

vi.mock("server-only", () => ({}));
vi.mock("next/headers", async () => (await import("../support/fake-next-request")).nextHeaders);
vi.mock("next/navigation", async () => import("next/dist/client/components/navigation.react-server.js"));

const REPO = path.resolve(import.meta.dirname, "../..");

let db: typeof import("@/server/db");
let jobs: typeof import("@/server/jobs/create-job");
let runJob: typeof import("@/server/jobs/run-job").runJob;
let taskExecutor: typeof import("@/server/backups/run-task").taskExecutor;
let token: string;

beforeAll(async () => {
  await useTempDatabase();
  db = await import("@/server/db");
  jobs = await import("@/server/jobs/create-job");
  runJob = (await import("@/server/jobs/run-job")).runJob;
  taskExecutor = (await import("@/server/backups/run-task")).taskExecutor;
  await (await import("@/server/auth/ensure-admin")).ensureAdmin({ CANOPY_ADMIN_PASSWORD: "pw" });
  const admin = await db.getDb().user.findUniqueOrThrow({ where: { name: "admin" } });
  token = (await (await import("@/server/auth/sessions")).createSession(admin.id)).token;
});

afterAll(async () => {
  await db?.closeDb();
});

/** Runs a verify-kind job whose work is `fail`, and returns its stored error and what the API answers. */
async function failedJob(fail: () => Promise<unknown>) {
  const jobId = await jobs.createTaskJob({ kind: "verify", disk: "gone", params: {}, summary: "test", requestedBy: "test", claimNow: true });
  // The lifecycle every job runs in, around a verify-side executor whose work is `fail`.
  const failing = taskExecutor(z.object({}), async () => (await fail(), { outcome: "succeeded" as const, result: null }));
  const end = await runJob(jobId, failing);
  const outcome = { state: end.outcome, error: end.error };
  const row = await db.getDb().job.findUniqueOrThrow({ where: { id: jobId } });
  const audit = await db.getDb().auditEvent.findFirstOrThrow({ where: { detail: { contains: jobId } } });
  fakeRequest.reset({ cookies: { canopy_session: token } });
  const { GET } = await import("@/app/api/jobs/[id]/route");
  const res = await GET(new Request(`http://localhost/api/jobs/${jobId}`), { params: Promise.resolve({ id: jobId }) });
  expect(res.status).toBe(200);
  const view = (await res.json()) as { state: string; error: string | null };
  return { outcome, stored: row.error, audit: audit.detail, view };
}

describe("a job's error passes the error gate", () => {
  it("an internal error (a Prisma error naming source files) is stored and shown as a reference; the log has it", async () => {
    const logged: unknown[][] = [];
    const log = vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void logged.push(args));
    let thrown = "";
    try {
      const r = await failedJob(async () => {
        try {
          await db.getDb().job.update({ where: { id: "no-such-job" }, data: { stage: "x" } });
        } catch (err) {
          thrown = String((err as Error).message);
          throw err;
        }
      });
      // The raw error really is the kind that must not leak: it names this file.
      expect(thrown).toContain(REPO);
      expect(r.outcome.state).toBe("failed");
      for (const shown of [r.stored, r.view.error, r.outcome.error]) {
        expect(shown).toMatch(/^Something went wrong \(ref [A-Z0-9]{8}\)\. The server log has the details\.$/);
      }
      expect(r.view.state).toBe("failed");
      expect(r.audit).not.toContain(REPO);
      expect(r.audit).not.toContain("invocation");
      // The detail is in the log, under the same reference.
      const ref = /ref ([A-Z0-9]{8})/.exec(r.stored!)![1]!;
      const entry = logged.find((args) => String(args[0]).includes(ref));
      expect((entry?.[1] as Error | undefined)?.message).toBe(thrown);
    } finally {
      log.mockRestore();
    }
  });

  it("a CanopyError and a failed tool pass with their own words", async () => {
    const canopy = await failedJob(async () => {
      throw new CanopyError("failed", "backup 20260101 failed verification: sha256 mismatch");
    });
    expect(canopy.stored).toBe("backup 20260101 failed verification: sha256 mismatch");
    expect(canopy.view.error).toBe(canopy.stored);

    const missing = path.join(await makeTempDir(), "missing.qcow2");
    const tool = await failedJob(() => run("qemu-img", ["info", missing]));
    expect(tool.stored).toMatch(/^qemu-img failed: /);
    expect(tool.stored).toContain("missing.qcow2");
    expect(tool.view.error).toBe(tool.stored);
  });
});
