import { chmod, lstat, mkdir, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeCanopyEnv, type CanopyEnv } from "../support/canopy-env";
import { onPostgres } from "../support/test-database";

/**
 * What Canopy keeps for itself is owner-only (0600 files, 0700 folders), whatever the umask: the SQLite
 * database with its -wal/-shm, the backup repository and the run folders of `canopy start`, made by the real
 * CLI with real QEMU. Roots left world-readable by an older installation are tightened on use. Disk layers keep
 * the mode the umask gives them.
 */

const mode = async (p: string) => (await stat(p)).mode & 0o777;

/** Every file and folder under `dir` (not following links), with its mode. */
async function modesUnder(dir: string): Promise<Array<{ path: string; mode: number; folder: boolean }>> {
  const out = [];
  for (const name of await readdir(dir)) {
    const p = path.join(dir, name);
    const info = await lstat(p);
    out.push({ path: p, mode: info.mode & 0o777, folder: info.isDirectory() });
    if (info.isDirectory()) out.push(...(await modesUnder(p)));
  }
  return out;
}

function expectOwnerOnly(entries: Array<{ path: string; mode: number; folder: boolean }>) {
  expect(entries.length).toBeGreaterThan(0);
  for (const e of entries) expect(`${e.path} ${e.mode.toString(8)}`).toBe(`${e.path} ${e.folder ? "700" : "600"}`);
}

let started: CanopyEnv | null = null;
afterEach(async () => {
  if (started) await started.cli("stop", "vm-2").catch(() => undefined);
  started = null;
});

describe("owner-only files", () => {
  it.skipIf(onPostgres)("a new SQLite database, its folders and its -wal/-shm are owner-only; an old one is tightened", async () => {
    const c = await makeCanopyEnv(undefined, undefined, { setUp: false });
    const dbFile = path.join(c.dir, "state/db/canopy.db");
    c.env.DATABASE_URL = `file:${dbFile}`;
    const scan = await c.cli("scan");
    expect(scan.code, scan.stdout + scan.stderr).toBe(0);
    expect(scan.stderr).toContain("set up a new database");
    expect((await mode(path.join(c.dir, "state"))).toString(8)).toBe("700");
    expect((await mode(path.dirname(dbFile))).toString(8)).toBe("700");
    const files = (await readdir(path.dirname(dbFile))).map((f) => path.join(path.dirname(dbFile), f));
    expect(files).toContain(dbFile);
    for (const f of files) expect(`${f} ${(await mode(f)).toString(8)}`).toBe(`${f} 600`);

    // An installation from before: a world-readable database is tightened by the next command.
    await chmod(dbFile, 0o644);
    expect((await c.cli("scan")).code).toBe(0);
    expect((await mode(dbFile)).toString(8)).toBe("600");
  });

  it("a backup's repository and the run folder of canopy start are owner-only; layers keep their mode", async () => {
    const c = (started = await makeCanopyEnv());
    // Roots an older installation made world-readable are tightened when used.
    const backups = path.join(c.dir, "backups");
    const run = path.join(c.dir, "run");
    await mkdir(backups, { mode: 0o755 });
    await mkdir(run, { mode: 0o755 });
    await chmod(backups, 0o755);
    await chmod(run, 0o755);
    const layerModes = await modesUnder(c.root);

    const backup = await c.cli("backup", "vm-1", "--json");
    expect(backup.code, backup.stdout + backup.stderr).toBe(0);
    const repo = await modesUnder(backups);
    expect(repo.some((e) => e.path.endsWith(".qcow2"))).toBe(true);
    expect(repo.some((e) => e.path.endsWith(".json"))).toBe(true);
    expect((await mode(backups)).toString(8)).toBe("700");
    expectOwnerOnly(repo);

    const start = await c.cli("start", "vm-2", "--json");
    expect(start.code, start.stdout + start.stderr).toBe(0);
    expect((await mode(run)).toString(8)).toBe("700");
    const runDir = await modesUnder(path.join(run, "vm-2"));
    expect(runDir.map((e) => path.basename(e.path))).toEqual(
      expect.arrayContaining(["daemon.json", "daemon.pid", "nbd.sock", "qmp-ctl.sock", "qmp.sock"]),
    );
    expect((await mode(path.join(run, "vm-2"))).toString(8)).toBe("700");
    expectOwnerOnly(runDir);

    // Layers are not Canopy's to restrict: they keep their mode, and a new one gets the mode the old ones had.
    const snap = await c.cli("snapshot", "vm-1", "--name", "S1", "--json");
    expect(snap.code, snap.stdout + snap.stderr).toBe(0);
    for (const l of layerModes) expect(`${l.path} ${(await mode(l.path)).toString(8)}`).toBe(`${l.path} ${l.mode.toString(8)}`);
    const sibling = layerModes.find((l) => l.path.endsWith("vm-1/1C.qcow2"))!;
    expect(sibling.mode & 0o044).not.toBe(0); // the umask gives read to others; so the check below means something
    expect((await mode(path.join(c.root, "vm-1/S1.qcow2"))).toString(8)).toBe(sibling.mode.toString(8));
  });
});
