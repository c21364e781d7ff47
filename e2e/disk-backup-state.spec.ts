import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { Page } from "@playwright/test";
import { test, expect } from "./fixtures";
import { ARTIFACTS, BACKUPS, canopy, confirmAndWait, copyVm1, forgetDisk, layerAction, layerFile, openedPlan, registerDisk } from "./disk-actions-support";
import { nextCronRun } from "@/lib/backup/cron";
import { formatDateTime } from "@/components/format/time";

// The backup panel on the disk page, on a copy of vm-1 of its own (stopped; active layer 1C), step by step:
// nothing yet, a backup from the dashboard, a snapshot (the panel reads again when the job ends), a layer
// stacked by another tool (its writes are not tracked), a schedule, a backup that fails verification. At the
// end the disk, its backups and its policy override go, so the later specs see the demo as it was.

const DISK = "bs-e2e";
const SCHEDULE = "0 3 * * *";

test.describe.configure({ mode: "serial" });

test.afterAll(() => {
  canopy("policy", "--disk", DISK, "--schedule", "default");
  forgetDisk(DISK);
});

const panel = (page: Page) => page.getByTestId("backup-state");

test("before any backup: no backups yet, the next backup is full (first backup), no schedule", async ({ page }) => {
  copyVm1(DISK);
  await page.goto(`/disks/${DISK}`);
  const last = panel(page).getByTestId("last-backup");
  await expect(last).toContainText("No backups yet");
  await expect(last.getByRole("link")).toHaveAttribute("href", `/disks/${DISK}/backups`);
  await expect(panel(page).getByTestId("bitmap-health")).toContainText("Next backup is full (first backup)");
  await expect(panel(page).getByTestId("bitmap-health")).toHaveAttribute("data-tone", "neutral");
  const next = panel(page).getByTestId("next-run");
  await expect(next).toContainText("No schedule");
  await expect(next.getByRole("link", { name: /set one on the policy page/i })).toHaveAttribute("href", "/backups/policy");

  // The panel sits above the graph, never over it.
  const panelBox = (await panel(page).boundingBox())!;
  const treeBox = (await page.getByRole("region", { name: "Layer tree" }).boundingBox())!;
  expect(panelBox.y + panelBox.height).toBeLessThanOrEqual(treeBox.y);
  expect(treeBox.height).toBeGreaterThanOrEqual(420);
  await page.screenshot({ path: `${ARTIFACTS}/disk-backup-state-empty.png` });
});

test("after a backup from the dashboard: its kind, verify state and chain count; the bitmaps are healthy", async ({ page }) => {
  test.setTimeout(90_000);
  await page.goto(`/disks/${DISK}`);
  await panel(page).getByRole("link", { name: /backups page/ }).click();
  await expect(page).toHaveURL(`/disks/${DISK}/backups`);
  await page.getByRole("button", { name: "Back up now" }).click();
  await expect(page.getByTestId("backup-job")).toHaveAttribute("data-state", "succeeded", { timeout: 60_000 });

  await page.getByRole("navigation", { name: "Breadcrumb" }).getByRole("link", { name: DISK }).click();
  await expect(page).toHaveURL(`/disks/${DISK}`);
  const last = panel(page).getByTestId("last-backup");
  await expect(last).toHaveAttribute("data-kind", "full");
  await expect(last).toHaveAttribute("data-verify", "ok");
  await expect(last).toContainText("full");
  await expect(last).toContainText("Verified");
  await expect(last).toContainText("first backup");
  await expect(last.getByTestId("last-backup-chain")).toHaveText("chain 0/63");
  const health = panel(page).getByTestId("bitmap-health");
  await expect(health).toHaveAttribute("data-tone", "green");
  await expect(health).toContainText("Healthy: next backup is incremental");
  await page.screenshot({ path: `${ARTIFACTS}/disk-backup-state.png` });
});

test("a snapshot from the disk page: when its job ends the panel reads the bitmaps again", async ({ page }) => {
  await page.goto(`/disks/${DISK}`);
  const health = panel(page).getByTestId("bitmap-health");
  await expect(health).toContainText("changes tracked on 1C since backup");
  await layerAction(page, "1C", "snapshot");
  const form = page.getByRole("dialog");
  await form.getByLabel("Name").fill("bs-snap");
  await form.getByRole("button", { name: "Preview plan" }).click();
  await openedPlan(page);
  await confirmAndWait(page);
  // The bitmap went along to the new overlay, so the next backup stays incremental, across both layers.
  await expect(health).toContainText("changes tracked on bs-snap, 1C since backup");
  await expect(health).toHaveAttribute("data-tone", "green");
});

test("a layer stacked by another tool: the next backup is full, amber, and says why", async ({ page }) => {
  // qemu-img knows nothing of Canopy's bitmaps: the guest's writes into this overlay would not be tracked.
  execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", "-b", "bs-snap.qcow2", "-F", "qcow2", layerFile(DISK, "outside")]);
  registerDisk(DISK);
  await page.goto(`/disks/${DISK}`);
  const health = panel(page).getByTestId("bitmap-health");
  await expect(health).toHaveAttribute("data-tone", "amber");
  await expect(health).toContainText("Next backup is full (bitmap missing)");
  await expect(health).toContainText("layer outside has no bitmap");
  await page.screenshot({ path: `${ARTIFACTS}/disk-backup-state-amber.png` });
});

test("with a schedule on the policy, the next run's time", async ({ page }) => {
  canopy("policy", "--disk", DISK, "--schedule", SCHEDULE);
  await page.goto(`/disks/${DISK}`);
  const next = panel(page).getByTestId("next-run");
  // Same machine, same time zone: the server's cron time is the browser's.
  const when = formatDateTime(nextCronRun(SCHEDULE, new Date())!.toISOString()).slice(0, 16);
  await expect(next).toContainText(`${when} · this disk's schedule "${SCHEDULE}"`);
  // "in 1 day" in the half hour after 03:00, when the next run is 23.5 h or more away.
  await expect(next).toContainText(/in (\d+ (min|h)|1 day)/);
  await expect(next).not.toContainText("No schedule");
});

test("a backup that fails verification turns the panel red", async ({ page }) => {
  test.setTimeout(90_000);
  const [chain] = fs.readdirSync(path.join(BACKUPS, DISK));
  const folder = path.join(BACKUPS, DISK, chain!);
  const file = path.join(folder, fs.readdirSync(folder).find((f) => /^[^.].*-full\.qcow2$/.test(f))!); // the chain's full
  // A few bytes changed in the middle of the file: its checksum no longer matches the manifest's.
  const fd = fs.openSync(file, "r+");
  fs.writeSync(fd, Buffer.alloc(16, 0xee), 0, 16, Math.floor(fs.fstatSync(fd).size / 2));
  fs.closeSync(fd);
  const { backups } = canopy("backups", DISK) as { backups: Array<{ id: string }> };
  try {
    canopy("verify", backups[0]!.id);
  } catch {
    // A failed verification may exit non-zero; the panel is what this test reads.
  }
  await page.goto(`/disks/${DISK}`);
  const last = panel(page).getByTestId("last-backup");
  await expect(last).toHaveAttribute("data-tone", "red");
  await expect(last).toContainText("Failed verification");
  await page.screenshot({ path: `${ARTIFACTS}/disk-backup-state-failed.png` });
});
