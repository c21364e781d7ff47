import { copyFile, mkdir, mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { MiB } from "@/lib/demo/seed";
import { startDaemonForDisk, stopDaemonForDisk } from "@/lib/live/daemon-for-disk";
import { executeLiveStep } from "@/lib/live/execute-live";
import type { LiveStepContext } from "@/lib/live/context";
import type { PlanStep } from "@/lib/ops/types";
import * as img from "@/lib/qemu/img";
import { writePatterns } from "@/lib/qemu/io";
import { QmpClient } from "@/lib/qmp/client";
import { QemuIoSession } from "@/test/support/live-qemu-io";

/**
 * The guest's write latency while Canopy merges its running disk, against the same guest idle, in one run.
 * The guest is one long-lived interactive qemu-io on the disk's NBD export issuing 4 KiB writes one at a time
 * (each waits for its reply, like a synchronous write), at random 4 KiB-aligned offsets in a region of its
 * own per phase (so no phase inherits the clusters another allocated). Per write, two figures: the round
 * trip seen here (pipe + qemu-io + NBD + QEMU) and qemu-io's own timing of the request.
 *
 * Phases: idle (1 s); an intermediate commit (merge down of a 300 MiB layer under the running one); an
 * active commit (merge down of the running 200 MiB layer into its base, to READY and the pivot). Jobs run
 * unthrottled, as Canopy runs them by default. A commit of a few hundred MiB from the page cache takes well
 * under a second here, so the three phases are repeated ROUNDS times on fresh copies of the same chain (a new
 * daemon each round) and the samples pooled.
 */

const ROUNDS = 8;
const IDLE_MS = 1_000;
const WRITE = 4096;
const REGION = 128 * MiB;

const dir = await mkdtemp(path.join(tmpdir(), "canopy-bench-live-"));
const pristine = path.join(dir, "pristine");
const work = path.join(dir, "work");
const LAYERS = ["top", "mid", "base"];
const file = (n: string) => path.join(work, `${n}.qcow2`);
console.log(`preparing: base (2 GiB virtual, 100 MiB data) <- mid (300 MiB) <- top (200 MiB, active) in ${dir}`);
await mkdir(pristine);
const made = (n: string) => path.join(pristine, `${n}.qcow2`);
await img.create(made("base"), { size: 2048 * MiB });
await writePatterns(made("base"), [{ pattern: 0x01, offset: 0, length: 100 * MiB }]);
await img.create(made("mid"), { backing: "base.qcow2", backingFormat: "qcow2" });
await writePatterns(made("mid"), [{ pattern: 0x02, offset: 100 * MiB, length: 300 * MiB }]);
await img.create(made("top"), { backing: "mid.qcow2", backingFormat: "qcow2" });
await writePatterns(made("top"), [{ pattern: 0x03, offset: 400 * MiB, length: 200 * MiB }]);

interface Sample {
  ms: number;
  qemuMs: number | undefined;
}

/** Pseudo-random but repeatable offsets: xorshift32. */
function offsets(regionStart: number, seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return regionStart + ((x >>> 0) % (REGION / WRITE)) * WRITE;
  };
}

