import { lstat, mkdir, readdir, readlink, rename, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "@/lib/proc/run";
import { makeCanopyEnv, type CanopyEnv } from "../support/canopy-env";
import { fingerprintFile, fingerprintTree } from "../support/files";

/**
 * Symbolic links in the storage root, as an attacker who can write there would place them, driven through the
 * real CLI (real qemu-img, a real database). Each case is refused, and nothing outside the root is written: the
 * outside files' bytes and mtimes are compared before and after, and links stay links. "outside" stands in
 * for the rest of the host (its etc/shadow is a decoy; the real /etc is never touched).
 */

const TOOL = { timeoutMs: 60_000 };

async function exists(file: string): Promise<boolean> {
  return lstat(file).then(() => true, () => false);
}

function refused(r: { code: number; stdout: string; stderr: string }, words: RegExp): void {
  expect(r.code, r.stdout + r.stderr).not.toBe(0);
  expect(r.stdout + r.stderr).toMatch(words);
}

describe("symbolic links in the storage root", () => {
  let c: CanopyEnv;
  let outside: string;
  let victim: string;
  let decoyShadow: string;
  let outsideDisk: string;
  const before: Record<string, string> = {};

  beforeAll(async () => {
    c = await makeCanopyEnv();
    outside = path.join(c.dir, "outside");
    await mkdir(path.join(outside, "etc"), { recursive: true });
    // A qcow2 image of someone else's, with data in it.
    victim = path.join(outside, "victim.qcow2");
    await run("qemu-img", ["create", "-q", "-f", "qcow2", victim, "16M"], TOOL);
    await run("qemu-io", ["-f", "qcow2", "-c", "write -P 0x5a 0 1M", victim], TOOL);
    decoyShadow = path.join(outside, "etc/shadow");
    await writeFile(decoyShadow, "root:$6$decoy$hash:19000:0:99999:7:::\n", { mode: 0o600 });
    // A folder of qcow2 files elsewhere on the host, linked into the root as if it were a disk.
    outsideDisk = path.join(outside, "disk");
    await mkdir(outsideDisk);
    await run("qemu-img", ["create", "-q", "-f", "qcow2", path.join(outsideDisk, "L0.qcow2"), "16M"], TOOL);

    await symlink(victim, path.join(c.root, "vm-1/evil.qcow2"));
    await symlink(path.join(outside, "planted.qcow2"), path.join(c.root, "vm-1/ghost.qcow2")); // dangling
    await symlink(decoyShadow, path.join(c.root, "vm-2/shadow.qcow2"));
    await symlink(outsideDisk, path.join(c.root, "linked"));
    for (const f of [victim, decoyShadow]) before[f] = await fingerprintFile(f);
    Object.assign(before, { disk: JSON.stringify(await fingerprintTree(outsideDisk)) });
  }, 120_000);

  afterAll(async () => {
    await c?.cli("stop", "vm-2").catch(() => undefined);
  });

  async function nothingWrittenOutside(): Promise<void> {
    expect(await fingerprintFile(victim)).toBe(before[victim]);
    expect(await fingerprintFile(decoyShadow)).toBe(before[decoyShadow]);
    expect(JSON.stringify(await fingerprintTree(outsideDisk))).toBe(before.disk);
    expect(await exists(path.join(outside, "planted.qcow2"))).toBe(false);
    expect(await readlink(path.join(c.root, "vm-1/evil.qcow2"))).toBe(victim);
    expect(await readlink(path.join(c.root, "vm-2/shadow.qcow2"))).toBe(decoyShadow);
  }

  it("the scan reports every link with its target and lists no linked folder as a disk", async () => {
    const r = await c.cli("scan", "--json");
    expect(r.code, r.stderr).toBe(0);
    const disks = r.json.disks as Array<{ name: string; problems: Array<{ code: string; message: string }> }>;
    expect(disks.map((d) => d.name).sort()).toEqual(["vm-1", "vm-2"]);
    const vm1 = disks.find((d) => d.name === "vm-1")!.problems.filter((p) => p.code === "symlink");
    expect(vm1.map((p) => p.message)).toEqual([
      `vm-1/evil.qcow2 is a symbolic link to "${victim}"; Canopy does not follow links, and its name stays taken`,
      `vm-1/ghost.qcow2 is a symbolic link to "${path.join(outside, "planted.qcow2")}"; Canopy does not follow links, and its name stays taken`,
    ]);
    const vm2 = disks.find((d) => d.name === "vm-2")!.problems;
    expect(vm2).toContainEqual(expect.objectContaining({ code: "symlink", message: expect.stringContaining(decoyShadow) }));
    expect(r.json.problems).toEqual([expect.objectContaining({ code: "symlink", message: expect.stringContaining(`linked is a symbolic link to "${outsideDisk}"`) })]);
    const human = await c.cli("scan");
    expect(human.stdout).toContain(`linked is a symbolic link to "${outsideDisk}"`);
  });

  it("a snapshot named like a link to an outside qcow2 is refused and the outside image keeps its data", async () => {
    refused(await c.cli("snapshot", "vm-1", "--name", "evil"), /the name "evil" is taken: vm-1\/evil\.qcow2 is a symbolic link/);
    await nothingWrittenOutside();
    const read = await run("qemu-io", ["-r", "-f", "qcow2", "-c", "read -P 0x5a 0 1M", victim], TOOL);
    expect(read.stdout).not.toMatch(/Pattern verification failed/);
    const info = JSON.parse((await run("qemu-img", ["info", "--output=json", "-U", victim], TOOL)).stdout);
    expect(info["backing-filename"]).toBeUndefined();
  });

  it("a snapshot named like a dangling link creates nothing where the link points", async () => {
    refused(await c.cli("snapshot", "vm-1", "--name", "ghost"), /the name "ghost" is taken: vm-1\/ghost\.qcow2 is a symbolic link/);
    await nothingWrittenOutside();
  });

  it("a snapshot named like a link into /etc (a decoy) leaves the target's bytes as they were", async () => {
    refused(await c.cli("snapshot", "vm-2", "--name", "shadow"), /the name "shadow" is taken: vm-2\/shadow\.qcow2 is a symbolic link/);
    await nothingWrittenOutside();
  });

  it("on a running disk, a live snapshot named like the link into /etc is refused too; the run folder's record is not written through a link", async () => {
    const runDir = path.join(c.dir, "run/vm-2");
    await mkdir(runDir, { recursive: true });
    await symlink(decoyShadow, path.join(runDir, "daemon.json"));
    const started = await c.cli("start", "vm-2", "--json");
    expect(started.code, started.stdout + started.stderr).toBe(0);
    try {
      refused(await c.cli("snapshot", "vm-2", "--name", "shadow"), /the name "shadow" is taken: vm-2\/shadow\.qcow2 is a symbolic link/);
      // A live snapshot under a free name still works: its overlay goes through the same exclusive create.
      const live = await c.cli("snapshot", "vm-2", "--name", "S1", "--json");
      expect(live.code, live.stdout + live.stderr).toBe(0);
      expect((await lstat(path.join(c.root, "vm-2/S1.qcow2"))).isFile()).toBe(true);
    } finally {
      expect((await c.cli("stop", "vm-2")).code).toBe(0);
    }
    await nothingWrittenOutside();
    expect((await lstat(path.join(runDir, "daemon.json")).catch(() => null))?.isSymbolicLink() ?? false).toBe(false);
  }, 120_000);

  it("a disk folder that is a link to a folder outside the root is not a disk", async () => {
    refused(await c.cli("snapshot", "linked", "--name", "s1"), /"linked" is a symbolic link/);
    refused(await c.cli("tree", "linked"), /"linked" is a symbolic link/);
    refused(await c.cli("backup", "linked"), /"linked" is a symbolic link/);
    await nothingWrittenOutside();
    expect(await exists(path.join(outsideDisk, "s1.qcow2"))).toBe(false);
  });

  it("restores onto a dangling link, into a linked disk folder or to a linked --to file are refused", async () => {
    const b = await c.cli("backup", "vm-1", "--json");
    expect(b.code, b.stdout + b.stderr).toBe(0);
    expect(b.json, b.stdout + b.stderr).not.toBeNull();
    const id = b.json.backup.backupId as string;
    refused(await c.cli("restore", id, "--branch", "--layer", "ghost"), /ghost\.qcow2 already exists as a symbolic link/);
    refused(await c.cli("restore", id, "--as-disk", "linked"), /already exists as a symbolic link/);
    const toLink = path.join(c.dir, "to-link.qcow2");
    await symlink(path.join(outside, "restored-here.qcow2"), toLink);
    refused(await c.cli("restore", id, "--to", toLink), /already exists as a symbolic link/);
    expect(await exists(path.join(outside, "restored-here.qcow2"))).toBe(false);
    await nothingWrittenOutside();
    // The same restore as a real new branch still works: the refusals are about the links only.
    const ok = await c.cli("restore", id, "--branch", "--layer", "R1", "--json");
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect((await lstat(path.join(c.root, "vm-1/R1.qcow2"))).isFile()).toBe(true);
  }, 180_000);
});

describe("templates is not a disk", () => {
  it("snapshot, merge-down, backup, tree and restore --as-disk on templates are refused; Base keeps its bytes", async () => {
    const c = await makeCanopyEnv();
    const base = path.join(c.root, "templates/Base.qcow2");
    const baseBefore = await fingerprintFile(base);
    const templatesBefore = await fingerprintTree(path.join(c.root, "templates"));
    const notADisk = /"templates" holds the shared templates and is not a disk/;
    refused(await c.cli("snapshot", "templates", "--name", "t1"), notADisk);
    refused(await c.cli("merge-down", "templates", "--top", "Base", "--base", "Base"), notADisk);
    refused(await c.cli("backup", "templates"), notADisk);
    refused(await c.cli("tree", "templates"), notADisk);
    const b = await c.cli("backup", "vm-2", "--json");
    expect(b.code, b.stdout + b.stderr).toBe(0);
    refused(await c.cli("restore", b.json.backup.backupId, "--as-disk", "templates"), notADisk);
    expect(await fingerprintFile(base)).toBe(baseBefore);
    expect(await fingerprintTree(path.join(c.root, "templates"))).toEqual(templatesBefore);
    const bitmaps = JSON.parse((await run("qemu-img", ["info", "--output=json", "-U", base], TOOL)).stdout);
    expect(bitmaps["format-specific"]?.data?.bitmaps ?? []).toEqual([]);
  }, 180_000);
});

describe("links in the backup root and the run folder", () => {
  it("a disk's backup folder, a chain folder or a disk's run folder that is a link out is never written through", async () => {
    const c = await makeCanopyEnv();
    const outside = path.join(c.dir, "outside");
    const backupsElsewhere = path.join(outside, "backups-vm-1");
    const runElsewhere = path.join(outside, "run-vm-1");
    await mkdir(backupsElsewhere, { recursive: true });
    await mkdir(runElsewhere, { recursive: true });
    const backupRoot = c.env.CANOPY_BACKUP_ROOT!;
    await mkdir(backupRoot, { recursive: true });
    await symlink(backupsElsewhere, path.join(backupRoot, "vm-1"));
    refused(await c.cli("backup", "vm-1"), /goes through a symbolic link/);
    expect(await readdir(backupsElsewhere)).toEqual([]);

    // A chain folder moved out and linked back in: the next backup neither continues it nor writes into it.
    const first = await c.cli("backup", "vm-2", "--json");
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const chainOf = (backupId: string) => backupId.replace(/-\d{4}$/, "");
    const chainId = chainOf(first.json.backup.backupId as string);
    const movedChain = path.join(outside, "chain-vm-2");
    await rename(path.join(backupRoot, "vm-2", chainId), movedChain);
    await symlink(movedChain, path.join(backupRoot, "vm-2", chainId));
    const movedBefore = await fingerprintTree(movedChain);
    const next = await c.cli("backup", "vm-2", "--json");
    expect(next.code, next.stdout + next.stderr).toBe(0);
    expect(next.json.backup.kind).toBe("full");
    expect(chainOf(next.json.backup.backupId as string)).not.toBe(chainId);
    expect(await fingerprintTree(movedChain)).toEqual(movedBefore);

    const runRoot = c.env.CANOPY_RUN_DIR!;
    await mkdir(runRoot, { recursive: true });
    await symlink(runElsewhere, path.join(runRoot, "vm-1"));
    refused(await c.cli("start", "vm-1"), /goes through a symbolic link/);
    expect(await readdir(runElsewhere)).toEqual([]);
  }, 180_000);
});
