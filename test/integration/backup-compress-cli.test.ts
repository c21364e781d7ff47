import path from "node:path";
import { describe, expect, it } from "vitest";
import { importRepository } from "@/lib/backup/repository";
import { run } from "@/lib/proc/run";
import { makeCanopyEnv } from "../support/canopy-env";
import { captureOffline, MiB, writeOffline } from "../support/backup-disk";
import { clusterCounts } from "../support/qcow2-clusters";

/**
 * The policy's compress setting through the real CLI (child processes, a real database, real QEMU): set on
 * vm-1 only, its backups are compressed (the manifest says so, the files hold compressed clusters, a restore is
 * exact); vm-2 follows the global default and is not.
 */

describe("compression through the policy and the CLI", () => {
  it("a disk's compress override makes its full and incremental compressed; other disks stay plain", async () => {
    const c = await makeCanopyEnv();
    const active = path.join(c.root, "vm-1/1C.qcow2");
    const backups = path.join(c.dir, "backups");

    const pol = await c.cli("policy", "--disk", "vm-1", "--compress", "true", "--json");
    expect(pol.code, pol.stdout + pol.stderr).toBe(0);
    expect(pol.json.policy).toMatchObject({ disk: "vm-1", compress: true, overrides: ["compress"] });

    const full = await c.cli("backup", "vm-1", "--json");
    expect(full.code, full.stdout + full.stderr).toBe(0);
    expect(full.json.backup).toMatchObject({ kind: "full", compressed: true });
    await writeOffline(active, [{ op: "write", pattern: 0x44, offset: 30 * MiB + 4096, length: MiB + 512 }]);
    const capture = await captureOffline(active, path.join(c.dir, "capture.qcow2"));
    const inc = await c.cli("backup", "vm-1");
    expect(inc.code, inc.stdout + inc.stderr).toBe(0);
    expect(inc.stdout).toMatch(/ incremental \(incremental: .*\) .* compressed \(job /);

    // The repository says it without the database: the manifest, and the files themselves.
    const chain = (await importRepository(backups)).disks.find((d) => d.disk === "vm-1")!.chains[0]!;
    expect(chain.backups.map((b) => [b.kind, b.compressed])).toEqual([
      ["full", true],
      ["incremental", true],
    ]);
    for (const b of chain.backups) {
      const clusters = await clusterCounts(path.join(backups, "vm-1", chain.chainId, b.file));
      expect(clusters.compressed, `${b.id} holds compressed clusters`).toBeGreaterThan(0);
    }
    const listed = await c.cli("backups", "vm-1", "--json");
    expect(listed.json.backups.map((b: { compressed: boolean }) => b.compressed)).toEqual([true, true]);
    expect((await c.cli("backups", "vm-1")).stdout).toMatch(/verify ok {2}compressed/);

    const incId = chain.backups[1]!.id;
    const out = path.join(c.dir, "restored.qcow2");
    const restored = await c.cli("restore", incId, "--to", out, "--json");
    expect(restored.code, restored.stdout + restored.stderr).toBe(0);
    const same = await run("qemu-img", ["compare", "-f", "qcow2", "-F", "qcow2", out, capture], { timeoutMs: 120_000, okExitCodes: [0, 1] });
    expect(same.exitCode, same.stdout).toBe(0);
    const verified = await c.cli("verify", incId, "--json");
    expect(verified.json.verify).toMatchObject({ status: "ok", ok: true });

    // vm-2 has no override and the global default is off.
    const other = await c.cli("backup", "vm-2", "--json");
    expect(other.code, other.stdout + other.stderr).toBe(0);
    expect(other.json.backup).toMatchObject({ kind: "full", compressed: false });
    const vm2 = (await importRepository(backups)).disks.find((d) => d.disk === "vm-2")!.chains[0]!;
    expect(vm2.backups[0]!.compressed).toBe(false);
    expect((await clusterCounts(path.join(backups, "vm-2", vm2.chainId, vm2.backups[0]!.file))).compressed).toBe(0);
  }, 300_000);
});
