import { copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { MiB } from "@/lib/demo/seed";
import * as img from "@/lib/qemu/img";
import { writePatterns } from "@/lib/qemu/io";

/**
 * A merge down and a merge up of a 500 MiB layer, run through Canopy (plan with qemu-img map, job and step
 * records in SQLite, the executor, the rescans and the delete guard) against the bare qemu-img commands on
 * identical copies of the same files, in the same run. Prints the medians of 5 rounds and the ratios.
 */
const ROUNDS = 5;
const dir = await mkdtemp(path.join(tmpdir(), "canopy-bench-merge-"));
process.env.CANOPY_STORAGE_ROOT = path.join(dir, "storage");
process.env.DATABASE_URL = `file:${path.join(dir, "canopy.db")}`;
const { execFileSync } = await import("node:child_process");
execFileSync("npx", ["--no-install", "tsx", "scripts/db-migrate.ts", "deploy"], { env: process.env, stdio: "ignore" });
const { runOperation } = await import("@/server/ops/run-operation");
const { getDb } = await import("@/server/db");

/** Pristine chain: base (1 GiB, 200 MiB data) <- mid (500 MiB data) <- top (8 MiB). Copied fresh for every run. */
const pristine = path.join(dir, "pristine");
await mkdir(pristine);
await img.create(path.join(pristine, "base.qcow2"), { size: 1024 * MiB });
await writePatterns(path.join(pristine, "base.qcow2"), [{ pattern: 0x01, offset: 0, length: 200 * MiB }]);
await img.create(path.join(pristine, "mid.qcow2"), { backing: "base.qcow2", backingFormat: "qcow2" });
await writePatterns(path.join(pristine, "mid.qcow2"), [{ pattern: 0x02, offset: 100 * MiB, length: 500 * MiB }]);
await img.create(path.join(pristine, "top.qcow2"), { backing: "mid.qcow2", backingFormat: "qcow2" });
await writePatterns(path.join(pristine, "top.qcow2"), [{ pattern: 0x03, offset: 900 * MiB, length: 8 * MiB }]);

async function freshDisk(folder: string): Promise<string> {
  await rm(folder, { recursive: true, force: true });
  await mkdir(folder, { recursive: true });
  for (const f of ["base.qcow2", "mid.qcow2", "top.qcow2"]) await copyFile(path.join(pristine, f), path.join(folder, f));
  return folder;
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: Record<string, number[]> = { canopyDown: [], bareDown: [], canopyUp: [], bareUp: [] };
const bare = path.join(dir, "bare");
const disk = path.join(process.env.CANOPY_STORAGE_ROOT, "bench");
try {
  const runs: Record<string, () => Promise<number>> = {
    bareDown: async () => {
      await freshDisk(bare);
      return time(async () => {
        await img.commit(path.join(bare, "mid.qcow2"), path.join(bare, "base.qcow2"));
        await img.rebase(path.join(bare, "top.qcow2"), "base.qcow2", { pull: false });
        await rm(path.join(bare, "mid.qcow2"));
      });
    },
    canopyDown: async () => {
      await freshDisk(disk);
      return time(() =>
        runOperation("bench", { operation: "merge-down", top: "mid", base: "base" }, { dryRun: false, requestedBy: "bench" }),
      );
    },
    bareUp: async () => {
      await freshDisk(bare);
      return time(async () => {
        await img.rebase(path.join(bare, "top.qcow2"), "base.qcow2", { pull: true });
        await rm(path.join(bare, "mid.qcow2"));
      });
    },
    canopyUp: async () => {
      await freshDisk(disk);
      return time(() =>
        runOperation("bench", { operation: "merge-up", top: "top", base: "base" }, { dryRun: false, requestedBy: "bench" }),
      );
    },
  };
  // Alternate which side goes first, so neither always inherits the other's page cache or writeback.
  const orders = [
    ["bareDown", "canopyDown", "bareUp", "canopyUp"],
    ["canopyDown", "bareDown", "canopyUp", "bareUp"],
  ];
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of orders[r % 2]!) results[name]!.push(await runs[name]!());
  }
  const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)])) as Record<string, number>;
  console.log(`merge of a 500 MiB layer, median of ${ROUNDS} (each run on fresh copies of the same files):`);
  console.log(`  merge down: canopy ${m.canopyDown!.toFixed(0)} ms, bare qemu-img commit+rebase -u ${m.bareDown!.toFixed(0)} ms, ratio ${(m.canopyDown! / m.bareDown!).toFixed(2)}x (goal: at most 1.10x)`);
  console.log(`  merge up:   canopy ${m.canopyUp!.toFixed(0)} ms, bare qemu-img rebase ${m.bareUp!.toFixed(0)} ms, ratio ${(m.canopyUp! / m.bareUp!).toFixed(2)}x (goal: at most 1.10x)`);
} finally {
  await getDb().$disconnect();
  await rm(dir, { recursive: true, force: true });
}
