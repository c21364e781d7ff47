import { execFile, execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { expect, type Locator, type Page } from "@playwright/test";
import { blocksToRanges, MiB, seedChain, visibleBlocks, SEED_LAYERS } from "@/lib/demo/seed";

/**
 * Helpers for the specs that work on the disk page: fresh disks made by copying vm-1's folder inside the e2e
 * server's storage root, the CLI run against the same data, and the layers' data read back with qemu-io.
 */

/** The data folder scripts/e2e-server.sh serves (override for a server started by hand). */
export const DATA_DIR = path.resolve(process.env.E2E_DATA_DIR ?? "e2e/artifacts/data");
export const STORAGE = path.join(DATA_DIR, "storage");
export const BACKUPS = path.join(DATA_DIR, "backups");
export const ARTIFACTS = "e2e/artifacts";

/** The same environment the server and its worker run with, so the CLI writes to the same database. */
const cliEnv = {
  ...process.env,
  CANOPY_STORAGE_ROOT: STORAGE,
  CANOPY_BACKUP_ROOT: BACKUPS,
  CANOPY_RUN_DIR: path.join(DATA_DIR, "run"),
  DATABASE_URL: `file:${path.join(DATA_DIR, "canopy.db")}`,
};

/** Runs `canopy <args> --json` as an admin's shell would, against the e2e server's data; its one JSON object. */
export function canopy(...args: string[]): unknown {
  const out = execFileSync(process.execPath, ["bin/canopy.mjs", ...args, "--json"], { env: cliEnv, encoding: "utf8", stdio: "pipe", timeout: 60_000 });
  return JSON.parse(out) as unknown;
}

/** How a CLI command left running ended: its exit code (null when killed, by its timeout say) and output. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Starts `canopy <args> --json` and returns at once, for a test to watch the dashboard while the CLI's job
 * runs; the promise settles when the command exits. `env` adds variables (CANOPY_BACKUP_SPEED, say).
 */
export function canopyRunning(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["bin/canopy.mjs", ...args, "--json"],
      { env: { ...cliEnv, ...env }, encoding: "utf8", timeout: 180_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === "number" ? err.code : null) : 0, stdout, stderr }),
    );
  });
}

/** Records a disk folder in the database now (`canopy tree`), rather than waiting for the worker's rescan. */
export function registerDisk(disk: string): void {
  canopy("tree", disk);
}

/**
 * A disk of its own for one test: vm-1's folder copied under a new name. Backing names are relative (the
 * template is `../templates/Base.qcow2`), so the copy is a valid disk; modification times are kept so its
 * newest leaf, and so its active layer, is 1C as in vm-1.
 */
export function copyVm1(disk: string): string {
  const target = path.join(STORAGE, disk);
  fs.rmSync(target, { recursive: true, force: true });
  fs.cpSync(path.join(STORAGE, "vm-1"), target, { recursive: true, preserveTimestamps: true });
  registerDisk(disk);
  return disk;
}

/**
 * Undoes what a backup spec did with a disk of its own, so the later specs see the demo as it was: its folder,
 * its backups (the Backup table drops what the repository no longer holds), and its record.
 */
export function forgetDisk(disk: string): void {
  fs.rmSync(path.join(STORAGE, disk), { recursive: true, force: true });
  fs.rmSync(path.join(BACKUPS, disk), { recursive: true, force: true });
  canopy("backups", disk);
  canopy("scan");
}

export function layerFile(disk: string, layer: string): string {
  return path.join(STORAGE, disk, `${layer}.qcow2`);
}

export function layerFilesOf(disk: string): string[] {
  return fs
    .readdirSync(path.join(STORAGE, disk))
    .filter((f) => f.endsWith(".qcow2"))
    .map((f) => f.slice(0, -".qcow2".length))
    .sort();
}

/** What a seed layer of vm-1 reads as, MiB block by MiB block, before any operation (lib/demo/seed.ts). */
export function seedBlocks(layer: string): number[] {
  return visibleBlocks(seedChain(layer, SEED_LAYERS));
}

/**
 * Reads every byte of a layer through its real backing chain with qemu-io (read-only, one `read -P` per run of
 * equal blocks) and fails unless each run reads as its pattern.
 */
export function expectLayerReads(disk: string, layer: string, blocks: number[]): void {
  // qemu-io reads at most 2 GiB per command: longer runs are read in 1 GiB pieces.
  const ranges = blocksToRanges(blocks).flatMap((r) => {
    const pieces = [];
    for (let at = 0; at < r.length; at += 1024 * MiB) {
      pieces.push({ pattern: r.pattern, offset: r.offset + at, length: Math.min(1024 * MiB, r.length - at) });
    }
    return pieces;
  });
  const args = ["-r", "-f", "qcow2"];
  for (const r of ranges) args.push("-c", `read -P 0x${r.pattern.toString(16)} ${r.offset / MiB}M ${r.length / MiB}M`);
  args.push(layerFile(disk, layer));
  let out: string;
  try {
    out = execFileSync("qemu-io", args, { encoding: "utf8", stdio: "pipe" });
  } catch (err) {
    // qemu-io exits 1 on a mismatch; its output still says which read failed.
    const e = err as { stdout?: string; stderr?: string };
    out = `${e.stdout ?? ""}${e.stderr ?? ""}`;
  }
  expect(out, `${disk}/${layer} reads as expected`).not.toMatch(/verification failed|error/i);
  expect((out.match(/^read \d+\/\d+ bytes/gm) ?? []).length, `${disk}/${layer}: every range was read`).toBe(ranges.length);
}

