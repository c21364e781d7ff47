import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, expect } from "vitest";
import { planRestore } from "@/lib/backup/plan-restore";
import { restore } from "@/lib/backup/restore";
import type { RunBackupInput } from "@/lib/backup/run-backup";
import type { BackupLayer } from "@/lib/backup/types";
import { scanDisk } from "@/lib/inventory/scan";
import { run } from "@/lib/proc/run";
import { QmpClient } from "@/lib/qmp/client";
import { StorageDaemon } from "@/lib/qmp/daemon";
import { makeTempDir } from "./tmp";

/**
 * A disk to back up in a temporary folder: a storage root with one disk folder, a backup repository, a run
 * folder; guest writes offline (qemu-io on the image) or through NBD (a running disk); captures of the guest
 * view at a point in time; and the check every backup must pass: it restores byte-identical to its capture.
 */

export const MiB = 1024 * 1024;
const TOOL = { timeoutMs: 120_000 };

export interface BackupTestDisk {
  dir: string;
  storage: string;
  disk: string;
  folder: string;
  repo: string;
  runDir: string;
  file(layer: string): string;
  /** The disk's layers as runBackup takes them, from a scan of its folder. */
  layers(): Promise<BackupLayer[]>;
}

export async function makeBackupTestDisk(opts: { sizeMiB?: number; first?: string; disk?: string } = {}): Promise<BackupTestDisk> {
  const dir = await makeTempDir("canopy-backup-");
  const storage = path.join(dir, "storage");
  const disk = opts.disk ?? "vm";
  const folder = path.join(storage, disk);
  await run("mkdir", ["-p", folder], TOOL);
  const first = opts.first ?? "base";
  await run("qemu-img", ["create", "-q", "-f", "qcow2", path.join(folder, `${first}.qcow2`), `${opts.sizeMiB ?? 64}M`], TOOL);
  return {
    dir,
    storage,
    disk,
    folder,
    repo: path.join(dir, "backups"),
    runDir: path.join(dir, "run"),
    file: (layer) => path.join(folder, `${layer}.qcow2`),
    layers: async () => {
      const inv = await scanDisk(storage, disk);
      return inv.layers.map((l) => ({ name: l.name, file: path.join(storage, l.file), parent: l.parent }));
    },
  };
}

/** runBackup's input for the disk with its first layer ("base") active, plus what a test adds or changes. */
export function backupInput(disk: BackupTestDisk, layers: readonly BackupLayer[], extra: Partial<RunBackupInput> = {}): RunBackupInput {
  return { diskName: disk.disk, layers, active: "base", repoRoot: disk.repo, runDir: disk.runDir, ...extra };
}

/** A list for a test's stop functions (daemons it started), run after each test, also a failed one. */
export function stopsAfterEach(): Array<() => Promise<void>> {
  const stops: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
  }, 30_000);
  return stops;
}

/** Makes an empty overlay `name` on `below` (relative backing name, as Canopy does). */
export async function createOverlay(disk: BackupTestDisk, below: string, name: string): Promise<void> {
  await run("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", `${below}.qcow2`, disk.file(name)], TOOL);
}

export type GuestWrite =
  | { op: "write"; pattern: number; offset: number; length: number }
  | { op: "zero"; offset: number; length: number }
  | { op: "discard"; offset: number; length: number };

function ioCommands(writes: readonly GuestWrite[]): string[] {
  return writes.flatMap((w) => [
    "-c",
    w.op === "write"
      ? `write -P 0x${w.pattern.toString(16)} ${w.offset} ${w.length}`
      : w.op === "zero"
        ? `write -z ${w.offset} ${w.length}`
        : `discard ${w.offset} ${w.length}`,
  ]);
}

/** Writes into an image nothing holds open (the stopped disk's active layer). */
export async function writeOffline(file: string, writes: readonly GuestWrite[]): Promise<void> {
  if (writes.length) await run("qemu-io", ["-f", "qcow2", ...ioCommands(writes), file], TOOL);
}

/** Writes as the guest of a running disk: through the daemon's NBD export. */
export async function writeNbd(uri: string, writes: readonly GuestWrite[]): Promise<void> {
  if (writes.length) await run("qemu-io", ["-f", "raw", ...ioCommands(writes), uri], TOOL);
}

/**
 * Deterministic mixed writes: data at unaligned offsets and lengths (partial clusters), zeroes over earlier data
 * and discards, so an incremental has to carry "this became zero" as well as new bytes.
 */
export function randomWrites(seed: number, count: number, sizeMiB: number): GuestWrite[] {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const writes: GuestWrite[] = [];
  for (let i = 0; i < count; i++) {
    const length = 512 * (1 + Math.floor(next() * 2048)); // 512 B .. 1 MiB, sector-aligned (qemu-io needs that)
    const offset = 512 * Math.floor(next() * ((sizeMiB * MiB - length) / 512));
    const kind = next();
    if (kind < 0.75) writes.push({ op: "write", pattern: 1 + Math.floor(next() * 254), offset, length });
    else if (kind < 0.9) writes.push({ op: "zero", offset, length });
    else writes.push({ op: "discard", offset, length });
  }
  return writes;
}

