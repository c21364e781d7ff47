import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { STORAGE, canopy, clickNode, copyVm1, layerFile, registerDisk, viewSettled } from "./disk-actions-support";

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

test("with a layer's panel open, the whole tree stays in view and no layer is under the minimap or the controls", async ({ page }) => {
  // vm-1 with four more branch tips: wide enough that the narrowed canvas cannot show it at the first zoom.
  const disk = copyVm1("wide-tree");
  for (const [tip, parent] of [["1C-a", "1C"], ["1C-b", "1C"], ["X2", "1X"], ["X3", "1X"]]) {
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", "-b", `${parent}.qcow2`, "-F", "qcow2", layerFile(disk, tip!)]);
  }
  registerDisk(disk);
  try {
    await page.goto(`/disks/${disk}`);
    await expect(page.getByTestId("layer-node-X3")).toBeVisible();
    await expectAllClear(page, 10);
    for (const layer of ["1A", "X3", "1C-a"]) {
      await clickNode(page, layer);
      await expect(page.getByTestId("layer-details").getByRole("heading", { level: 2 })).toContainText(layer);
      await viewSettled(page);
      await expectAllClear(page, 10);
    }
    await page.screenshot({ path: `${ARTIFACTS}/wide-tree-details.png` });
    // "Fit view" fits around the corner panels too.
    await page.getByRole("button", { name: "Fit view" }).click();
    await viewSettled(page);
    await expectAllClear(page, 10);
  } finally {
    fs.rmSync(path.join(STORAGE, disk), { recursive: true, force: true });
    canopy("scan");
  }
});

/** Every layer drawn (only those on screen are in the DOM), whole on the canvas, none under the minimap or the controls. */
async function expectAllClear(page: Page, layers: number): Promise<void> {
  const nodes = page.locator('[data-testid^="layer-node-"]');
  await expect(nodes).toHaveCount(layers);
  const canvas = (await page.getByTestId("disk-graph").boundingBox())!;
  const minimap = (await page.locator(".react-flow__minimap").boundingBox())!;
  const controls = (await page.locator(".react-flow__controls").boundingBox())!;
  for (const node of await nodes.all()) {
    const b = (await node.boundingBox())!;
    const name = await node.getAttribute("data-testid");
    expect(b.x >= canvas.x && b.y >= canvas.y && b.x + b.width <= canvas.x + canvas.width && b.y + b.height <= canvas.y + canvas.height, `${name} is whole on the canvas`).toBe(true);
    expect(overlaps(b, minimap), `${name} is clear of the minimap`).toBe(false);
    expect(overlaps(b, controls), `${name} is clear of the zoom controls`).toBe(false);
  }
}

function overlaps(a: { x: number; y: number; width: number; height: number }, b: { x: number; y: number; width: number; height: number }): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

test("an unknown disk is a 404", async ({ page }) => {
  const response = await page.goto("/disks/no-such-disk");
  expect(response?.status()).toBe(404);
  await expect(page.getByTestId("disk-not-found")).toBeVisible();
});
