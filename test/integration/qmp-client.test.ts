import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { run } from "../../lib/proc/run";
import { QmpClient } from "../../lib/qmp/client";
import { DaemonStartError, StorageDaemon, type DaemonBlockdev } from "../../lib/qmp/daemon";
import { QmpAbortError, QmpClosedError, QmpConnectError, QmpError, QmpTimeoutError } from "../../lib/qmp/errors";
import type { QmpEvent } from "../../lib/qmp/types";
import { makeTempDir } from "../support/tmp";

/** The QMP client against a real qemu-storage-daemon holding real qcow2 files. */

const MiB = 1024 * 1024;
const daemons: StorageDaemon[] = [];
const clients: QmpClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(daemons.splice(0).map((d) => d.stop(3_000)));
}, 15_000);

/** base.qcow2 (0x11 in the first MiB) <- top.qcow2 (0x22 in the second MiB), 64 MiB each. */
async function makeChain(): Promise<{ dir: string; blockdevs: DaemonBlockdev[] }> {
  const dir = await makeTempDir("canopy-qmp-");
  const base = path.join(dir, "base.qcow2");
  const top = path.join(dir, "top.qcow2");
  await run("qemu-img", ["create", "-q", "-f", "qcow2", base, "64M"], { timeoutMs: 10_000 });
  await run("qemu-io", ["-f", "qcow2", "-c", `write -P 0x11 0 ${MiB}`, base], { timeoutMs: 10_000 });
  await run("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", "base.qcow2", top], { timeoutMs: 10_000 });
  await run("qemu-io", ["-f", "qcow2", "-c", `write -P 0x22 ${MiB} ${MiB}`, top], { timeoutMs: 10_000 });
  return {
    dir,
    blockdevs: [
      { nodeName: "base", file: base, backing: null, readOnly: true },
      { nodeName: "top", file: top, backing: "base" },
    ],
  };
}

async function startDaemon(dir: string, blockdevs: DaemonBlockdev[], nbd = false): Promise<StorageDaemon> {
  const daemon = await StorageDaemon.start({
    qmpSocket: path.join(dir, "qmp.sock"),
    blockdevs,
    nbd: nbd ? { socket: path.join(dir, "nbd.sock") } : undefined,
    startTimeoutMs: 5_000,
  });
  daemons.push(daemon);
  return daemon;
}

async function connect(daemon: StorageDaemon): Promise<QmpClient> {
  const client = await QmpClient.connect(daemon.qmpSocket, { timeoutMs: 5_000, defaultTimeoutMs: 5_000 });
  clients.push(client);
  return client;
}