async function writeUntil(io: QemuIoSession, done: () => boolean, regionStart: number, seed: number): Promise<Sample[]> {
  const samples: Sample[] = [];
  const next = offsets(regionStart, seed);
  while (!done()) {
    const reply = await io.command(`write -P 0x5a ${next()} ${WRITE}`);
    if (!reply.ok) throw new Error(`guest write failed: ${reply.output}`);
    samples.push({ ms: reply.ms, qemuMs: reply.qemuMs });
  }
  return samples;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

interface Phase {
  name: string;
  samples: Sample[];
  durationMs: number;
  jobs: Array<{ mib: number; seconds: number }>;
}

async function duringStep(
  io: QemuIoSession,
  client: QmpClient,
  name: string,
  step: PlanStep,
  bytes: number,
  region: number,
  seed: number,
): Promise<Phase> {
  const files = new Map(LAYERS.map((n) => [n, file(n)]));
  const ctx: LiveStepContext = {
    root: work,
    disk: ".",
    files,
    qmp: client,
    effects: { setActive: async () => undefined, setProtected: async () => undefined, setDescription: async () => undefined },
    pollIntervalMs: 100,
  };
  let finished = false;
  const started = performance.now();
  const job = executeLiveStep(step, ctx).finally(() => {
    finished = true;
  });
  const samples = await writeUntil(io, () => finished, region, seed);
  await job;
  const durationMs = performance.now() - started;
  return { name, samples, durationMs, jobs: [{ mib: bytes / MiB, seconds: durationMs / 1000 }] };
}

const phases = new Map<string, Phase>();
function pool(phase: Phase): void {
  const seen = phases.get(phase.name);
  if (!seen) phases.set(phase.name, phase);
  else {
    seen.samples.push(...phase.samples);
    seen.durationMs += phase.durationMs;
    seen.jobs.push(...phase.jobs);
  }
}

for (let round = 0; round < ROUNDS; round++) {
  await rm(work, { recursive: true, force: true });
  await mkdir(work);
  for (const n of LAYERS) {
    await copyFile(made(n), file(n));
    // On disk before the round starts: the copy's writeback must not land in the idle phase.
    const handle = await open(file(n), "r+");
    await handle.sync();
    await handle.close();
  }
  const daemon = await startDaemonForDisk({ runDir: path.join(work, "run"), chain: LAYERS.map((name) => ({ name, file: file(name) })) });
  let qmp: QmpClient | undefined;
  let guest: QemuIoSession | undefined;
  try {
    qmp = await QmpClient.connect(daemon.qmpSocket, { timeoutMs: 5_000, defaultTimeoutMs: 60_000 });
    guest = await QemuIoSession.open(daemon.nbdUri, ["-f", "raw"]);
    // Warm-up: the first requests of a new connection.
    const warm = Date.now();
    await writeUntil(guest, () => Date.now() - warm > 200, 1536 * MiB, 7 + round);
    const idleStart = performance.now();
    const idle = await writeUntil(guest, () => performance.now() - idleStart > IDLE_MS, 1024 * MiB, 1 + round);
    pool({ name: "idle", samples: idle, durationMs: IDLE_MS, jobs: [] });
    pool(await duringStep(guest, qmp, "intermediate commit (mid -> base)", { kind: "commit", top: "mid", base: "base", bytes: 0 }, 300 * MiB, 1152 * MiB, 101 + round));
    pool(await duringStep(guest, qmp, "active commit (top -> base, pivot)", { kind: "commit", top: "top", base: "base", bytes: 0 }, 200 * MiB, 1280 * MiB, 201 + round));
  } finally {
    await guest?.close();
    qmp?.close();
    await stopDaemonForDisk(daemon);
  }
}

try {
  const all = [...phases.values()];
  const idle = all[0]!;
  const idleP50 = percentile(idle.samples.map((s) => s.ms), 50);
  const idleP99 = percentile(idle.samples.map((s) => s.ms), 99);
  console.log(`\n4 KiB guest writes over NBD, one at a time, ${ROUNDS} rounds pooled (ms; round trip / qemu-io's own timing):\n`);
  console.log(`${"phase".padEnd(38)} ${"writes".padStart(7)}  ${"p50".padStart(13)}  ${"p99".padStart(13)}  ${"max".padStart(7)}  p50/p99 vs idle`);
  for (const p of all) {
    const ms = p.samples.map((s) => s.ms);
    const q = p.samples.flatMap((s) => (s.qemuMs === undefined ? [] : [s.qemuMs]));
    const p50 = percentile(ms, 50);
    const p99 = percentile(ms, 99);
    const fmt = (a: number, b: number) => `${a.toFixed(2)} / ${b.toFixed(2)}`.padStart(13);
    const ratio = p === idle ? "" : `${(p50 / idleP50).toFixed(2)}x / ${(p99 / idleP99).toFixed(2)}x`;
    console.log(
      `${p.name.padEnd(38)} ${String(ms.length).padStart(7)}  ${fmt(p50, percentile(q, 50))}  ${fmt(p99, percentile(q, 99))}  ${Math.max(...ms).toFixed(1).padStart(7)}  ${ratio}`,
    );
  }
  for (const p of all.slice(1)) {
    const secs = p.jobs.map((j) => j.seconds).sort((a, b) => a - b);
    const mib = p.jobs[0]!.mib;
    console.log(`${p.name}: ${mib} MiB, median ${secs[Math.floor(secs.length / 2)]!.toFixed(2)} s (${(mib / secs[Math.floor(secs.length / 2)]!).toFixed(0)} MiB/s) over ${secs.length} runs`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
