import Database from "better-sqlite3";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { expect, test } from "./fixtures";

// The jobs page and the audit log, against jobs from outside the browser: one run by the CLI (in the same
// database, as an admin's shell would), and one that sits "running" so its progress and Cancel can be seen.
// They use a disk of their own, made here, so the demo disks stay as other specs expect them.

const ARTIFACTS = "e2e/artifacts";
const DATA = path.resolve("e2e/artifacts/data"); // scripts/e2e-server.sh's data folder
const DISK = "e2e-jobs";
const MiB = 1024 * 1024;

const env = {
  ...process.env,
  CANOPY_STORAGE_ROOT: path.join(DATA, "storage"),
  CANOPY_BACKUP_ROOT: path.join(DATA, "backups"),
  DATABASE_URL: `file:${path.join(DATA, "canopy.db")}`,
};

function canopy(...args: string[]): unknown {
  const out = execFileSync(process.execPath, ["bin/canopy.mjs", ...args, "--json"], { env, encoding: "utf8", timeout: 60_000 });
  return JSON.parse(out) as unknown;
}

/** Needs the files of the server scripts/e2e-server.sh started from this checkout. */
test.skip(() => !fs.existsSync(path.join(DATA, "canopy.db")), "no e2e server data folder in this checkout");

test.beforeAll(() => {
  const folder = path.join(DATA, "storage", DISK);
  fs.mkdirSync(folder, { recursive: true });
  execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", path.join(folder, "base.qcow2"), "16M"]);
  canopy("scan");
});

test.afterAll(() => {
  fs.rmSync(path.join(DATA, "storage", DISK), { recursive: true, force: true });
  canopy("scan"); // the disk's record goes; its jobs and audit events stay, as history does
});

test("a job run by the CLI shows on the jobs page with its outcome, and in the audit log with its plan", async ({ page }) => {
  await page.goto("/jobs");
  await expect(page.getByRole("heading", { name: "Jobs", level: 1 })).toBeVisible();

  // Started after the page loaded: it has to arrive by polling.
  const result = canopy("snapshot", DISK, "--name", "cli-snap", "--background") as { job: { id: string } };
  const row = page.getByTestId(`job-row-${result.job.id}`);
  await expect(row).toBeVisible({ timeout: 15_000 });
  await expect(row).toHaveAttribute("data-job-state", "succeeded", { timeout: 15_000 });
  await expect(page.getByTestId("recent-jobs").getByTestId(`job-row-${result.job.id}`)).toBeVisible();
  await expect(row).toContainText(`Snapshot`);
  await expect(row).toContainText(DISK);
  await expect(row).toContainText(/cli:/); // requested by the shell's user
  await expect(row).toContainText("Succeeded");
  await expect(row.getByRole("button", { name: "Cancel" })).toHaveCount(0);

  await page.getByRole("link", { name: "Audit log" }).click();
  await expect(page.getByRole("heading", { name: "Audit log", level: 1 })).toBeVisible();
  const event = page.getByTestId("audit-event-snapshot").filter({ hasText: DISK }).first();
  await expect(event).toContainText("succeeded");
  await expect(event.getByTestId("audit-plan")).toBeHidden();
  await event.locator("summary").click();
  const plan = event.getByTestId("audit-plan");
  await expect(plan).toBeVisible();
  await expect(plan).toContainText("create cli-snap on base");
  await expect(plan).toContainText("make cli-snap the active layer");
  await expect(plan).toContainText("cli-snap"); // creates
  await expect(page.getByTestId("audit-event-login").first()).toContainText("logged in");
  await page.screenshot({ path: `${ARTIFACTS}/audit-log.png` });
});

