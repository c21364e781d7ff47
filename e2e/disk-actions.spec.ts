import { test, expect } from "./fixtures";
import {
  ARTIFACTS,
  chainBlocks,
  clickNode,
  confirmAndWait,
  copyVm1,
  edge,
  expectLayerReads,
  layerAction,
  layerFilesOf,
  makeBigDisk,
  node,
  openedPlan,
  pickRange,
  seedBlocks,
  viewSettled,
} from "./disk-actions-support";
import { expectProgressShown, progressOrEnd, recordJobBar } from "./job-bar";

// Operations on the disk page, by clicks and keys, each checked twice: on the page, and on the files (every
// remaining layer's data read back with qemu-io). vm-1 itself is left as the demo made it (disks.spec.ts reads
// it); every test that changes something works on its own copy of vm-1's folder:
//   Base (template) <- VM1 <- 1A <- 1B <- 1C (active), and 1A <- 1X.

test("a layer's panel lists its actions, reachable and usable from the keyboard", async ({ page }) => {
  await page.goto("/disks/vm-1");
  await clickNode(page, "1B");
  const panel = page.getByTestId("layer-details");
  const actions = panel.getByTestId("layer-actions").getByRole("button");
  await expect(actions).toHaveText([
    "Revert to here…",
    "Merge down into 1A…",
    "Merge up into 1C…",
    "Pick merge range…",
    "Protect…",
    "Delete…",
  ]);
  await page.screenshot({ path: `${ARTIFACTS}/vm-1-graph.png` });

  // The same from the keyboard: Escape closes, Enter on the focused node opens the panel and focuses it.
  await page.keyboard.press("Escape");
  await expect(panel).toHaveCount(0);
  await node(page, "1B").focus();
  await page.keyboard.press("Enter");
  await expect(panel).toBeFocused();

  // Tab: the close button, then the first action; Enter opens its dialog with the plan.
  await page.keyboard.press("Tab");
  await page.keyboard.press("Tab");
  await expect(actions.first()).toBeFocused();
  await page.keyboard.press("Enter");
  const dialog = await openedPlan(page);
  await expect(dialog).toHaveAccessibleName("Revert to 1B");
  await expect(dialog.getByTestId("plan-creates")).toContainText("1B-2");

  // Focus stays inside the dialog: Tab from the last button comes back to the first.
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press("Tab");
    expect(await dialog.evaluate((d) => d.contains(document.activeElement))).toBe(true);
  }
  // Escape closes the dialog (nothing ran), focus returns to the action, Escape again closes the panel.
  await page.keyboard.press("Escape");
  await expect(dialog).toHaveCount(0);
  await expect(actions.first()).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(panel).toHaveCount(0);
  await expect(node(page, "1B")).toBeFocused();
  expect(layerFilesOf("vm-1")).toEqual(["1A", "1B", "1C", "1X", "VM1"]);

  // Nodes show when each layer was created, what it holds on disk, and a protected mark only where it applies.
  await expect(node(page, "1B")).toContainText("On disk");
  await expect(node(page, "1B")).toContainText("Created");
  await expect(page.locator('[data-protected="true"]')).toHaveCount(0);

  // Two layers on different branches make no range: the page says why instead.
  await clickNode(page, "1C");
  await viewSettled(page);
  await clickNode(page, "1X", ["Shift"]);
  await expect(page.getByTestId("range-notice")).toContainText("different branches");
  await expect(page.getByTestId("range-panel")).toHaveCount(0);
});

test("delete the branch 1X, then merge 1A..1B down into VM1", async ({ page }) => {
  const disk = copyVm1("vm-1-merge-down");
  await page.goto(`/disks/${disk}`);

  // The branch tip first: with 1X gone, nothing else reads 1A and the sibling rule allows the merge.
  await layerAction(page, "1X", "delete");
  let dialog = await openedPlan(page);
  await expect(dialog.getByTestId("plan-deletes")).toContainText("1X");
  await confirmAndWait(page);
  await expect(node(page, "1X")).toHaveCount(0);
  expect(layerFilesOf(disk)).toEqual(["1A", "1B", "1C", "VM1"]);

  const range = await pickRange(page, "1B", "VM1");
  await expect(node(page, "1A").locator("[data-range-mark]")).toHaveText("In range");
  await range.getByTestId("merge-down-range").click();
  dialog = await openedPlan(page);
  await expect(dialog.getByTestId("plan-summary")).toHaveText("Merge 1A and 1B down into VM1");
  await expect(dialog.getByTestId("plan-steps").getByRole("listitem")).toHaveText([
    /commit 1B down into VM1/,
    /point 1C at VM1 \(header only\)$/,
    /delete 1B$/,
    /delete 1A$/,
  ]);
  await expect(dialog.getByTestId("plan-bytes")).toContainText("MiB");
  await expect(dialog.getByTestId("plan-deletes")).toContainText("1A");
  await page.screenshot({ path: `${ARTIFACTS}/plan-dialog.png` });
  await confirmAndWait(page);

  // The graph follows without a reload: 1C now hangs off VM1.
  await expect(node(page, "1A")).toHaveCount(0);
  await expect(node(page, "1B")).toHaveCount(0);
  await expect(edge(page, "VM1", "1C")).toHaveCount(1);
  await expect(page.locator('[data-active="true"]')).toHaveAttribute("data-testid", "layer-node-1C");

  // On disk: VM1 now holds what 1B read; 1C reads exactly as before.
  expect(layerFilesOf(disk)).toEqual(["1C", "VM1"]);
  expectLayerReads(disk, "VM1", seedBlocks("1B"));
  expectLayerReads(disk, "1C", seedBlocks("1C"));
});

