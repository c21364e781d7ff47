import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type CDPSession, type Page } from "@playwright/test";
import playwrightConfig from "../playwright.config";
import { writeLayerTree } from "../test/support/layer-tree-files";
import { kib, logIn, median, mib, runScript, startServer, startWorker, stopGroup, treeRss } from "./support/dashboard";

/**
 * The disk page of a chain 1,000 layers deep against the same page of a 10-layer chain, both in one storage root
 * of real qcow2 files, served by the production build the way `npm start` runs it (server/web/main.mjs and the
 * job worker), loaded in Debian's chromium. Prints, per disk: the time from navigation until the graph's first
 * view is painted (the page sets data-drawn-at then) and until the backup panel, which the browser asks for once
 * the page is up, has its answer; the bytes the browser received for the load (every response, headers included,
 * compressed as sent, by kind: the document with its inline RSC payload, scripts, styles, the page's own fetches),
 * and the page the server made, decompressed; with an empty cache, with a warm one, and for a client-side
 * navigation from the disks list (the RSC payload). Then the memory of the web server over repeated loads of the
 * deep page and of the worker over repeated scans of the root. Goals for the deep chain: drawn in under 1 s, a
 * page under 200 KB.
 */
const DEEP = 1_000;
const SHALLOW = 10;
const WARM_LOADS = 5;
const COLD_LOADS = 3;
const MEMORY_LOADS = 20;
const SCANS = 4;
const PORT = Number(process.env.BENCH_PORT ?? 3461);
const PASSWORD = "bench-disk-page";
const BASE_URL = `http://127.0.0.1:${PORT}`;
const DRAW_GOAL_MS = 1_000;
const BYTES_GOAL = 200 * 1024;

interface Load {
  drawnMs: number;
  /** When the backup panel had its answer (the browser asks for it once the page is up). */
  panelMs: number;
  /** Bytes received as sent (compressed, headers included), by Chrome's resource type (Document, Script, Fetch, ...). */
  wire: Map<string, number>;
  /** The same responses' bodies once decompressed. */
  decoded: Map<string, number>;
  /** Server time until the document's first byte (0 for a client navigation). */
  ttfbMs: number;
}

const total = (bytes: Map<string, number>) => [...bytes.values()].reduce((a, b) => a + b, 0);
/** What the server made for this page, decompressed: the HTML with its inline RSC payload, or the RSC fetch. */
const pageBytes = (l: Load) => (l.decoded.get("Document") ?? 0) + (l.decoded.get("Fetch") ?? 0);

type ByteCounter = { reset: () => void; read: () => Pick<Load, "wire" | "decoded"> };

/** Counts what the browser receives, per resource type, from `reset` on. */
async function byteCounter(page: Page): Promise<ByteCounter> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  const types = new Map<string, string>();
  let wire = new Map<string, number>();
  let decoded = new Map<string, number>();
  const add = (into: Map<string, number>, id: string, n: number) => {
    const type = types.get(id) ?? "Other";
    into.set(type, (into.get(type) ?? 0) + n);
  };
  cdp.on("Network.responseReceived", (e) => types.set(e.requestId, e.type));
  cdp.on("Network.dataReceived", (e) => add(decoded, e.requestId, e.dataLength));
  cdp.on("Network.loadingFinished", (e) => add(wire, e.requestId, e.encodedDataLength));
  return {
    reset: () => {
      wire = new Map();
      decoded = new Map();
    },
    read: () => ({ wire: new Map(wire), decoded: new Map(decoded) }),
  };
}

/** Waits for the graph's first view and returns when it was painted, in ms since the page's time origin. */
async function drawnAt(page: Page): Promise<number> {
  const graph = page.locator("[data-drawn-at]");
  await graph.waitFor({ timeout: 60_000 });
  if (!(await page.locator('[data-active="true"]').isVisible())) throw new Error("the active leaf is not drawn");
  return Number(await graph.getAttribute("data-drawn-at"));
}

/**
 * Waits until the backup panel shows its answer and returns when, in ms since the page's time origin. Each load
 * waits for it before the next one: it is the page's own work on the server, and the next load must not be
 * timed behind it.
 */
async function panelFilledAt(page: Page): Promise<number> {
  // The answer's cell carries the health's state; the waiting one does not.
  await page.locator('[data-testid="bitmap-health"][data-state]').waitFor({ timeout: 60_000 });
  return page.evaluate<number>("performance.now()");
}

