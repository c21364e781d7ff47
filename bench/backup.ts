import { mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { planRestore } from "@/lib/backup/plan-restore";
import { hashFile } from "@/lib/backup/hash-file";
import { restore } from "@/lib/backup/restore";
import { runBackup, type RunBackupResult } from "@/lib/backup/run-backup";
import type { BackupLayer } from "@/lib/backup/types";
import { MiB } from "@/lib/demo/seed";
import { run } from "@/lib/proc/run";
import * as img from "@/lib/qemu/img";

/**
 * The backup engine against plain qemu-img on the same files, in the same run:
 * 1. a full backup of a 4 GiB disk holding 2 GiB of data vs `qemu-img convert` of that disk to qcow2;
 * 2. an incremental after 1% of the disk changed vs that full;
 * 3. a restore from a full plus 63 incrementals vs `qemu-img convert` of a flat copy of the same content;
 * 4. bytes stored by the full vs bytes of data allocated in the disk.
 * A full backup is end to end (job, transfer with sha256, fsync, record, verify: checksum re-read and
 * qemu-img check); the stage times are printed too. The machine is shared: read the figures as a range.
 */

const GiB = 1024 * MiB;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const INC_ROUNDS = 3;
/** Restores are a few seconds each: more rounds, so the shared disk's noise evens out. */
const RESTORE_ROUNDS = Number(process.env.BENCH_RESTORE_ROUNDS ?? 5);
const QEMU = { timeoutMs: 60 * 60 * 1000 };

/** BENCH_DIR=/dev/shm takes the shared disk's noise out (and leaves the CPU's); it needs about 9 GiB there. */
const dir = await mkdtemp(path.join(process.env.BENCH_DIR ?? tmpdir(), "canopy-bench-backup-"));
const diskFolder = path.join(dir, "storage", "vm");
const source = path.join(diskFolder, "disk.qcow2");
const layers: BackupLayer[] = [{ name: "disk", file: source, parent: null }];
const runDir = path.join(dir, "run");

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const ms = (x: number) => `${x.toFixed(0)} ms`;
const time = async (fn: () => Promise<unknown>) => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};

/** 2 MiB of data in every 4 MiB, over the whole disk: 2 GiB spread like a used filesystem, not one block. */
async function fillHalf(file: string): Promise<void> {
  const cmds: string[] = [];
  for (let i = 0; i < 1024; i++) cmds.push("-c", `write -P ${(i % 250) + 1} ${i * 4 * MiB} ${2 * MiB}`);
  await run("qemu-io", ["-f", "qcow2", ...cmds, file], QEMU);
}

/** `fraction` of the disk rewritten in 64 KiB pieces at pseudo-random places. */
async function dirty(file: string, fraction: number, seed: number): Promise<void> {
  const pieces = Math.round((4 * GiB * fraction) / (64 * 1024));
  const cmds: string[] = [];
  let x = seed;
  for (let i = 0; i < pieces; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    cmds.push("-c", `write -P ${(x % 250) + 1} ${(x % 65536) * 64 * 1024} 65536`);
  }
  await run("qemu-io", ["-f", "qcow2", ...cmds, file], QEMU);
}

async function allocatedBytes(file: string): Promise<number> {
  return (await img.map(file)).filter((e) => e.data).reduce((sum, e) => sum + e.length, 0);
}

const backup = (repoRoot: string, requestedFull = false): Promise<RunBackupResult> =>
  runBackup({ diskName: "vm", layers, active: "disk", repoRoot, runDir, requestedFull });

const ratio = (a: number, b: number) => (a / b).toFixed(2);
const spread = (xs: number[]) => `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}`;

