import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { run } from "../../lib/proc/run";
import { QmpClient } from "../../lib/qmp/client";
import { StorageDaemon, type DaemonBlockdev } from "../../lib/qmp/daemon";
import { QmpError } from "../../lib/qmp/errors";
import { BlockJob, JobError, runBlockJob, type JobProgress } from "../../lib/qmp/jobs";
import { makeTempDir } from "../support/tmp";

/**
 * Block jobs end to end: real qcow2 chains in a temp folder, a real qemu-storage-daemon, data checked with
 * qemu-io after the daemon has stopped (so no lock is in the way and every cache is flushed).
 */

const MiB = 1024 * 1024;
const TOOL_TIMEOUT = { timeoutMs: 15_000 };
const daemons: StorageDaemon[] = [];
const clients: QmpClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(daemons.splice(0).map((d) => d.stop(3_000)));
}, 15_000);

interface LayerSpec {
  name: string;
  /** [pattern byte, offset in MiB, length in MiB] */
  writes: Array<[number, number, number]>;
}

/** Makes each layer on top of the previous one (relative backing names), writes its data, returns the paths. */
async function makeChain(dir: string, layers: LayerSpec[]): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  let below: string | undefined;
  for (const layer of layers) {
    const file = path.join(dir, `${layer.name}.qcow2`);
    const backing = below ? ["-F", "qcow2", "-b", `${below}.qcow2`] : [];
    await run("qemu-img", ["create", "-q", "-f", "qcow2", ...backing, file, "64M"], TOOL_TIMEOUT);
    const writes = layer.writes.flatMap(([p, off, len]) => ["-c", `write -P ${p} ${off * MiB} ${len * MiB}`]);
    if (writes.length) await run("qemu-io", ["-f", "qcow2", ...writes, file], TOOL_TIMEOUT);
    files[layer.name] = file;
    below = layer.name;
  }
  return files;
}

/** Opens the chain in a daemon: every layer but the top read-only, the top exported over NBD. */
async function serveChain(dir: string, names: string[]): Promise<{ daemon: StorageDaemon; client: QmpClient }> {
  const blockdevs: DaemonBlockdev[] = names.map((name, i) => ({
    nodeName: name,
    file: path.join(dir, `${name}.qcow2`),
    backing: i === 0 ? null : names[i - 1]!,
    readOnly: i < names.length - 1,
  }));
  const daemon = await StorageDaemon.start({
    qmpSocket: path.join(dir, "qmp.sock"),
    blockdevs,
    nbd: { socket: path.join(dir, "nbd.sock") },
    startTimeoutMs: 5_000,
  });
  daemons.push(daemon);
  const client = await QmpClient.connect(daemon.qmpSocket, { timeoutMs: 5_000, defaultTimeoutMs: 5_000 });
  clients.push(client);
  return { daemon, client };
}

/** The stand-in guest writes through the NBD export. */
async function guestWrite(daemon: StorageDaemon, pattern: number, offsetMiB: number, lengthMiB: number) {
  await run("qemu-io", ["-f", "raw", "-c", `write -P ${pattern} ${offsetMiB * MiB} ${lengthMiB * MiB}`, daemon.nbdUri!], TOOL_TIMEOUT);
}

/** qemu-io exits 1 when any read does not match its pattern. `alone` reads the layer without its backing. */
async function expectReads(file: string, reads: Array<[number, number, number]>, alone = false) {
  const target = alone
    ? `json:${JSON.stringify({ driver: "qcow2", file: { driver: "file", filename: file }, backing: null })}`
    : file;
  const args = [...(alone ? [] : ["-f", "qcow2"]), "-r"];
  for (const [p, off, len] of reads) args.push("-c", `read -P ${p} ${off * MiB} ${len * MiB}`);
  const result = await run("qemu-io", [...args, target], { ...TOOL_TIMEOUT, okExitCodes: [0, 1] });
  expect(result.stdout).not.toContain("Pattern verification failed");
  expect(result.exitCode).toBe(0);
}

async function backingOf(file: string): Promise<string | undefined> {
  const { stdout } = await run("qemu-img", ["info", "--output=json", file], TOOL_TIMEOUT);
  return (JSON.parse(stdout) as { "backing-filename"?: string })["backing-filename"];
}

