import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";
import { test, expect } from "./fixtures";
import { ARTIFACTS, DATA_DIR, copyVm1, expectLayerReads, layerFile, layerFilesOf, seedBlocks } from "./disk-actions-support";

// Backups from the dashboard, on a copy of vm-1 (stopped; active layer 1C): a full and two incrementals, with
// guest writes (qemu-io on the active layer) between them, the chain and the reasons on the page, then a
// restore as a new disk that the disks list shows.

const write = (disk: string, pattern: number, offsetMiB: number) =>
  execFileSync("qemu-io", ["-f", "qcow2", "-c", `write -P 0x${pattern.toString(16)} ${offsetMiB}M 1M`, layerFile(disk, "1C")], { stdio: "pipe" });

test("a full and two incrementals from the dashboard, then a restore as a new disk", async ({ page }) => {
  test.setTimeout(120_000);
  const disk = copyVm1("bk-e2e");
  const restored = "bk-e2e-restored";

  await page.goto(`/disks/${disk}`);
  // The header's link (the sidebar's "Backups" is the overview of every disk).
  await page.getByRole("main").getByRole("link", { name: "Backups", exact: true }).click();
  await expect(page).toHaveURL(`/disks/${disk}/backups`);
  await expect(page.getByRole("heading", { name: `Backups of ${disk}` })).toBeVisible();
  await expect(page.getByText("No backups yet")).toBeVisible();
  await expect(page.getByTestId("next-backup")).toContainText("The next backup is full (first backup");

  const backUp = async (button: string, expectKind: string) => {
    await page.getByRole("button", { name: button }).click();
    const job = page.getByTestId("backup-job");
    await expect(job).toHaveAttribute("data-state", "succeeded", { timeout: 60_000 });
    await expect(page.getByTestId("backup-job-summary")).toContainText(`${expectKind} backup`);
    await job.getByRole("button", { name: "Dismiss" }).click();
  };

  await backUp("Full backup", "full");
  await expect(page.getByTestId("backup-row")).toHaveCount(1);
  write(disk, 0x61, 40);
  await backUp("Back up now", "incremental");
  write(disk, 0x62, 44);
  await backUp("Back up now", "incremental");
  // The guest's view at the newest point, kept to compare the restore with.
  const atNewest = path.join(DATA_DIR, "bk-e2e-newest.qcow2");
  execFileSync("qemu-img", ["convert", "-U", "-f", "qcow2", "-O", "qcow2", layerFile(disk, "1C"), atNewest], { stdio: "pipe" });

  const rows = page.getByTestId("backup-row");
  await expect(rows).toHaveCount(3);
  await expect(page.getByTestId("backup-chain")).toHaveCount(1);
  await expect(page.getByTestId("chain-count")).toHaveText("2/63");
  await expect(rows.nth(0)).toHaveAttribute("data-kind", "full");
  await expect(rows.nth(0).getByTestId("backup-reason")).toContainText("first backup");
  await expect(rows.nth(1)).toHaveAttribute("data-kind", "incremental");
  await expect(rows.nth(2).getByTestId("backup-reason")).toContainText("changes since #1");
  await expect(rows.getByText("verified")).toHaveCount(3);

  // A refused delete is readable and changes nothing.
  await rows.nth(0).getByRole("button", { name: /^Delete/ }).click();
  const refusal = page.getByTestId("delete-refusal");
  await expect(refusal).toContainText("depend on");
  await expect(page.getByTestId("confirm-dialog").getByRole("button", { name: "Delete" })).toBeDisabled();
  await page.getByTestId("confirm-dialog").getByRole("button", { name: "Close" }).click();
  await expect(rows).toHaveCount(3);

  await page.screenshot({ path: `${ARTIFACTS}/backups.png`, fullPage: true });

  // Restore the newest point as a new disk: preview first, then the job, then the disks list shows it.
  await rows.nth(2).getByRole("button", { name: /^Restore/ }).click();
  const dialog = page.getByTestId("confirm-dialog");
  await dialog.getByLabel("New disk name").fill(restored);
  await expect(dialog.getByTestId("restore-preview")).toContainText(`/${restored}/1C.qcow2`);
  await page.screenshot({ path: `${ARTIFACTS}/backups-restore.png` });
  await dialog.getByRole("button", { name: "Restore" }).click();
  await expect(page.getByTestId("backup-job")).toHaveAttribute("data-state", "succeeded", { timeout: 60_000 });
  expect(layerFilesOf(restored)).toEqual(["1C"]);
  // The new disk reads as the disk did at that point: vm-1's 1C with both writes, byte for byte.
  const compared = spawnSync("qemu-img", ["compare", "-U", "-f", "qcow2", "-F", "qcow2", layerFile(restored, "1C"), atNewest], { encoding: "utf8" });
  expect(compared.status, `restored as backed up: ${compared.stdout}${compared.stderr}`).toBe(0);
  const blocks = seedBlocks("1C");
  blocks[40] = 0x61;
  blocks[44] = 0x62;
  expectLayerReads(restored, "1C", blocks);

  await page.goto("/");
  await expect(page.getByRole("link", { name: restored, exact: true })).toBeVisible();
});

test("the policy page sets a per-disk override", async ({ page }) => {
  await page.goto("/");
  await page.getByRole("link", { name: "Backup policy" }).click();
  await expect(page).toHaveURL("/backups/policy");
  await page.getByLabel("Disk to override").selectOption("vm-2");
  await page.getByRole("button", { name: "Add override" }).click();
  await page.getByLabel("Max incrementals (vm-2)").fill("7");
  await page.getByLabel("Schedule (cron) (vm-2)").fill("61 * * * *");
  await page.getByRole("button", { name: "Save" }).nth(1).click();
  await expect(page.locator("p[role=alert]")).toContainText('minute field "61"');
  await page.getByLabel("Schedule (cron) (vm-2)").fill("");
  await page.getByRole("button", { name: "Save" }).nth(1).click();
  await expect(page.getByText("Saved")).toBeVisible();
  await page.reload();
  await expect(page.getByLabel("Max incrementals (vm-2)")).toHaveValue("7");
  // Valid cron that no date matches would silently never back anything up: refused, with the reason.
  await page.getByLabel("Schedule (cron) (vm-2)").fill("0 0 30 2 *");
  await page.getByRole("button", { name: "Save" }).nth(1).click();
  await expect(page.locator("p[role=alert]")).toContainText("would never run");
  await page.screenshot({ path: `${ARTIFACTS}/backup-policy.png`, fullPage: true });

  // Removing the override: vm-2 follows the default again, also after a reload.
  await page.getByRole("button", { name: "Remove override" }).click();
  await expect(page.getByLabel("Max incrementals (vm-2)")).toHaveCount(0);
  await expect(page.getByText("No disk overrides the default.")).toBeVisible();
  await page.reload();
  await expect(page.getByLabel("Max incrementals (vm-2)")).toHaveCount(0);
  await expect(page.getByLabel("Disk to override").locator("option", { hasText: "vm-2" })).toHaveCount(1);
});
