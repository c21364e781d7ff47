import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { test, expect } from "./fixtures";
import {
  ARTIFACTS,
  canopy,
  canopyRunning,
  confirmAndWait,
  copyVm1,
  expectLayerReads,
  layerFile,
  layerFilesOf,
  node,
  openedPlan,
  registerDisk,
  seedBlocks,
} from "./disk-actions-support";
import { SEED_VIRTUAL_SIZE } from "@/lib/demo/seed";

// Make active: the correction for a wrong record of the layer the VM writes to (issue 11). On a copy of vm-1,
// the branch tip 1X takes over from 1C, from the keyboard; on the running demo disk vm-2 the action is off.

test("a branch tip becomes active after a confirmation that names both layers", async ({ page }) => {
  const disk = copyVm1("vm-1-make-active");
  await page.goto(`/disks/${disk}`);

  // From the keyboard, like the other actions: Enter on the node opens its panel, Tab reaches the action.
  await node(page, "1X").focus();
  await page.keyboard.press("Enter");
  const panel = page.getByTestId("layer-details");
  await expect(panel).toBeFocused();
  const actions = panel.getByTestId("layer-actions").getByRole("button");
  await expect(actions).toHaveText(["Revert to here…", "Make active…", "Merge down into 1A…", "Pick merge range…", "Protect…", "Delete…"]);
  await page.keyboard.press("Tab");
  await page.keyboard.press("Tab");
  await page.keyboard.press("Tab");
  await expect(panel.locator('[data-action="make-active"]')).toBeFocused();
  await page.keyboard.press("Enter");

  const dialog = await openedPlan(page);
  await expect(dialog).toHaveAccessibleName("Make 1X active");
  await expect(dialog.getByTestId("plan-summary")).toHaveText(
    "Make 1X the active layer: the VM's writes go to 1X from now on, no longer to 1C",
  );
  const notice = dialog.getByTestId("switch-active-notice");
  await expect(notice.getByTestId("switch-active-to")).toHaveText("1X");
  await expect(notice.getByTestId("switch-active-from")).toHaveText("1C");
  await expect(notice).toContainText("From now on the VM writes to 1X. 1C stops receiving its writes.");
  await expect(notice).toContainText("the writes 1C received since the two branches parted at 1A stay on its branch: 1X does not see them");
  await expect(dialog.getByTestId("plan-active")).toHaveText("1C→1X");
  await expect(dialog.getByTestId("confirm-operation")).toHaveText("Make active");
  await page.screenshot({ path: `${ARTIFACTS}/make-active-confirm.png` });
  await confirmAndWait(page);

  // The graph marks 1X active without a reload; 1C stays as a branch tip.
  await expect(node(page, "1X")).toHaveAttribute("data-active", "true");
  await expect(node(page, "1C")).not.toHaveAttribute("data-active", "true");
  await page.screenshot({ path: `${ARTIFACTS}/make-active-done.png` });

  // Only the record moved: the same files, each reading as before; a rescan keeps 1X.
  expect(layerFilesOf(disk)).toEqual(["1A", "1B", "1C", "1X", "VM1"]);
  for (const layer of ["1C", "1X"]) expectLayerReads(disk, layer, seedBlocks(layer));
  expect((canopy("tree", disk) as { activeLayer: string }).activeLayer).toBe("1X");
});

test("on the running disk vm-2 the action is off with the reason, and the CLI refuses it", async ({ page }) => {
  // A branch tip on D1 beside the running chain, made as another tool would (-u: D1 is open in the daemon).
  const tip = layerFile("vm-2", "D1-tip");
  execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", "D1.qcow2", "-u", tip, String(SEED_VIRTUAL_SIZE)], { timeout: 30_000 });
  try {
    registerDisk("vm-2");
    await page.goto("/disks/vm-2");
    await expect(page.getByTestId("disk-status")).toHaveText("Running");
    await node(page, "D1-tip").focus();
    await page.keyboard.press("Enter");
    const panel = page.getByTestId("layer-details");
    await expect(panel.locator('[data-action="make-active"]')).toBeDisabled();
    await expect(panel.locator('[data-unavailable="make-active"]')).toHaveText(
      "Make active is off while vm-2 runs: its QEMU process writes to D2 until it is stopped. Stop the disk first.",
    );
    await panel.screenshot({ path: `${ARTIFACTS}/make-active-running.png` });

    const cli = await canopyRunning(["make-active", "vm-2", "D1-tip"]);
    expect(cli.code).toBe(1);
    const error = (JSON.parse(cli.stdout) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe("refused");
    expect(error.message).toContain('disk vm-2 is running: its QEMU process writes to D2 until it is stopped; stop it first ("canopy stop vm-2")');
    expect((canopy("tree", "vm-2") as { activeLayer: string }).activeLayer).toBe("D2");
    await expect(node(page, "D2")).toHaveAttribute("data-active", "true");
  } finally {
    fs.rmSync(tip, { force: true });
    registerDisk("vm-2");
  }
  expect(layerFilesOf("vm-2")).toEqual(["D0", "D1", "D2"]);
});