export const node = (page: Page, layer: string): Locator => page.getByTestId(`layer-node-${layer}`);

/** The edge parent -> child as drawn by xyflow. */
export const edge = (page: Page, parent: string, child: string): Locator =>
  page.getByTestId(`rf__edge-edge:${parent}->${child}`);

/** The operation dialog, once its plan (or refusal) is on screen. */
export async function openedPlan(page: Page): Promise<Locator> {
  const dialog = page.getByRole("dialog");
  await expect(dialog).toBeVisible();
  await expect(dialog.getByTestId("plan").or(dialog.getByTestId("plan-refused"))).toBeVisible({ timeout: 30_000 });
  return dialog;
}

/** Confirms the open plan and waits until the job it starts has succeeded. */
export async function confirmAndWait(page: Page): Promise<void> {
  await page.getByRole("dialog").getByTestId("confirm-operation").click();
  await expect(page.getByRole("dialog")).toHaveCount(0);
  const progress = page.getByTestId("job-progress");
  await expect(progress).toBeVisible();
  await expect(progress).toHaveAttribute("data-job-state", /succeeded|failed|cancelled/, { timeout: 60_000 });
  // A failure shows its error: make it the test's message.
  if ((await progress.getAttribute("data-job-state")) !== "succeeded") {
    throw new Error(`job ended ${await progress.getAttribute("data-job-state")}: ${await progress.textContent()}`);
  }
}

/**
 * Clicks a node on its name (top left): the minimap sits over the canvas's bottom-right corner and can cover
 * the middle of a low node, as it would for a person, who would click the visible part too.
 */
export async function clickNode(page: Page, layer: string, modifiers: "Shift"[] = []): Promise<void> {
  await node(page, layer).click({ position: { x: 24, y: 14 }, modifiers });
}

/**
 * Waits until the graph stops moving: opening a panel narrows the canvas, and the view then pans (250 ms) to
 * keep the selected layer clear of the edges; a click during that pan can land beside its target.
 */
export async function viewSettled(page: Page): Promise<void> {
  const viewport = page.locator(".react-flow__viewport");
  let last = await viewport.getAttribute("style");
  await expect
    .poll(
      async () => {
        await page.waitForTimeout(120);
        const now = await viewport.getAttribute("style");
        const still = now === last;
        last = now;
        return still;
      },
      { timeout: 5_000, intervals: [0] },
    )
    .toBe(true);
}

/** Opens a layer's panel with a click and runs one of its actions (by the button's data-action). */
export async function layerAction(page: Page, layer: string, action: string): Promise<void> {
  await clickNode(page, layer);
  const panel = page.getByTestId("layer-details");
  await expect(panel.getByRole("heading", { level: 2 })).toContainText(layer);
  await panel.locator(`[data-action="${action}"]`).click();
}

/** Picks a merge range by clicking one end and Shift+clicking the other. */
export async function pickRange(page: Page, first: string, second: string): Promise<Locator> {
  await clickNode(page, first);
  await viewSettled(page);
  await clickNode(page, second, ["Shift"]);
  const panel = page.getByTestId("range-panel");
  await expect(panel).toBeVisible();
  return panel;
}

/**
 * A disk whose merge copies enough data to watch its job run: base B0 (4 GiB virtual), B1 holding `dataMiB` of
 * pattern 0xb1, and the active B2 on top with 1 MiB of its own. Merging B1 down into B0 copies all of B1.
 */
export function makeBigDisk(disk: string, dataMiB: number): { writes: Record<string, PatternWrite[]> } {
  const dir = path.join(STORAGE, disk);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const writes: Record<string, PatternWrite[]> = {
    B0: [{ pattern: 0xb0, startMiB: 0, lengthMiB: 64 }],
    B1: [{ pattern: 0xb1, startMiB: 32, lengthMiB: dataMiB }],
    B2: [{ pattern: 0xb2, startMiB: 0, lengthMiB: 1 }],
  };
  const now = Date.now() / 1000;
  ["B0", "B1", "B2"].forEach((layer, i) => {
    const file = path.join(dir, `${layer}.qcow2`);
    const backing = i === 0 ? [] : ["-b", `B${i - 1}.qcow2`, "-F", "qcow2"];
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", ...backing, file, ...(i === 0 ? ["4G"] : [])]);
    // qemu-io writes at most 2 GiB per command: 512 MiB pieces.
    const commands = writes[layer]!.flatMap((w) => {
      const pieces: string[] = [];
      for (let at = 0; at < w.lengthMiB; at += 512) {
        pieces.push("-c", `write -P 0x${w.pattern.toString(16)} ${w.startMiB + at}M ${Math.min(512, w.lengthMiB - at)}M`);
      }
      return pieces;
    });
    execFileSync("qemu-io", ["-f", "qcow2", ...commands, file], { stdio: "pipe" });
    // Ordered modification times: the newest leaf (B2) becomes the disk's active layer.
    fs.utimesSync(file, now - 60 + i * 10, now - 60 + i * 10);
  });
  registerDisk(disk);
  return { writes };
}

export interface PatternWrite {
  pattern: number;
  startMiB: number;
  lengthMiB: number;
}

/** What a chain (top first) reads as, per MiB block, over `sizeMiB`. */
export function chainBlocks(chainTopFirst: PatternWrite[][], sizeMiB: number): number[] {
  return visibleBlocks(
    chainTopFirst.map((ws) => ({
      writes: ws.map((w) => ({ pattern: w.pattern, offset: w.startMiB * MiB, length: w.lengthMiB * MiB })),
    })),
    sizeMiB * MiB,
  );
}
