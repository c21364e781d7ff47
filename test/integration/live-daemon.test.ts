import { access, mkdir } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createSeedRoot, SEED_LAYERS } from "@/lib/demo/seed";
import { scanDisk } from "@/lib/inventory/scan";
import { findDaemonForDisk, startDaemonForDisk, stopDaemonForDisk } from "@/lib/live/daemon-for-disk";
import { activeChain, inspectLive } from "@/lib/live/inspect";
import { isValidNodeName, nodeNameFor, uniqueNodeName } from "@/lib/live/node-names";
import { run } from "@/lib/proc/run";
import { QmpClient } from "@/lib/qmp/client";
import { LayerTree } from "@/lib/tree/model";
import { startLiveDisk } from "../support/live-disk";
import { makeTempDir } from "../support/tmp";

/** The daemon Canopy starts for a disk, and the live view read from it. */

describe("node names", () => {
  it("derives valid QEMU node names from any layer name", () => {
    expect(nodeNameFor("VM1")).toBe("VM1");
    expect(nodeNameFor("1A")).toBe("L1A");
    expect(nodeNameFor("_x")).toBe("L_x");
    const long = "a".repeat(40);
    expect(nodeNameFor(long)).toHaveLength(31);
    expect(nodeNameFor(long)).not.toBe(nodeNameFor(`${long}b`));
    for (const name of ["1A", "-a", ".b", "x".repeat(128), "1A-2", "Base"]) expect(isValidNodeName(nodeNameFor(name))).toBe(true);
    // A layer literally named L1A next to 1A: both get distinct names.
    const taken = new Set([nodeNameFor("L1A")]);
    expect(uniqueNodeName("1A", taken)).not.toBe("L1A");
    expect(isValidNodeName(uniqueNodeName("1A", taken))).toBe(true);
  });
});

describe("startDaemonForDisk", () => {
  it("opens the chain (backing layers read-only), exports the active layer, survives in its own session, stops with quit", async () => {
    const live = await startLiveDisk();
    const view = await inspectLive(live.qmp, { exportId: live.daemon.exportId });
    const chain = activeChain(view);
    expect(chain.map((n) => n.name)).toEqual(["L1C", "L1B", "L1A", "VM1", "Base"]);
    expect(chain.map((n) => n.readOnly)).toEqual([false, true, true, true, true]);
    expect(chain.map((n) => path.basename(n.file))).toEqual(["1C.qcow2", "1B.qcow2", "1A.qcow2", "VM1.qcow2", "Base.qcow2"]);
    expect(view.roots).toEqual([{ kind: "export", id: live.daemon.exportId, node: "L1C" }]);
    // Its own session: not in our process group, so a killed worker does not take it down.
    const { stdout } = await run("ps", ["-o", "sid=", "-p", String(live.daemon.pid)]);
    expect(Number(stdout.trim())).not.toBe(Number((await run("ps", ["-o", "sid=", "-p", String(process.pid)])).stdout.trim()));
    // Found again from its run folder, as a restarted worker would.
    expect((await findDaemonForDisk(live.daemon.runDir))?.pid).toBe(live.daemon.pid);
    // A second daemon for the same folder is refused.
    await expect(startDaemonForDisk({ runDir: live.daemon.runDir, chain: [] })).rejects.toThrow();
    // stop() works while the caller is still connected to the main QMP socket (it uses its own monitor).
    await expect(stopDaemonForDisk(live.daemon)).resolves.toEqual({ how: "quit" });
    expect(await findDaemonForDisk(live.daemon.runDir)).toBeNull();
    await expect(access(live.daemon.qmpSocket)).rejects.toThrow();
  }, 30_000);

  it("reaches its sockets through a short link when the run folder is too long for a unix socket", async () => {
    const dir = await makeTempDir("canopy-live-long-");
    const root = path.join(dir, "storage");
    await createSeedRoot(root, SEED_LAYERS.filter((l) => l.folder === "vm-2"));
    const runDir = path.join(dir, "r".repeat(60), "s".repeat(60));
    await mkdir(runDir, { recursive: true });
    const inventory = await scanDisk(root, "vm-2");
    const chain = new LayerTree(inventory.layers).chain("D2").map((l) => ({ name: l.name, file: path.join(root, l.file) }));
    const daemon = await startDaemonForDisk({ runDir, chain });
    try {
      expect(Buffer.byteLength(path.join(runDir, "qmp.sock"))).toBeGreaterThan(107);
      expect(Buffer.byteLength(daemon.qmpSocket)).toBeLessThan(108);
      const client = await QmpClient.connect(daemon.qmpSocket, { timeoutMs: 5_000 });
      expect(activeChain(await inspectLive(client)).map((n) => n.name)).toEqual(["D2", "D1", "D0"]);
      client.close();
      const io = await run("qemu-io", ["-f", "raw", "-r", "-c", "read -P 0xd2 5M 3M", daemon.nbdUri], { timeoutMs: 15_000 });
      expect(io.stdout).not.toMatch(/fail/);
    } finally {
      expect((await stopDaemonForDisk(daemon)).how).toBe("quit");
    }
  }, 30_000);

  it("refuses a chain whose headers disagree with the layers given, and quotes QEMU when it cannot open one", async () => {
    const dir = await makeTempDir("canopy-live-bad-");
    const root = path.join(dir, "storage");
    await createSeedRoot(root, SEED_LAYERS.filter((l) => l.folder === "vm-2"));
    const file = (n: string) => path.join(root, "vm-2", `${n}.qcow2`);
    await expect(
      startDaemonForDisk({ runDir: path.join(dir, "run"), chain: [{ name: "D2", file: file("D2") }, { name: "D0", file: file("D0") }] }),
    ).rejects.toThrow(/D2 is backed by D1.qcow2/);
    // Held by another writer: QEMU's lock error comes back in the message, and no daemon is left behind.
    const holder = await startDaemonForDisk({
      runDir: path.join(dir, "run1"),
      chain: [{ name: "D2", file: file("D2") }, { name: "D1", file: file("D1") }, { name: "D0", file: file("D0") }],
    });
    try {
      await expect(
        startDaemonForDisk({
          runDir: path.join(dir, "run2"),
          chain: [{ name: "D2", file: file("D2") }, { name: "D1", file: file("D1") }, { name: "D0", file: file("D0") }],
        }),
      ).rejects.toThrow(/lock/);
      expect(await findDaemonForDisk(path.join(dir, "run2"))).toBeNull();
    } finally {
      await stopDaemonForDisk(holder);
    }
  }, 30_000);
});
