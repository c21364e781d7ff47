import { expect, test } from "./fixtures";

// Runs against the demo storage root (lib/demo/seed.ts): template Base; vm-1 with Base <- VM1 <- 1A <- 1B <-
// 1C (active) and 1A <- 1X; vm-2 with D0 <- D1 <- D2 (active).

const ARTIFACTS = "e2e/artifacts";

test("the disks list shows every demo disk", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Disks", level: 1 })).toBeVisible();

  const vm1 = page.getByTestId("disk-row-vm-1");
  const vm2 = page.getByTestId("disk-row-vm-2");
  await expect(vm1).toBeVisible();
  await expect(vm2).toBeVisible();
  await expect(vm1.getByRole("link", { name: "vm-1" })).toHaveAttribute("href", "/disks/vm-1");
  await expect(vm1).toContainText("1C");
  await expect(vm1).toContainText("64 MiB");
  await expect(vm2).toContainText("D2");

  await page.screenshot({ path: `${ARTIFACTS}/disks-list.png` });
});

test("vm-1's tree shows its layers, the active leaf and the template", async ({ page }) => {
  await page.goto("/");
  await page.getByTestId("disk-row-vm-1").getByRole("link", { name: "vm-1" }).click();
  await expect(page).toHaveURL(/\/disks\/vm-1$/);
  await expect(page.getByRole("heading", { name: "vm-1", level: 1 })).toBeVisible();

  for (const name of ["Base", "VM1", "1A", "1B", "1C", "1X"]) {
    await expect(page.getByTestId(`layer-node-${name}`)).toBeVisible();
  }
  const active = page.locator('[data-active="true"]');
  await expect(active).toHaveCount(1);
  await expect(active).toHaveAttribute("data-testid", "layer-node-1C");
  await expect(active).toContainText("Active");

  const base = page.getByTestId("layer-node-Base");
  await expect(base).toHaveAttribute("data-template", "true");
  await expect(base).toContainText("Template");
  await expect(page.getByTestId("layer-node-1X")).toContainText("Branch tip");

  // Six nodes, five parent -> child edges.
  await expect(page.locator(".react-flow__edge")).toHaveCount(5);

  await page.screenshot({ path: `${ARTIFACTS}/vm-1-tree.png` });
});

test("clicking a layer opens its details, Escape closes them, Enter opens them again", async ({ page }) => {
  await page.goto("/disks/vm-1");
  const details = page.getByTestId("layer-details");
  await expect(details).toHaveCount(0);

  await page.getByTestId("layer-node-1B").click();
  await expect(details).toBeVisible();
  await expect(details.getByRole("heading", { level: 2 })).toContainText("1B");
  await expect(details).toContainText("vm-1/1B.qcow2");
  await expect(details).toContainText("1A.qcow2"); // the backing file string
  await expect(details).toContainText("qcow2 v3");

  // Related layers are one click away: the child 1C.
  await details.getByRole("button", { name: "1C", exact: true }).click();
  await expect(details.getByRole("heading", { level: 2 })).toContainText("1C");
  await page.waitForTimeout(400); // the canvas pans (250 ms) to keep 1C clear of the narrowed view's edges
  await page.screenshot({ path: `${ARTIFACTS}/vm-1-details.png` });

  await details.getByRole("button", { name: "Close details" }).click();
  await expect(details).toHaveCount(0);

  // Keyboard: nodes are focusable and Enter selects, which opens the panel.
  const node1x = page.getByTestId("layer-node-1X");
  await node1x.focus();
  await expect(node1x).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(details).toBeVisible();
  await expect(details.getByRole("heading", { level: 2 })).toContainText("1X");
  await page.keyboard.press("Escape");
  await expect(details).toHaveCount(0);
});

test("an unknown disk is a 404", async ({ page }) => {
  const response = await page.goto("/disks/no-such-disk");
  expect(response?.status()).toBe(404);
  await expect(page.getByTestId("disk-not-found")).toBeVisible();
});
