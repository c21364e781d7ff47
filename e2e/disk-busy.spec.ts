import fs from "node:fs";
import path from "node:path";
import type { Page } from "@playwright/test";
import { test, expect } from "./fixtures";
import {
  ARTIFACTS,
  BACKUPS,
  STORAGE,
  canopy,
  canopyRunning,
  clickNode,
  edge,
  makeBigDisk,
  node,
} from "./disk-actions-support";
import { expectProgressShown, progressOrEnd, recordJobBar } from "./job-bar";

// The disk page shows jobs it did not start, here started from the CLI while the page is open: the job, who
// started it, the actions kept off, Cancel, and the graph redrawn when it ends, all without a reload. On a disk
// of its own, B0 ← B1 (3 GiB of data, so its merge runs long enough to be watched) ← B2; at the end the disk and
// its backups go, so the later specs see the demo as it was.

const DISK = "busy-e2e";
const MiB = 1024 * 1024;

test.describe.configure({ mode: "serial" });

test.afterAll(() => {
  fs.rmSync(path.join(STORAGE, DISK), { recursive: true, force: true });
  fs.rmSync(path.join(BACKUPS, DISK), { recursive: true, force: true });
  canopy("backups", DISK); // the Backup table drops what the repository no longer holds
  canopy("scan");
});

const outsideBar = (page: Page) => page.getByTestId("outside-job-progress");

/** A mark on the window: still there at the end only if the page was never reloaded. */
async function markDocument(page: Page): Promise<() => Promise<boolean>> {
  await page.evaluate(() => Object.assign(window, { e2eSameDocument: true }));
  return () => page.evaluate(() => "e2eSameDocument" in window);
}

test("a merge started from the CLI shows with who started it, keeps the actions off, and the graph redraws when it ends", async ({ page }) => {
  test.setTimeout(180_000);
  makeBigDisk(DISK, 3072);
  await page.goto(`/disks/${DISK}`);
  await expect(node(page, "B1")).toBeVisible();
  const sameDocument = await markDocument(page);

  const shown = await recordJobBar(page, "outside-job-progress");
  const cli = canopyRunning(["merge-down", DISK, "--top", "B1", "--base", "B0"]);
  const bar = outsideBar(page);
  await expect(bar).toHaveAttribute("data-job-state", /queued|running/, { timeout: 15_000 });
  await expect(bar.getByTestId("job-summary")).toHaveText("Merge B1 down into B0");
  await expect(bar.getByTestId("job-started-by")).toHaveText(/^started from the CLI/);
  // It is not this tab's job: the tab's own bar stays away.
  await expect(page.getByTestId("job-progress")).toHaveCount(0);
  const health = page.getByTestId("backup-state").getByTestId("bitmap-health");
  await expect(health).toContainText("A merge-down job is running on this disk");

  await clickNode(page, "B2");
  const actions = page.getByTestId("layer-actions");
  await expect(actions).toContainText(/A merge-down job started from the CLI.* holds this disk: Merge B1 down into B0\./);
  const buttons = await actions.getByRole("button").all();
  expect(buttons.length).toBeGreaterThan(0);
  for (const button of buttons) await expect(button).toBeDisabled();

  // Caught mid-copy for the screenshot (the bar reads the job every second).
  await progressOrEnd(shown);
  await page.screenshot({ path: `${ARTIFACTS}/disk-outside-job.png` });

  await expect(bar).toHaveAttribute("data-job-state", "succeeded", { timeout: 150_000 });
  expect((await cli).code).toBe(0);
  await expect(bar.getByTestId("job-bytes")).toContainText("3 GiB of 3 GiB");
  expectProgressShown(await shown(), "3 GiB");
  await expect(node(page, "B1")).toHaveCount(0);
  await expect(edge(page, "B0", "B2")).toHaveCount(1);
  for (const button of buttons) await expect(button).toBeEnabled();
  await expect(actions).not.toContainText("holds this disk");
  await expect(health).toContainText("Next backup is full (first backup)");
  expect(await sameDocument()).toBe(true);

  await bar.getByRole("button", { name: "Dismiss" }).click();
  await expect(bar).toHaveCount(0);
});

test("a backup started from the CLI can be cancelled from the disk page, after a confirmation", async ({ page }) => {
  test.setTimeout(90_000);
  await page.goto(`/disks/${DISK}`);
  // Capped so that it runs for a minute or more: the page has all the time it needs to cancel it.
  const cli = canopyRunning(["backup", DISK], { CANOPY_BACKUP_SPEED: String(32 * MiB) });
  const bar = outsideBar(page);
  await expect(bar).toHaveAttribute("data-job-state", "running", { timeout: 15_000 });
  await expect(bar.getByTestId("job-summary")).toHaveText(`backup of ${DISK}`);
  await expect(bar.getByTestId("job-started-by")).toHaveText(/^started from the CLI/);

  await bar.getByRole("button", { name: "Cancel job" }).click();
  const confirm = bar.getByRole("group", { name: "Confirm cancelling the job" });
  await expect(confirm).toBeVisible();
  await confirm.getByRole("button", { name: "Keep running" }).click();
  await expect(confirm).toHaveCount(0);
  await expect(bar).toHaveAttribute("data-job-state", "running");

  await bar.getByRole("button", { name: "Cancel job" }).click();
  await confirm.getByRole("button", { name: "Yes, cancel" }).click();
  await expect(bar).toHaveAttribute("data-job-state", "cancelled", { timeout: 20_000 });
  await expect(bar.getByTestId("job-error")).toContainText("cancelled");
  // The CLI reports the job it ran as not done.
  const run = await cli;
  expect(run.code).not.toBe(0);
  expect(run.stdout + run.stderr).toContain("cancelled");

  await clickNode(page, "B2");
  const actions = page.getByTestId("layer-actions");
  await expect(actions.getByRole("button").first()).toBeEnabled();
  await expect(actions).not.toContainText("holds this disk");
});

test("a snapshot from the CLI, over before the page's next look, still shows in the graph without a reload", async ({ page }) => {
  await page.goto(`/disks/${DISK}`);
  await expect(node(page, "B2")).toBeVisible();
  const sameDocument = await markDocument(page);
  // Seen holding the disk or not (it takes a fraction of the page's 3 s between looks), its end is seen.
  canopy("snapshot", DISK, "--name", "cli-snap");
  await expect(node(page, "cli-snap")).toBeVisible({ timeout: 10_000 });
  await expect(edge(page, "B2", "cli-snap")).toHaveCount(1);
  expect(await sameDocument()).toBe(true);
});