test("a running job shows live progress and can be cancelled after a confirmation", async ({ page }) => {
  const job = fakeRunningJob();
  try {
    await page.goto("/jobs");
    const row = page.getByTestId("active-jobs").getByTestId(`job-row-${job.id}`);
    await expect(row).toBeVisible();
    await expect(row).toContainText("Running");
    await expect(row).toContainText("Merge up of e2e fake layers");
    await expect(row.getByTestId("job-stage")).toHaveText("Now: pull into top, then back it by base");
    await expect(row.getByTestId("job-progress")).toContainText("16 MiB of 64 MiB");
    await expect(row.getByTestId("job-progress")).toContainText("25%");
    await expect(row.getByRole("progressbar")).toHaveAttribute("aria-valuenow", "25");

    // Progress moves without a reload.
    job.progress(48 * MiB);
    await expect(row.getByTestId("job-progress")).toContainText("48 MiB of 64 MiB");
    await expect(row.getByTestId("job-progress")).toContainText("75%");
    await expect(row.getByRole("progressbar")).toHaveAttribute("aria-valuenow", "75");
    await page.waitForTimeout(600); // the bar eases to its new width (500 ms)
    await page.screenshot({ path: `${ARTIFACTS}/jobs-page.png` });

    // Cancel asks first; "Keep it" changes nothing.
    await row.getByRole("button", { name: "Cancel" }).click();
    const dialog = page.getByTestId("confirm-dialog");
    await expect(dialog).toBeVisible();
    await expect(dialog).toContainText("Cancel this merge-up job?");
    await page.screenshot({ path: `${ARTIFACTS}/jobs-cancel-confirm.png` });
    await dialog.getByRole("button", { name: "Keep it" }).click();
    await expect(dialog).toBeHidden();
    expect(job.read().cancelRequested).toBe(0);

    await row.getByRole("button", { name: "Cancel" }).click();
    await dialog.getByRole("button", { name: "Cancel job" }).click();
    await expect(dialog).toBeHidden();
    await expect(row).toContainText("Cancelling");
    expect(job.read().cancelRequested).toBe(1);

    // What the job's runner does when it sees the request: stop, and record the end.
    job.end("cancelled", "cancelled by admin");
    const ended = page.getByTestId("recent-jobs").getByTestId(`job-row-${job.id}`);
    await expect(ended).toContainText("Cancelled", { timeout: 10_000 });
    await expect(ended.getByTestId("job-error")).toHaveText("cancelled by admin");
  } finally {
    job.end("cancelled", "cancelled by the e2e test");
    job.close();
  }
});

/**
 * A job row that looks like one being run right now by a live process: the test runner's own pid and a
 * heartbeat in the future, so the worker neither claims it (it is not queued) nor resumes it (its process is
 * alive and its heartbeat fresh). The test moves its progress and ends it, as a runner would.
 */
function fakeRunningJob() {
  const db = new Database(path.join(DATA, "canopy.db"), { timeout: 10_000 });
  const disk = db.prepare("SELECT id FROM Disk WHERE name = ?").get(DISK) as { id: string };
  const id = `e2e-running-${Date.now()}`;
  const now = new Date();
  const iso = (d: Date) => d.toISOString().replace("Z", "+00:00");
  const plan = { operation: "merge-up", disk: DISK, summary: "Merge up of e2e fake layers", steps: [], bytesToMove: 64 * MiB };
  db.prepare(
    `INSERT INTO Job (id, diskId, kind, state, params, plan, progressDone, progressTotal, stage, requestedBy, cancelRequested,
       workerPid, heartbeatAt, createdAt, startedAt)
     VALUES (?, ?, 'merge-up', 'running', '{}', ?, ?, ?, ?, 'admin', 0, ?, ?, ?, ?)`,
  ).run(id, disk.id, JSON.stringify(plan), 16 * MiB, 64 * MiB, "pull into top, then back it by base", process.pid,
    iso(new Date(now.getTime() + 3_600_000)), iso(new Date(now.getTime() - 5_000)), iso(new Date(now.getTime() - 4_000)));
  return {
    id,
    progress: (bytes: number) => db.prepare("UPDATE Job SET progressDone = ? WHERE id = ?").run(bytes, id),
    read: () => db.prepare("SELECT state, cancelRequested FROM Job WHERE id = ?").get(id) as { state: string; cancelRequested: number },
    end: (state: string, error: string) =>
      db.prepare("UPDATE Job SET state = ?, error = ?, endedAt = ?, stage = NULL WHERE id = ? AND state = 'running'").run(state, error, iso(new Date()), id),
    close: () => db.close(),
  };
}