describe("runBlockJob", () => {
  it("live snapshot, then an active commit of the whole chain, completed at READY with progress", async () => {
    const dir = await makeTempDir("canopy-qmp-jobs-");
    await makeChain(dir, [
      { name: "base", writes: [[0x11, 0, 1]] },
      { name: "s1", writes: [[0x22, 1, 1]] },
    ]);
    const { daemon, client } = await serveChain(dir, ["base", "s1"]);
    await guestWrite(daemon, 0x33, 2, 1);

    // Live snapshot: the overlay is created offline, added alone (backing: null), then put on top.
    await run("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", "s1.qcow2", path.join(dir, "s2.qcow2")], TOOL_TIMEOUT);
    await client.execute("blockdev-add", {
      driver: "qcow2",
      "node-name": "s2",
      file: { driver: "file", filename: path.join(dir, "s2.qcow2") },
      backing: null,
    });
    await client.execute("blockdev-snapshot", { node: "s1", overlay: "s2" });
    expect((await client.execute("query-block-exports"))[0]?.["node-name"]).toBe("s2");
    await guestWrite(daemon, 0x44, 3, 1);

    const progress: JobProgress[] = [];
    const result = await runBlockJob(
      client,
      { command: "block-commit", args: { "job-id": "commit-all", device: "s2", "base-node": "base" } },
      { autoComplete: true, pollIntervalMs: 20, onProgress: (p) => progress.push(p) },
    );
    expect(result).toMatchObject({ outcome: "completed", jobId: "commit-all", progress: { type: "commit" } });
    const statuses = progress.map((p) => p.status);
    expect(statuses).toEqual(expect.arrayContaining(["running", "ready"]));
    expect(statuses.indexOf("ready")).toBeLessThan(statuses.lastIndexOf("concluded"));
    // Active commit counts what was allocated above the base (3 MiB), not the disk size.
    expect(result.progress.total).toBe(3 * MiB);
    expect(result.progress.current).toBe(3 * MiB);
    // Pivoted: the export now writes into the base; the job is gone (dismissed).
    expect((await client.execute("query-block-exports"))[0]?.["node-name"]).toBe("base");
    expect(await client.execute("query-jobs")).toEqual([]);
    await client.execute("blockdev-del", { "node-name": "s2" });
    await client.execute("blockdev-del", { "node-name": "s1" });
    await guestWrite(daemon, 0x55, 4, 1);
    await daemon.stop(5_000);
    await expectReads(path.join(dir, "base.qcow2"), [
      [0x11, 0, 1],
      [0x22, 1, 1],
      [0x33, 2, 1],
      [0x44, 3, 1],
      [0x55, 4, 1],
    ]);
  }, 30_000);

  it("resolves at READY without autoComplete; cancel there does not pivot, complete does", async () => {
    const dir = await makeTempDir("canopy-qmp-jobs-");
    await makeChain(dir, [
      { name: "base", writes: [[0x11, 0, 1]] },
      { name: "s1", writes: [[0x22, 1, 1]] },
    ]);
    const { daemon, client } = await serveChain(dir, ["base", "s1"]);
    const start = { command: "block-commit", args: { "job-id": "c1", device: "s1", "base-node": "base" } } as const;

    const first = await runBlockJob(client, start, { pollIntervalMs: 20 });
    expect(first.outcome).toBe("ready");
    if (first.outcome !== "ready") return;
    expect(first.job.status).toBe("ready");
    await expect(first.job.cancel()).resolves.toMatchObject({ outcome: "cancelled", jobId: "c1" });
    expect((await client.execute("query-block-exports"))[0]?.["node-name"]).toBe("s1");
    expect(await client.execute("query-jobs")).toEqual([]);

    // The same job id again: the first was dismissed, so it is free.
    const second = await runBlockJob(client, start, { pollIntervalMs: 20 });
    if (second.outcome !== "ready") throw new Error(`expected ready, got ${second.outcome}`);
    await expect(second.job.complete()).resolves.toMatchObject({ outcome: "completed" });
    expect((await client.execute("query-block-exports"))[0]?.["node-name"]).toBe("base");
    await client.execute("blockdev-del", { "node-name": "s1" });
    await daemon.stop(5_000);
    await expectReads(path.join(dir, "base.qcow2"), [
      [0x11, 0, 1],
      [0x22, 1, 1],
    ]);
  }, 30_000);

  it("intermediate commit: merges s1 into base under the running top and rewrites the top's backing", async () => {
    const dir = await makeTempDir("canopy-qmp-jobs-");
    const files = await makeChain(dir, [
      { name: "base", writes: [[0x11, 0, 1]] },
      { name: "s1", writes: [[0x22, 1, 1]] },
      { name: "s2", writes: [[0x33, 2, 1]] },
    ]);
    const { daemon, client } = await serveChain(dir, ["base", "s1", "s2"]);
    const progress: JobProgress[] = [];
    const result = await runBlockJob(
      client,
      {
        command: "block-commit",
        args: { "job-id": "merge-down", device: "s2", "top-node": "s1", "base-node": "base", "backing-file": "base.qcow2" },
      },
      { pollIntervalMs: 20, onProgress: (p) => progress.push(p) },
    );
    expect(result.outcome).toBe("completed");
    expect(progress.some((p) => p.status === "ready")).toBe(false);
    // Intermediate commit counts over the whole virtual size.
    expect(result.progress.total).toBe(64 * MiB);
    await client.execute("blockdev-del", { "node-name": "s1" });
    await guestWrite(daemon, 0x44, 3, 1);
    await daemon.stop(5_000);
    expect(await backingOf(files.s2!)).toBe("base.qcow2");
    await expectReads(files.base!, [
      [0x11, 0, 1],
      [0x22, 1, 1],
    ]);
    await expectReads(files.s2!, [
      [0x11, 0, 1],
      [0x22, 1, 1],
      [0x33, 2, 1],
      [0x44, 3, 1],
    ]);
  }, 30_000);

  it("block-stream pulls s1 into the top, which then backs onto base", async () => {
    const dir = await makeTempDir("canopy-qmp-jobs-");
    const files = await makeChain(dir, [
      { name: "base", writes: [[0x11, 0, 1]] },
      { name: "s1", writes: [[0x22, 1, 1]] },
      { name: "s2", writes: [[0x33, 2, 1]] },
    ]);
    const { daemon, client } = await serveChain(dir, ["base", "s1", "s2"]);
    const result = await runBlockJob(
      client,
      { command: "block-stream", args: { "job-id": "pull", device: "s2", "base-node": "base", "backing-file": "base.qcow2" } },
      { pollIntervalMs: 20 },
    );
    expect(result).toMatchObject({ outcome: "completed", progress: { type: "stream" } });
    await client.execute("blockdev-del", { "node-name": "s1" });
    await daemon.stop(5_000);
    expect(await backingOf(files.s2!)).toBe("base.qcow2");
    // Alone, the top now holds s1's data and its own, and not base's.
    await expectReads(
      files.s2!,
      [
        [0x00, 0, 1],
        [0x22, 1, 1],
        [0x33, 2, 1],
      ],
      true,
    );
    await expectReads(files.s2!, [[0x11, 0, 1]]);
  }, 30_000);

  it("cancels a running (throttled) commit through the AbortSignal; the chain still reads the same", async () => {
    const dir = await makeTempDir("canopy-qmp-jobs-");
    const files = await makeChain(dir, [
      { name: "base", writes: [[0x11, 0, 8]] },
      { name: "s1", writes: [[0x22, 0, 8]] },
      { name: "s2", writes: [[0x33, 8, 1]] },
    ]);
    const { daemon, client } = await serveChain(dir, ["base", "s1", "s2"]);
    const controller = new AbortController();
    const progress: JobProgress[] = [];
    let moving!: () => void;
    const movingSeen = new Promise<void>((resolve) => (moving = resolve));
    const started = Date.now();
    const running = runBlockJob(
      client,
      // 1 MiB/s over 8 MiB of data: about 8 s if left alone.
      { command: "block-commit", args: { "job-id": "slow", device: "s2", "top-node": "s1", "base-node": "base", speed: MiB } },
      {
        pollIntervalMs: 20,
        signal: controller.signal,
        onProgress: (p) => {
          progress.push(p);
          if (p.current > 0) moving();
        },
      },
    );
    await movingSeen;
    // While it runs, a second job on the same chain is refused, and that refusal is a QmpError.
    const busy = await runBlockJob(client, {
      command: "block-stream",
      args: { "job-id": "other", device: "s2" },
    }).catch((e: unknown) => e);
    expect(busy).toBeInstanceOf(QmpError);
    expect((busy as QmpError).desc).toMatch(/busy|in use/i);
    controller.abort();

    const result = await running;
    expect(result.outcome).toBe("cancelled");
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result.progress.current).toBeLessThan(result.progress.total);
    expect(progress.some((p) => p.status === "running" && p.current > 0)).toBe(true);
    expect(await client.execute("query-jobs")).toEqual([]);
    await daemon.stop(5_000);
    // The top still sees s1's data over base's (part of it may already sit in base: harmless, s1 covers it).
    await expectReads(files.s2!, [
      [0x22, 0, 8],
      [0x33, 8, 1],
    ]);
    expect(await backingOf(files.s2!)).toBe("s1.qcow2");
  }, 30_000);

  it("reports a job that fails on I/O as a JobError with QEMU's text, and dismisses it", async () => {
    const dir = await makeTempDir("canopy-qmp-jobs-");
    await makeChain(dir, [{ name: "base", writes: [[0x11, 0, 1]] }]);
    await run("qemu-img", ["create", "-q", "-f", "raw", path.join(dir, "target.raw"), "64M"], TOOL_TIMEOUT);
    const { client } = await serveChain(dir, ["base"]);
    // Every write to the target fails with EIO (5).
    await client.execute("blockdev-add", {
      driver: "raw",
      "node-name": "target",
      file: {
        driver: "blkdebug",
        "inject-error": [{ event: "pwritev", errno: 5 }],
        image: { driver: "file", filename: path.join(dir, "target.raw") },
      },
    });
    const reported = await runBlockJob(client, {
      command: "blockdev-backup",
      args: { "job-id": "b-report", device: "base", target: "target", sync: "full" },
    });
    expect(reported.outcome).toBe("failed");
    if (reported.outcome !== "failed") return;
    expect(reported.error).toBeInstanceOf(JobError);
    expect(reported.error).toMatchObject({ jobId: "b-report", desc: "Input/output error", ioError: { operation: "write" } });

    // With on-error=stop QEMU pauses the job and waits; the tracker fails and cancels it instead of hanging.
    const stopped = await runBlockJob(client, {
      command: "blockdev-backup",
      args: { "job-id": "b-stop", device: "base", target: "target", sync: "full", "on-target-error": "stop" },
    });
    expect(stopped).toMatchObject({ outcome: "failed", error: { ioError: { operation: "write", action: "stop" } } });
    expect(await client.execute("query-jobs")).toEqual([]);
  }, 30_000);

  it("refuses to start with QEMU's error and leaves no job behind", async () => {
    const dir = await makeTempDir("canopy-qmp-jobs-");
    await makeChain(dir, [{ name: "base", writes: [] }]);
    const { client } = await serveChain(dir, ["base"]);
    const error = await runBlockJob(client, {
      command: "block-commit",
      args: { "job-id": "nope", device: "missing" },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QmpError);
    expect((error as QmpError).desc).toMatch(/missing/);
    expect(await client.execute("query-jobs")).toEqual([]);
  }, 20_000);
});