describe("QmpClient against qemu-storage-daemon", () => {
  it("handshakes and queries the nodes", async () => {
    const { dir, blockdevs } = await makeChain();
    const daemon = await startDaemon(dir, blockdevs);
    const client = await connect(daemon);
    expect(client.greeting.QMP.version.qemu.major).toBeGreaterThanOrEqual(7);
    const nodes = await client.execute("query-named-block-nodes", { flat: true });
    const named = nodes.filter((n) => n["node-name"] === "base" || n["node-name"] === "top");
    expect(named.map((n) => [n["node-name"], n.drv, n.ro, n.image["virtual-size"]]).sort()).toEqual([
      ["base", "qcow2", true, 64 * MiB],
      ["top", "qcow2", false, 64 * MiB],
    ]);
    // The header's string as stored (relative), not the resolved path QEMU shows in backing_file.
    expect(named.find((n) => n["node-name"] === "top")?.image["backing-filename"]).toBe("base.qcow2");
    await expect(client.execute("query-jobs")).resolves.toEqual([]);
    await expect(client.execute("query-block")).resolves.toEqual([]);
  }, 20_000);

  it("keeps concurrent calls apart, errors included", async () => {
    const { dir, blockdevs } = await makeChain();
    const client = await connect(await startDaemon(dir, blockdevs, true));
    const calls = Array.from({ length: 30 }, (_, i) => {
      switch (i % 4) {
        case 0:
          return client.execute("query-jobs").then((r) => ["jobs", r.length]);
        case 1:
          return client.execute("query-block-exports").then((r) => ["exports", r.map((e) => e["node-name"]).join()]);
        case 2:
          return client.execute("query-version").then((r) => ["version", r.qemu.major >= 7]);
        default:
          return client
            .execute("blockdev-del", { "node-name": `missing-${i}` })
            .then(() => ["del", "unexpected success"])
            .catch((e: QmpError) => ["del", e.desc]);
      }
    });
    const results = await Promise.all(calls);
    results.forEach((result, i) => {
      const expected = [
        ["jobs", 0],
        ["exports", "top"],
        ["version", true],
        ["del", `Failed to find node with node-name='missing-${i}'`],
      ][i % 4];
      expect(result).toEqual(expected);
    });
  }, 20_000);

  it("reports QEMU's own error for a bad command and bad arguments", async () => {
    const { dir, blockdevs } = await makeChain();
    const client = await connect(await startDaemon(dir, blockdevs));
    const unknown = await client.executeRaw("no-such-command").catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(QmpError);
    expect(unknown).toMatchObject({ class: "CommandNotFound", desc: "The command no-such-command has not been found" });
    const badArgs = await client.executeRaw("query-jobs", { bogus: 1 }).catch((e: unknown) => e);
    expect(badArgs).toMatchObject({ class: "GenericError", desc: "Parameter 'bogus' is unexpected" });
    // The connection is still fine afterwards.
    await expect(client.execute("query-jobs")).resolves.toEqual([]);
  }, 20_000);

  it("times out a call and aborts a call while QEMU is frozen, then carries on", async () => {
    const { dir, blockdevs } = await makeChain();
    const daemon = await startDaemon(dir, blockdevs);
    const client = await connect(daemon);
    process.kill(daemon.pid, "SIGSTOP");
    try {
      const started = Date.now();
      const timedOut = await client.execute("query-jobs", {}, { timeoutMs: 300 }).catch((e: unknown) => e);
      expect(timedOut).toBeInstanceOf(QmpTimeoutError);
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      const controller = new AbortController();
      const call = client.execute("query-version", {}, { signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      await expect(call).rejects.toBeInstanceOf(QmpAbortError);
      const preAborted = client.execute("query-version", {}, { signal: AbortSignal.abort() });
      await expect(preAborted).rejects.toBeInstanceOf(QmpAbortError);
    } finally {
      process.kill(daemon.pid, "SIGCONT");
    }
    // The late replies to the two abandoned calls arrive now and are dropped; new calls still match up.
    await expect(client.execute("query-block-exports")).resolves.toEqual([]);
    await expect(client.execute("query-version")).resolves.toMatchObject({ qemu: { major: 7 } });
  }, 20_000);

  it("rejects pending calls and waits when the daemon is killed, and says it is closed", async () => {
    const { dir, blockdevs } = await makeChain();
    const daemon = await startDaemon(dir, blockdevs);
    const client = await connect(daemon);
    const closes: QmpClosedError[] = [];
    client.onClose((e) => closes.push(e));
    process.kill(daemon.pid, "SIGSTOP"); // so the call is certainly pending when the kill lands
    // Caught at once: they reject while the kill is being awaited.
    const pending = client.execute("query-jobs", {}, { timeoutMs: 5_000 }).catch((e: unknown) => e);
    const waiting = client.waitForEvent("JOB_STATUS_CHANGE", undefined, { timeoutMs: 5_000 }).catch((e: unknown) => e);
    await daemon.kill("SIGKILL");
    const error = await pending;
    expect(error).toBeInstanceOf(QmpClosedError);
    expect((error as Error).message).toMatch(/query-jobs: QMP .*qmp\.sock closed.* before QEMU replied/);
    expect(await waiting).toBeInstanceOf(QmpClosedError);
    expect(client.closed).toBe(true);
    expect(closes).toHaveLength(1);
    await expect(client.execute("query-jobs")).rejects.toThrow(/not connected/);
  }, 20_000);

  it("reconnects to a restarted daemon; listeners survive, events meanwhile are lost", async () => {
    const { dir, blockdevs } = await makeChain();
    const first = await startDaemon(dir, blockdevs);
    const client = await connect(first);
    const events: QmpEvent<"JOB_STATUS_CHANGE">[] = [];
    client.on("JOB_STATUS_CHANGE", (e) => events.push(e));
    await first.kill();
    expect(client.closed).toBe(true);
    await expect(client.reconnect({ timeoutMs: 200 })).rejects.toBeInstanceOf(QmpConnectError);
    const reconnecting = client.reconnect({ timeoutMs: 5_000, waitForSocket: true });
    // A second reconnect() meanwhile joins the first instead of tearing its connection down.
    const joining = client.reconnect({ timeoutMs: 5_000, waitForSocket: true });
    expect(client.closed).toBe(true);
    const second = await startDaemon(dir, blockdevs);
    await Promise.all([reconnecting, joining]);
    expect(client.closed).toBe(false);
    expect(second.pid).not.toBe(first.pid);
    // Prove the new connection works end to end, events included: a short commit job.
    const ready = client.waitForEvent("BLOCK_JOB_READY", undefined, { timeoutMs: 5_000 });
    const done = client.waitForEvent("JOB_STATUS_CHANGE", (e) => e.data.status === "concluded", { timeoutMs: 5_000 });
    await client.execute("block-commit", { "job-id": "after-reconnect", device: "top", "auto-dismiss": false });
    await ready;
    await client.execute("job-cancel", { id: "after-reconnect" });
    await done;
    await client.execute("job-dismiss", { id: "after-reconnect" });
    expect(events.map((e) => e.data.status)).toContain("concluded");
    expect(events.every((e) => e.data.id === "after-reconnect")).toBe(true);
  }, 30_000);
});

describe("StorageDaemon", () => {
  it("fails to start with the daemon's own message when an image is missing", async () => {
    const dir = await makeTempDir("canopy-qmp-");
    const error = await StorageDaemon.start({
      qmpSocket: path.join(dir, "qmp.sock"),
      blockdevs: [{ nodeName: "gone", file: path.join(dir, "gone.qcow2"), backing: null }],
      startTimeoutMs: 5_000,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DaemonStartError);
    expect((error as Error).message).toMatch(/exited \(code 1\) before its QMP socket was ready: .*gone\.qcow2.*No such file/);
  }, 20_000);

  it("serves one QMP client at a time, exports the top over NBD, and stops cleanly with quit", async () => {
    const { dir, blockdevs } = await makeChain();
    const daemon = await startDaemon(dir, blockdevs, true);
    const client = await connect(daemon);
    // A second client is not greeted while the first is connected (QEMU's chardev serves one).
    await expect(QmpClient.connect(daemon.qmpSocket, { timeoutMs: 300 })).rejects.toThrow(/one client at a time/);
    expect(await client.execute("query-block-exports")).toEqual([
      { id: "export0", type: "nbd", "node-name": "top", "shutting-down": false },
    ]);
    // A guest write through NBD lands in the top layer.
    expect(daemon.nbdUri).toBe(`nbd+unix:///vda?socket=${path.join(dir, "nbd.sock")}`);
    await run("qemu-io", ["-f", "raw", "-c", `write -P 0x33 ${2 * MiB} ${MiB}`, daemon.nbdUri!], { timeoutMs: 10_000 });
    const exit = await daemon.stop(5_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(daemon.running).toBe(false);
    expect(client.closed).toBe(true);
    // Locks are released: plain (write-capable) qemu-io opens the chain and reads every layer's data.
    const top = blockdevs[1]!.file;
    await run(
      "qemu-io",
      ["-f", "qcow2", "-c", `read -P 0x11 0 ${MiB}`, "-c", `read -P 0x22 ${MiB} ${MiB}`, "-c", `read -P 0x33 ${2 * MiB} ${MiB}`, top],
      { timeoutMs: 10_000 },
    );
  }, 20_000);
});
