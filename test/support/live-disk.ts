import path from "node:path";
import { afterEach } from "vitest";
import { createSeedRoot, MiB, SEED_ACTIVE, SEED_LAYERS, type SeedLayer } from "@/lib/demo/seed";
import { scanDisk } from "@/lib/inventory/scan";
import type { StepEffects } from "@/lib/ops/step-context";
import type { DiskState, Plan } from "@/lib/ops/types";
import * as img from "@/lib/qemu/img";
import { QmpClient } from "@/lib/qmp/client";
import { LayerTree } from "@/lib/tree/model";
import { startDaemonForDisk, stopDaemonForDisk, type DiskDaemon } from "@/lib/live/daemon-for-disk";
import { executeLiveStep } from "@/lib/live/execute-live";
import type { LiveStepContext, LiveStepResult } from "@/lib/live/context";
import { GuestWriter, type WriterOptions } from "./live-writer";
import { makeTempDir } from "./tmp";

/**
 * A running seed disk for live tests: the seed root in a temp folder, a qemu-storage-daemon started for one
 * disk through lib/live (the stand-in VM), a QMP connection, and optionally the guest writer on its NBD
 * export. Everything started here is stopped in afterEach; daemons run in their own session (--daemonize),
 * so an exit hook also kills them should the test process end first.
 */

export const WRITER_REGION = { regionStart: 32 * MiB, slots: (24 * MiB) / 4096 };

export interface LiveDisk {
  dir: string;
  root: string;
  disk: string;
  layers: SeedLayer[];
  daemon: DiskDaemon;
  qmp: QmpClient;
  writer: GuestWriter | undefined;
  /** Every effects.setActive call, in order. */
  activeLog: string[];
  startWriter(options?: Partial<WriterOptions>): Promise<GuestWriter>;
  /** A step context as the job runner builds it: the disk's files rescanned now. */
  ctx(extra?: Partial<LiveStepContext>): Promise<LiveStepContext>;
  state(): Promise<DiskState>;
  measure(layer: string): Promise<number>;
  /** What a layer reads through its backing chain, as flatten's planner asks. */
  readThrough(layer: string): Promise<number>;
  runPlan(plan: Plan, extra?: Partial<LiveStepContext>): Promise<LiveStepResult[]>;
  /** Stops the writer, then the daemon (quit): after this the files can be read without -U. */
  stopAll(): Promise<void>;
}

const started = new Set<{ stop(): Promise<void>; pid?: number }>();

afterEach(async () => {
  await Promise.all([...started].map((s) => s.stop().catch(() => undefined)));
  started.clear();
}, 30_000);

process.on("exit", () => {
  for (const s of started) if (s.pid) try { process.kill(s.pid, "SIGKILL"); } catch { /* gone */ }
});

export async function startLiveDisk(
  options: { disk?: string; active?: string; layers?: SeedLayer[] } = {},
): Promise<LiveDisk> {
  const disk = options.disk ?? "vm-1";
  const layers = options.layers ?? SEED_LAYERS;
  let active = options.active ?? SEED_ACTIVE[disk]!;
  const dir = await makeTempDir("canopy-live-");
  const root = path.join(dir, "storage");
  await createSeedRoot(root, layers);
  const inventory = await scanDisk(root, disk);
  const chain = new LayerTree(inventory.layers).chain(active).map((l) => ({ name: l.name, file: path.join(root, l.file) }));
  const daemon = await startDaemonForDisk({ runDir: path.join(dir, "run"), chain });
  const activeLog: string[] = [];
  const resources: { writer?: GuestWriter; qmp?: QmpClient } = {};
  const handle = {
    pid: daemon.pid,
    stop: async () => {
      if (resources.writer) await resources.writer.stop().catch(() => resources.writer?.kill());
      resources.qmp?.close();
      await stopDaemonForDisk(daemon, { timeoutMs: 5_000 });
    },
  };
  started.add(handle);
  const qmp = await QmpClient.connect(daemon.qmpSocket, { timeoutMs: 5_000, defaultTimeoutMs: 20_000 });
  resources.qmp = qmp;
  const effects: StepEffects = {
    setActive: async (layer) => {
      activeLog.push(layer);
      active = layer;
    },
    setProtected: async () => undefined,
    setDescription: async () => undefined,
  };
  const files = async () => new Map((await scanDisk(root, disk)).layers.map((l) => [l.name, path.join(root, l.file)]));
  const self: LiveDisk = {
    dir,
    root,
    disk,
    layers,
    daemon,
    get qmp() {
      return resources.qmp!;
    },
    set qmp(client: QmpClient) {
      resources.qmp = client;
    },
    get writer() {
      return resources.writer;
    },
    activeLog,
    startWriter: async (o = {}) => {
      resources.writer = await GuestWriter.start(daemon.nbdUri, { ...WRITER_REGION, ...o });
      return resources.writer;
    },
    ctx: async (extra = {}) => ({
      root,
      disk,
      files: await files(),
      effects,
      qmp: resources.qmp!,
      target: { exportId: daemon.exportId },
      pollIntervalMs: 50,
      ...extra,
    }),
    state: async () => {
      const inv = await scanDisk(root, disk);
      return { name: disk, layers: inv.layers, active, protected: new Set<string>(), problems: inv.problems };
    },
    measure: async (layer) => {
      const file = (await files()).get(layer);
      return file ? img.layerDataBytes(file, { shareLocks: true }) : 0;
    },
    readThrough: async (layer) => {
      const file = (await files()).get(layer);
      return file ? img.backingDataBytes(file, { shareLocks: true }) : 0;
    },
    runPlan: async (plan, extra) => {
      const results: LiveStepResult[] = [];
      for (const step of plan.steps) results.push(await executeLiveStep(step, await self.ctx(extra)));
      return results;
    },
    stopAll: async () => {
      if (resources.writer) await resources.writer.stop();
      resources.qmp?.close();
      const stopped = await stopDaemonForDisk(daemon, { timeoutMs: 10_000 });
      if (stopped.how !== "quit" && stopped.how !== "not-running") throw new Error(`daemon had to be killed (${stopped.how})`);
    },
  };
  return self;
}