describe("BlockJob.attach", () => {
  it("follows a backup started by a transaction together with its bitmap", async () => {
    const dir = await makeTempDir("canopy-qmp-jobs-");
    const files = await makeChain(dir, [
      { name: "base", writes: [[0x11, 0, 2]] },
      { name: "s1", writes: [[0x22, 1, 2]] },
    ]);
    const full = path.join(dir, "full0.qcow2");
    await run("qemu-img", ["create", "-q", "-f", "qcow2", full, "64M"], TOOL_TIMEOUT);
    const { daemon, client } = await serveChain(dir, ["base", "s1"]);
    await client.execute("blockdev-add", {
      driver: "qcow2",
      "node-name": "full0",
      file: { driver: "file", filename: full },
    });
    await client.execute("transaction", {
      actions: [
        { type: "block-dirty-bitmap-add", data: { node: "s1", name: "bm0", persistent: true } },
        {
          type: "blockdev-backup",
          data: { "job-id": "full0", device: "s1", target: "full0", sync: "full", "auto-dismiss": false },
        },
      ],
    });
    const job = await BlockJob.attach(client, "full0", { pollIntervalMs: 20 });
    await expect(job.done).resolves.toMatchObject({ outcome: "completed", progress: { type: "backup" } });
    const nodes = await client.execute("query-named-block-nodes", { flat: true });
    const s1 = nodes.find((n) => n["node-name"] === "s1");
    expect(s1?.["dirty-bitmaps"]?.map((b) => [b.name, b.persistent])).toEqual([["bm0", true]]);
    await client.execute("blockdev-del", { "node-name": "full0" });
    await daemon.stop(5_000);
    const compare = await run("qemu-img", ["compare", "-f", "qcow2", "-F", "qcow2", files.s1!, full], {
      ...TOOL_TIMEOUT,
      okExitCodes: [0, 1],
    });
    expect(compare.exitCode).toBe(0);
  }, 30_000);

  it("refuses a job id that does not exist", async () => {
    const dir = await makeTempDir("canopy-qmp-jobs-");
    await makeChain(dir, [{ name: "base", writes: [] }]);
    const { client } = await serveChain(dir, ["base"]);
    await expect(BlockJob.attach(client, "ghost")).rejects.toThrow(/no such job/);
  }, 20_000);
});