try {
  await mkdir(diskFolder, { recursive: true });
  await img.create(source, { size: 4 * GiB });
  await fillHalf(source);
  await run("sync", [], QEMU);
  const allocated = await allocatedBytes(source);

  // 1. Full backup vs qemu-img convert; each round runs all three, alternating the order, and gives its ratios.
  const full: number[] = [];
  const convert: number[] = [];
  const convertSynced: number[] = [];
  const perRound: Array<{ plain: number; synced: number; replication: number }> = [];
  const stages: RunBackupResult["timings"][] = [];
  let fullResult: RunBackupResult | undefined;
  let repo = "";
  for (let r = 0; r < ROUNDS; r++) {
    const out = path.join(dir, `convert-${r}.qcow2`);
    const outSynced = path.join(dir, `convert-synced-${r}.qcow2`);
    // Files are deleted between rounds, never between timed runs: this file system discards freed blocks, and
    // the discard of 2 GiB stalls whatever writes next.
    if (repo) await rm(repo, { recursive: true, force: true });
    repo = path.join(dir, `repo-${r}`);
    await run("sync", [], QEMU);
    const runs = [
      async () => full.push(await time(async () => (fullResult = await backup(repo)))),
      async () => convert.push(await time(() => run("qemu-img", ["convert", "-O", "qcow2", source, out], QEMU))),
      async () =>
        convertSynced.push(await time(() => run("qemu-img", ["convert", "-t", "writeback", "-O", "qcow2", source, outSynced], QEMU))),
    ];
    for (const go of r % 2 ? [...runs].reverse() : runs) {
      await run("sync", [], QEMU);
      await go();
    }
    await rm(out);
    await rm(outSynced);
    stages.push(fullResult!.timings);
    perRound.push({
      plain: full[r]! / convert[r]!,
      synced: full[r]! / convertSynced[r]!,
      replication: fullResult!.timings.replication / convertSynced[r]!,
    });
  }
  const stage = (k: keyof RunBackupResult["timings"]) => median(stages.map((s) => s[k]));

  // The floor under any backup that checksums what it writes: the sha256 of the full's file alone, read from
  // the page cache (the backup has just written it), in this process.
  const fullFile = path.join(repo, "vm", fullResult!.chain.chainId, fullResult!.backup.file);
  const hashOnly: number[] = [];
  for (let i = 0; i < 3; i++) hashOnly.push(await time(() => hashFile(fullFile)));

  // 2. Incrementals after 1% of the disk changed each time, on the last round's chain.
  const incremental: number[] = [];
  let incResult: RunBackupResult | undefined;
  for (let i = 0; i < INC_ROUNDS; i++) {
    await dirty(source, 0.01, 1 + i);
    await run("sync", [], QEMU);
    incremental.push(await time(async () => (incResult = await backup(repo))));
    if (incResult?.kind !== "incremental") throw new Error(`expected an incremental, got ${incResult?.kind} (${incResult?.reason})`);
  }

  // 3. More incrementals up to 63, then restores of the newest vs convert of a flat copy of the same content.
  for (let i = INC_ROUNDS; i < 63; i++) {
    await dirty(source, 0.001, 100 + i);
    const r = await backup(repo);
    if (r.kind !== "incremental") throw new Error(`backup ${i + 2} was ${r.kind} (${r.reason})`);
  }
  const chain = fullResult!.chain.chainId;
  const { readManifest } = await import("@/lib/backup/manifest");
  const manifest = await readManifest(path.join(repo, "vm", chain));
  const last = manifest.backups.at(-1)!;
  if (manifest.backups.length !== 64) throw new Error(`expected 64 backups in the chain, found ${manifest.backups.length}`);
  const tipFile = path.join(repo, "vm", chain, last.file);
  const flat = path.join(dir, "flat.qcow2");
  await run("qemu-img", ["convert", "-O", "qcow2", tipFile, flat], QEMU);
  await run("sync", [], QEMU);
  const restoreCore: number[] = [];
  const restoreAll: number[] = [];
  const flatConvert: number[] = [];
  const restoreStages: Array<Awaited<ReturnType<typeof restore>>["timings"]> = [];
  for (let r = 0; r < RESTORE_ROUNDS; r++) {
    const target = path.join(dir, `restored-${r}.qcow2`);
    const flatOut = path.join(dir, `flat-out-${r}.qcow2`);
    const chainOut = path.join(dir, `chain-out-${r}.qcow2`);
    const runs = [
      async () => {
        flatConvert.push(await time(() => run("qemu-img", ["convert", "-O", "qcow2", flat, flatOut], QEMU)));
        await rm(flatOut);
      },
      async () => {
        restoreCore.push(await time(() => run("qemu-img", ["convert", "-O", "qcow2", tipFile, chainOut], QEMU)));
        await rm(chainOut);
      },
      async () => {
        const plan = await planRestore({ repoRoot: repo, disk: "vm", backupId: last.id, target: { kind: "file", path: target } });
        restoreAll.push(await time(async () => restoreStages.push((await restore(plan)).timings)));
        await rm(target);
      },
    ];
    for (const go of r % 2 ? [...runs].reverse() : runs) {
      await run("sync", [], QEMU);
      await go();
    }
  }
  const chainRatios = restoreCore.map((x, i) => x / flatConvert[i]!);
  const restoreRatios = restoreAll.map((x, i) => x / flatConvert[i]!);

  // 4. Bytes stored vs bytes allocated.
  const stored = fullResult!.backup.fileSize;
  const onDisk = (await stat(path.join(repo, "vm", chain, manifest.backups[0]!.file))).blocks * 512;

  const fullMs = median(full);
  console.log(
    `backup of a 4 GiB disk holding ${(allocated / GiB).toFixed(2)} GiB of data (medians; ${ROUNDS} rounds of full backup, ` +
      `${INC_ROUNDS} incrementals, ${RESTORE_ROUNDS} restores; ratios are per round, then their median and range):`,
  );
  console.log(
    `  full backup, end to end: ${ms(fullMs)} (replication ${ms(stage("replication"))}, transfer+sha256 ${ms(stage("transfer"))}, ` +
      `record+verify ${ms(stage("storage"))})`,
  );
  console.log(
    `  qemu-img convert -O qcow2: ${ms(median(convert))} (its default cache mode for the output is "unsafe": it ends ` +
      `before the data is on disk); with -t writeback (synced at the end, as a backup is): ${ms(median(convertSynced))}`,
  );
  console.log(
    `  full / convert: ${median(perRound.map((p) => p.plain)).toFixed(2)}x (${spread(perRound.map((p) => p.plain))}; goal: at most 1.3x); ` +
      `full / synced convert: ${median(perRound.map((p) => p.synced)).toFixed(2)}x (${spread(perRound.map((p) => p.synced))})`,
  );
  console.log(
    `  per round (full / convert / synced convert, ms): ` +
      full.map((f, i) => `${f.toFixed(0)}/${convert[i]!.toFixed(0)}/${convertSynced[i]!.toFixed(0)}`).join(", "),
  );
  console.log(
    `  replication stage alone / synced convert: ${median(perRound.map((p) => p.replication)).toFixed(2)}x ` +
      `(${spread(perRound.map((p) => p.replication))})`,
  );
  console.log(
    `  sha256 of the full's file alone (from the page cache): ${ms(median(hashOnly))}, ` +
      `${ratio(median(hashOnly), median(convert))}x the convert: no backup that checksums its file gets below this here`,
  );
  console.log(
    `  incremental after 1% changed: ${ms(median(incremental))}, ${(incResult!.backup.fileSize / MiB).toFixed(1)} MiB stored; ` +
      `${((median(incremental) / fullMs) * 100).toFixed(1)}% of the full's time (goal: at most 5%), ` +
      `${((incResult!.backup.fileSize / stored) * 100).toFixed(1)}% of its bytes`,
  );
  console.log(
    `  restore of full + 63 incrementals, convert through the chain: ${ms(median(restoreCore))} vs convert of a flat copy ` +
      `${ms(median(flatConvert))}: ${median(chainRatios).toFixed(2)}x (${spread(chainRatios)}; goal: at most 1.5x)`,
  );
  console.log(
    `  restore end to end (convert+fsync ${ms(median(restoreStages.map((t) => t.convert)))} with the chain's checksums ` +
      `${ms(median(restoreStages.map((t) => t.checksums)))} alongside, compare ${ms(median(restoreStages.map((t) => t.compare)))}): ` +
      `${ms(median(restoreAll))}, ${median(restoreRatios).toFixed(2)}x the flat convert (${spread(restoreRatios)})`,
  );
  console.log(
    `  bytes stored by the full: ${stored} (${onDisk} allocated on disk) vs ${allocated} bytes of data: ` +
      `${ratio(stored, allocated)} (goal: at most 1.05)`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