/** The guest view of a stopped disk now, as a standalone qcow2 file. */
export async function captureOffline(activeFile: string, out: string): Promise<string> {
  await run("qemu-img", ["convert", "-U", "-f", "qcow2", "-O", "qcow2", activeFile, out], TOOL);
  return out;
}

/** The guest view of a running disk now, read through its NBD export (what the guest itself would read). */
export async function captureNbd(uri: string, out: string): Promise<string> {
  await run("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", uri, out], TOOL);
  return out;
}

/** Restores a backup to a new file and checks it is byte-identical to the capture taken at its point in time. */
export async function expectRestoresTo(disk: BackupTestDisk, backupId: string, capture: string): Promise<void> {
  const out = path.join(disk.dir, `restored-${backupId}-${Date.now()}.qcow2`);
  const plan = await planRestore({ repoRoot: disk.repo, disk: disk.disk, backupId, target: { kind: "file", path: out } });
  await restore(plan);
  const same = await run("qemu-img", ["compare", "-f", "qcow2", "-F", "qcow2", out, capture], { ...TOOL, okExitCodes: [0, 1] });
  expect(same.exitCode, `backup ${backupId} restores to its capture: ${same.stdout}`).toBe(0);
  await run("rm", ["-f", out], TOOL);
}

export async function bitmapsOf(file: string): Promise<Array<{ name: string; flags: string[] }>> {
  const { stdout } = await run("qemu-img", ["info", "-U", "--output=json", file], TOOL);
  const info = JSON.parse(stdout) as { "format-specific"?: { data?: { bitmaps?: Array<{ name: string; flags: string[] }> } } };
  return info["format-specific"]?.data?.bitmaps ?? [];
}

/**
 * The bytes a dirty bitmap of `granularity` marks after these writes (data, zeroes and discards alike): every
 * granule any of them touches, counted once.
 */
export function touchedBytes(writes: readonly GuestWrite[], granularity: number): number {
  const granules = new Set<number>();
  for (const w of writes) {
    for (let g = Math.floor(w.offset / granularity); g * granularity < w.offset + w.length; g++) granules.add(g);
  }
  return granules.size * granularity;
}

/** A running disk: the chain opened in a qemu-storage-daemon, the top writable and exported over NBD. */
export async function serveDisk(
  disk: BackupTestDisk,
  chainBottomUp: string[],
): Promise<{ daemon: StorageDaemon; client: QmpClient; uri: string; stop(): Promise<void> }> {
  const daemon = await StorageDaemon.start({
    qmpSocket: path.join(disk.dir, "vm.qmp"),
    blockdevs: chainBottomUp.map((name, i) => ({
      nodeName: `n-${name}`,
      file: disk.file(name),
      backing: i === 0 ? null : `n-${chainBottomUp[i - 1]!}`,
      readOnly: i < chainBottomUp.length - 1,
    })),
    nbd: { socket: path.join(disk.dir, "vm.nbd") },
  });
  const client = await QmpClient.connect(daemon.qmpSocket, { timeoutMs: 10_000, defaultTimeoutMs: 30_000 });
  return {
    daemon,
    client,
    uri: daemon.nbdUri!,
    stop: async () => {
      client.close();
      await daemon.stop(10_000);
    },
  };
}

/** The pid of the qemu-storage-daemon a backup started for a stopped disk (its QMP socket is in runDir). */
export async function findJobDaemonPid(runDir: string): Promise<number | null> {
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes("qemu-storage-daemon") && cmdline.includes(runDir)) return Number(entry);
  }
  return null;
}

/** Flips one byte of guest data (not metadata) inside a qcow2 file: only a checksum can notice. */
export async function flipDataByte(file: string): Promise<void> {
  const target = `json:${JSON.stringify({ driver: "qcow2", file: { driver: "file", filename: file }, backing: null })}`;
  const { stdout } = await run("qemu-img", ["map", "--output=json", target], TOOL);
  const extent = (JSON.parse(stdout) as Array<{ data: boolean; offset?: number }>).find((e) => e.data && e.offset !== undefined);
  if (!extent) throw new Error(`${file} holds no data to corrupt`);
  const { open } = await import("node:fs/promises");
  const handle = await open(file, "r+");
  try {
    const buf = Buffer.alloc(1);
    await handle.read(buf, 0, 1, extent.offset! + 100);
    buf[0] = buf[0]! ^ 0xff;
    await handle.write(buf, 0, 1, extent.offset! + 100);
  } finally {
    await handle.close();
  }
}
