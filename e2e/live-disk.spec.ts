import { test, expect } from "./fixtures";
import { ARTIFACTS, confirmAndWait, expectLayerReads, layerAction, layerFilesOf, node, openedPlan, pickRange, seedBlocks } from "./disk-actions-support";

/**
 * The demo's running disk: vm-2 is held by a qemu-storage-daemon and a stand-in guest writes to it the whole
 * time (scripts/demo-live.ts). A snapshot and a merge taken from the dashboard go through QMP, live.
 */
test("the running demo disk: a live snapshot, then a live merge down, with progress", async ({ page }) => {
  await page.goto("/disks/vm-2");
  await expect(page.getByTestId("disk-status")).toHaveText("Running");

  await layerAction(page, "D2", "snapshot");
  const form = page.getByRole("dialog");
  await form.getByLabel("Name").fill("live-1");
  await form.getByRole("button", { name: "Preview plan" }).click();
  let dialog = await openedPlan(page);
  await expect(dialog.getByTestId("plan-creates")).toHaveText(/live-1/);
  await confirmAndWait(page);
  await expect(node(page, "live-1")).toHaveAttribute("data-active", "true");
  expect(layerFilesOf("vm-2")).toEqual(["D0", "D1", "D2", "live-1"]);

  // An active commit: live-1 (where the guest writes now) into D2, which becomes active again after the pivot.
  const range = await pickRange(page, "live-1", "D2");
  await range.getByTestId("merge-down-range").click();
  dialog = await openedPlan(page);
  await expect(dialog.getByTestId("plan-summary")).toHaveText("Merge live-1 down into D2");
  await page.screenshot({ path: `${ARTIFACTS}/live-merge-plan.png` });
  await confirmAndWait(page);
  await expect(node(page, "live-1")).toHaveCount(0);
  await expect(node(page, "D2")).toHaveAttribute("data-active", "true");
  await expect(page.getByTestId("disk-status")).toHaveText("Running");
  await page.screenshot({ path: `${ARTIFACTS}/live-disk.png` });

  // On disk: the snapshots below read exactly as they did (QEMU holds them read-only, so they can be read).
  expect(layerFilesOf("vm-2")).toEqual(["D0", "D1", "D2"]);
  expectLayerReads("vm-2", "D0", seedBlocks("D0"));
  expectLayerReads("vm-2", "D1", seedBlocks("D1"));
});