/** A full page load of the disk page (as typing its address). */
async function loadPage(page: Page, counter: ByteCounter, disk: string): Promise<Load> {
  counter.reset();
  await page.goto(`${BASE_URL}/disks/${disk}`, { waitUntil: "commit" });
  const drawnMs = await drawnAt(page);
  const panelMs = await panelFilledAt(page);
  await page.waitForLoadState("load");
  await page.waitForTimeout(300); // responses still finishing (their loadingFinished events)
  const ttfbMs = await page.evaluate<number>(`performance.getEntriesByType("navigation")[0].responseStart`);
  return { drawnMs, panelMs, ...counter.read(), ttfbMs };
}

/** From the disks list, a click on the disk's link: the router fetches the page's RSC payload. */
async function navigateFromList(page: Page, counter: ByteCounter, disk: string): Promise<Load> {
  await page.goto(`${BASE_URL}/`, { waitUntil: "load" });
  const link = page.locator(`a[href="/disks/${disk}"]`).first();
  await link.waitFor();
  await page.waitForTimeout(1_000); // the list's own requests (and any prefetch) are over
  counter.reset();
  const clickedAt = await page.evaluate<number>("performance.now()");
  await link.click();
  await page.waitForURL(`**/disks/${disk}`);
  const drawnMs = (await drawnAt(page)) - clickedAt;
  const panelMs = (await panelFilledAt(page)) - clickedAt;
  await page.waitForTimeout(300);
  return { drawnMs, panelMs, ...counter.read(), ttfbMs: 0 };
}

function describeBytes(bytes: Map<string, number>): string {
  return [...bytes.entries()]
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([type, n]) => `${type} ${kib(n)}`)
    .join(", ");
}

interface DiskFigures {
  cold: Load[];
  warm: Load[];
  client: Load[];
}

async function measureDisk(context: BrowserContext, disk: string): Promise<DiskFigures> {
  const figures: DiskFigures = { cold: [], warm: [], client: [] };
  for (let i = 0; i < COLD_LOADS; i++) {
    // A fresh context per cold load: an empty HTTP cache, the login's cookie only.
    const fresh = await context.browser()!.newContext({ ...viewport, storageState: await context.storageState() });
    const page = await fresh.newPage();
    figures.cold.push(await loadPage(page, await byteCounter(page), disk));
    await fresh.close();
  }
  const page = await context.newPage();
  const counter = await byteCounter(page);
  await loadPage(page, counter, disk); // fills the cache
  for (let i = 0; i < WARM_LOADS; i++) figures.warm.push(await loadPage(page, counter, disk));
  for (let i = 0; i < 3; i++) figures.client.push(await navigateFromList(page, counter, disk));
  await page.close();
  return figures;
}

function report(label: string, deep: Load[], shallow: Load[]): void {
  const figure = (what: string, of: (l: Load) => number, show: (n: number) => string, goal?: number) => {
    const d = median(deep.map(of));
    const s = median(shallow.map(of));
    const verdict = goal === undefined ? "" : `; goal under ${show(goal)}: ${d < goal ? "met" : "NOT MET"}`;
    console.log(`  ${what}: ${show(d)} at ${DEEP} layers, ${show(s)} at ${SHALLOW} (${(d / s).toFixed(2)}x)${verdict}`);
  };
  const ms = (n: number) => `${n.toFixed(0)} ms`;
  console.log(`${label}:`);
  figure("drawn after", (l) => l.drawnMs, ms, DRAW_GOAL_MS);
  console.log(`    runs at ${DEEP} layers: ${deep.map((l) => ms(l.drawnMs)).join(", ")}`);
  if (deep[0]!.ttfbMs) figure("document's first byte after", (l) => l.ttfbMs, ms);
  figure("backup panel filled after", (l) => l.panelMs, ms);
  figure("the page as made by the server (HTML with its RSC payload, or the RSC fetch), decompressed", pageBytes, kib, BYTES_GOAL);
  figure("everything received, as sent (compressed)", (l) => total(l.wire), kib);
  console.log(`    as sent at ${DEEP} layers: ${describeBytes(deep[0]!.wire)}`);
  console.log(`    as sent at ${SHALLOW} layers: ${describeBytes(shallow[0]!.wire)}`);
}

/** The time the last scan recorded the disk (the worker's rescans move it). */
async function scannedAt(disk: string): Promise<number> {
  const { getDb } = await import("@/server/db");
  const row = await getDb().disk.findUnique({ where: { name: disk }, select: { scannedAt: true } });
  return row?.scannedAt.getTime() ?? 0;
}