test("merge up into 1C from VM1 keeps 1A for the branch 1X", async ({ page }) => {
  const disk = copyVm1("vm-1-merge-up");
  await page.goto(`/disks/${disk}`);

  // The other way to pick a range: "Pick merge range…" on one end, then a click on the other.
  await layerAction(page, "1C", "range");
  await expect(page.getByTestId("range-picking")).toContainText("Merge range from 1C");
  await expect(node(page, "1C").locator("[data-range-mark]")).toHaveText("Range start");
  await viewSettled(page);
  await clickNode(page, "VM1");
  const range = page.getByTestId("range-panel");
  await expect(range.getByRole("heading", { level: 2 })).toHaveText("VM1 → 1C");
  await range.getByTestId("merge-up-range").click();
  const dialog = await openedPlan(page);
  await expect(dialog.getByTestId("plan-summary")).toHaveText("Merge 1A and 1B up into 1C, which will be backed by VM1");
  await expect(dialog.getByTestId("plan-deletes")).toContainText("1B");
  await expect(dialog.getByTestId("plan-notes")).toContainText("1X still depends on it");
  await confirmAndWait(page);

  await expect(node(page, "1B")).toHaveCount(0);
  await expect(edge(page, "VM1", "1C")).toHaveCount(1);
  await expect(edge(page, "1A", "1X")).toHaveCount(1);

  expect(layerFilesOf(disk)).toEqual(["1A", "1C", "1X", "VM1"]);
  for (const layer of ["VM1", "1A", "1X", "1C"]) expectLayerReads(disk, layer, seedBlocks(layer));
});

test("a merge down the sibling rule refuses names 1X and plans the safe merge up instead", async ({ page }) => {
  const disk = copyVm1("vm-1-refused");
  await page.goto(`/disks/${disk}`);

  const range = await pickRange(page, "1B", "VM1");
  await range.getByTestId("merge-down-range").click();
  const dialog = await openedPlan(page);
  await expect(dialog.getByTestId("plan-refused")).toBeVisible();
  await expect(dialog.getByTestId("refusal-reason")).toContainText("1X");
  await expect(dialog.getByTestId("refusal-dependents")).toHaveText("1X");
  await expect(dialog.getByTestId("confirm-operation")).toHaveCount(0);
  await page.screenshot({ path: `${ARTIFACTS}/plan-refused.png` });

  await dialog.getByRole("button", { name: "Plan instead: Merge up into 1C" }).click();
  await expect(dialog.getByTestId("plan")).toBeVisible({ timeout: 30_000 });
  await expect(dialog).toHaveAccessibleName("Merge up into 1C");
  await expect(dialog.getByTestId("plan-summary")).toContainText("up into 1C");
  await expect(dialog.getByTestId("confirm-operation")).toHaveText("Merge up");
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toHaveCount(0);

  // Refused and cancelled: not one byte changed.
  expect(layerFilesOf(disk)).toEqual(["1A", "1B", "1C", "1X", "VM1"]);
  for (const layer of ["VM1", "1A", "1B", "1C", "1X"]) expectLayerReads(disk, layer, seedBlocks(layer));
});

test("revert to 1A makes a new active branch; deleting the middle layer 1B keeps 1C's data", async ({ page }) => {
  const disk = copyVm1("vm-1-revert");
  await page.goto(`/disks/${disk}`);

  await layerAction(page, "1A", "revert");
  let dialog = await openedPlan(page);
  await expect(dialog.getByTestId("plan-active")).toContainText("1C");
  await expect(dialog.getByTestId("plan-active")).toContainText("1A-2");
  await confirmAndWait(page);
  await expect(node(page, "1A-2")).toHaveAttribute("data-active", "true");
  await expect(edge(page, "1A", "1A-2")).toHaveCount(1);
  await expect(node(page, "1C")).toContainText("Branch tip");

  // 1B is in the middle (1A <- 1B <- 1C) and 1A has other children: its data is pulled into 1C.
  await layerAction(page, "1B", "delete");
  dialog = await openedPlan(page);
  await expect(dialog.getByTestId("plan-notes")).toContainText("pulled into 1C");
  await confirmAndWait(page);
  await expect(node(page, "1B")).toHaveCount(0);
  await expect(edge(page, "1A", "1C")).toHaveCount(1);

  expect(layerFilesOf(disk)).toEqual(["1A", "1A-2", "1C", "1X", "VM1"]);
  expectLayerReads(disk, "1A-2", seedBlocks("1A"));
  for (const layer of ["VM1", "1A", "1C", "1X"]) expectLayerReads(disk, layer, seedBlocks(layer));
});

