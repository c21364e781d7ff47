import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { run } from "@/lib/proc/run";
import { makeCanopyEnv, type CanopyEnv } from "../support/canopy-env";
import { captureNbd, writeNbd, MiB } from "../support/backup-disk";

/**
 * Backups of a running disk through the CLI: the job reaches the disk's own QEMU (canopy start), a live
 * snapshot hands the bitmap over and a live merge is followed through mergedInto (from the job history), so
 * the backups after them stay incremental; every point restores to what the guest read then.
 */

let env: CanopyEnv | null = null;
afterEach(async () => {
  if (env) await env.cli("stop", "vm-1").catch(() => undefined);
  env = null;
});

describe("backups of a running disk, through the CLI", () => {
  it("full, then incrementals across a live snapshot and a live merge; each restores to the guest's view", async () => {
    const c = (env = await makeCanopyEnv());
    const started = await c.cli("start", "vm-1", "--json");
    expect(started.code, started.stdout + started.stderr).toBe(0);
    const uri = started.json.nbdUri as string;
    const caps: Array<[string, string]> = [];
    const backup = async (expectKind: string) => {
      const cap = await captureNbd(uri, path.join(c.dir, `cap-${caps.length}.qcow2`));
      const r = await c.cli("backup", "vm-1", "--json");
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.json.backup.kind, JSON.stringify(r.json.backup)).toBe(expectKind);
      caps.push([r.json.backup.backupId, cap]);
      return r.json.backup;
    };

    await writeNbd(uri, [{ op: "write", pattern: 0x31, offset: 33 * MiB, length: MiB }]);
    expect((await backup("full")).reason).toBe("first-backup");
    await writeNbd(uri, [{ op: "write", pattern: 0x32, offset: 35 * MiB + 512, length: 2 * MiB }]);
    await backup("incremental");

    expect((await c.cli("snapshot", "vm-1", "--name", "S1", "--json")).code).toBe(0);
    await writeNbd(uri, [{ op: "write", pattern: 0x33, offset: 40 * MiB, length: MiB }]);
    await backup("incremental");

    const down = await c.cli("merge-down", "vm-1", "--top", "S1", "--base", "1C", "--json");
    expect(down.code, down.stdout + down.stderr).toBe(0);
    await writeNbd(uri, [{ op: "zero", offset: 33 * MiB, length: MiB }]);
    await backup("incremental");

    expect((await c.cli("stop", "vm-1")).code).toBe(0);
    for (const [id, cap] of caps) {
      const out = path.join(c.dir, `restored-${id}.qcow2`);
      const r = await c.cli("restore", id, "--to", out, "--json");
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const same = await run("qemu-img", ["compare", "-f", "qcow2", "-F", "qcow2", out, cap], { timeoutMs: 60_000, okExitCodes: [0, 1] });
      expect(same.exitCode, `backup ${id} restores to the guest's view then`).toBe(0);
    }
  }, 240_000);
});