async function waitForScans(disk: string, count: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = await scannedAt(disk);
  for (let seen = 0; seen < count; ) {
    if (Date.now() > deadline) throw new Error(`the worker recorded ${seen} of ${count} scans in ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
    const now = await scannedAt(disk);
    if (now !== last) {
      seen++;
      last = now;
    }
  }
}

const viewport = { viewport: { width: 1280, height: 800 } };
const dir = await mkdtemp(path.join(tmpdir(), "canopy-bench-disk-page-"));
const env: NodeJS.ProcessEnv = {
  ...process.env,
  CANOPY_STORAGE_ROOT: path.join(dir, "storage"),
  CANOPY_BACKUP_ROOT: path.join(dir, "backups"),
  CANOPY_RUN_DIR: path.join(dir, "run"),
  DATABASE_URL: `file:${path.join(dir, "canopy.db")}`,
  CANOPY_ADMIN_PASSWORD: PASSWORD,
  NEXT_TELEMETRY_DISABLED: "1",
};
Object.assign(process.env, env); // this process reads the worker's scans from the same database
let server: ChildProcess | null = null;
let worker: ChildProcess | null = null;
const browser = await chromium.launch(playwrightConfig.use?.launchOptions);
try {
  const started = performance.now();
  await writeLayerTree(path.join(dir, "storage", "shallow"), SHALLOW, (i) => i - 1, "S");
  runScript("scripts/db-migrate.ts", env);
  runScript("scripts/prepare-storage.ts", env);

  // The worker, rescanning every 2 s: its memory after a scan of the shallow chain alone, then with the deep one.
  const workerEnv = { ...env, CANOPY_SCAN_INTERVAL_MS: "2000" };
  worker = startWorker(workerEnv);
  await waitForScans("shallow", 1);
  const workerShallow = treeRss(worker.pid!);
  stopGroup(worker);
  await writeLayerTree(path.join(dir, "storage", "deep"), DEEP, (i) => i - 1, "D");
  worker = startWorker(workerEnv);
  await waitForScans("deep", 1);
  const workerFirst = treeRss(worker.pid!);
  await waitForScans("deep", SCANS);
  const workerAfter = treeRss(worker.pid!);
  stopGroup(worker); // the page loads below are timed without scans running beside them
  worker = null;
  console.log(`storage root: a chain of ${DEEP} qcow2 layers and one of ${SHALLOW}; made, and scanned by the worker, in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  console.log(
    `worker memory (RSS): ${mib(workerShallow)} after a scan of the ${SHALLOW}-layer chain alone; with the ${DEEP}-layer chain, ` +
      `${mib(workerFirst)} after its first scan (+${mib(workerFirst - workerShallow)}), ${mib(workerAfter)} after ${SCANS} more (+${mib(workerAfter - workerShallow)})`,
  );

  server = await startServer(env, PORT, "main.mjs");
  const rss = [treeRss(server.pid!)];
  const context = await browser.newContext(viewport);
  await logIn(await context.newPage(), BASE_URL, PASSWORD);
  const shallow = await measureDisk(context, "shallow");
  rss.push(treeRss(server.pid!));
  const deep = await measureDisk(context, "deep");
  rss.push(treeRss(server.pid!));
  report(`full load, empty cache (median of ${COLD_LOADS})`, deep.cold, shallow.cold);
  report(`full load, warm cache (median of ${WARM_LOADS})`, deep.warm, shallow.warm);
  report("client navigation from the disks list (median of 3)", deep.client, shallow.client);

  const page = await context.newPage();
  const counter = await byteCounter(page);
  for (let i = 0; i < MEMORY_LOADS; i++) await loadPage(page, counter, "deep");
  rss.push(treeRss(server.pid!));
  await page.close();
  await new Promise((r) => setTimeout(r, 5_000));
  rss.push(treeRss(server.pid!));
  const loads = COLD_LOADS + WARM_LOADS + 4;
  console.log(
    `web server memory (RSS): ${mib(rss[0]!)} at start, ${mib(rss[1]!)} after ${loads} loads of the shallow page, ` +
      `${mib(rss[2]!)} after ${loads} of the deep page (+${mib(rss[2]! - rss[1]!)}), ${mib(rss[3]!)} after ${MEMORY_LOADS} more ` +
      `(+${mib(rss[3]! - rss[2]!)}), ${mib(rss[4]!)} 5 s later`,
  );
} finally {
  await browser.close();
  if (worker) stopGroup(worker);
  if (server) stopGroup(server);
  await rm(dir, { recursive: true, force: true });
}