test("take a snapshot with a description; a protected layer is marked and its delete refused", async ({ page }) => {
  const disk = copyVm1("vm-1-snapshot");
  await page.goto(`/disks/${disk}`);

  await layerAction(page, "1C", "snapshot");
  let dialog = page.getByRole("dialog");
  await expect(dialog).toHaveAccessibleName("Take a snapshot");
  await expect(dialog.getByLabel("Name")).toBeFocused();
  await page.keyboard.type("before upgrade");
  await dialog.getByRole("button", { name: "Preview plan" }).click();
  await expect(dialog.getByRole("alert")).toContainText("no spaces"); // checked before asking the server
  await dialog.getByLabel("Name").fill("before-upgrade");
  await dialog.getByLabel("Description").fill("Clean state before the kernel upgrade");
  await dialog.getByRole("button", { name: "Preview plan" }).click();
  dialog = await openedPlan(page);
  await expect(dialog.getByTestId("plan-creates")).toHaveText(/before-upgrade/);
  await expect(dialog.getByTestId("plan-active")).toContainText("before-upgrade");
  await confirmAndWait(page);
  await expect(node(page, "before-upgrade")).toHaveAttribute("data-active", "true");
  await clickNode(page, "before-upgrade");
  await expect(page.getByTestId("layer-details")).toContainText("Clean state before the kernel upgrade");

  await layerAction(page, "1A", "protect");
  await openedPlan(page);
  await confirmAndWait(page);
  await expect(node(page, "1A")).toHaveAttribute("data-protected", "true");
  await expect(node(page, "1A")).toContainText("Protected");
  await expect(page.locator('[data-protected="true"]')).toHaveCount(1);

  // Deleting it is refused, with "unprotect first" offered as the way on.
  await layerAction(page, "1A", "delete");
  dialog = await openedPlan(page);
  await expect(dialog.getByTestId("refusal-reason")).toContainText("1A is protected");
  await dialog.getByRole("button", { name: "Plan instead: Unprotect 1A" }).click();
  await expect(dialog.getByTestId("plan-summary")).toHaveText("Unprotect 1A");
  await confirmAndWait(page);
  await expect(page.locator('[data-protected="true"]')).toHaveCount(0);

  expect(layerFilesOf(disk)).toEqual(["1A", "1B", "1C", "1X", "VM1", "before-upgrade"]);
  expectLayerReads(disk, "before-upgrade", seedBlocks("1C"));
  for (const layer of ["VM1", "1A", "1B", "1C", "1X"]) expectLayerReads(disk, layer, seedBlocks(layer));
});

test("a big merge shows its progress while it runs, then the graph updates", async ({ page }) => {
  test.setTimeout(180_000);
  // The copy must outlast the page's looks at the job (one a second) with room to spare: 2 GiB took qemu-img
  // alone 2.6-3 s at load 6-10 here, less on an idle machine.
  const DATA_MIB = 3072;
  const disk = "big-merge";
  const { writes } = makeBigDisk(disk, DATA_MIB);
  await page.goto(`/disks/${disk}`);

  await layerAction(page, "B1", "merge-down");
  const dialog = await openedPlan(page);
  await expect(dialog.getByTestId("plan-bytes")).toContainText("3 GiB");
  const shown = await recordJobBar(page, "job-progress");
  await dialog.getByTestId("confirm-operation").click();

  const progress = page.getByTestId("job-progress");
  await expect(progress).toHaveAttribute("data-job-state", /queued|running/);
  // Mid-copy for the screenshot (the page polls the job every second).
  await progressOrEnd(shown);
  await page.screenshot({ path: `${ARTIFACTS}/job-progress.png` });

  await expect(progress).toHaveAttribute("data-job-state", "succeeded", { timeout: 90_000 });
  await expect(progress.getByTestId("job-bytes")).toContainText("3 GiB of 3 GiB");
  expectProgressShown(await shown(), "3 GiB");
  await expect(node(page, "B1")).toHaveCount(0);
  await expect(edge(page, "B0", "B2")).toHaveCount(1);

  const size = 4096;
  expect(layerFilesOf(disk)).toEqual(["B0", "B2"]);
  expectLayerReads(disk, "B0", chainBlocks([writes.B1!, writes.B0!], size));
  expectLayerReads(disk, "B2", chainBlocks([writes.B2!, writes.B1!, writes.B0!], size));
});
