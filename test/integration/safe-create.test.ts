import { lstat, mkdir, stat, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createStagingFile } from "@/lib/backup/replicate";
import { createExclusive, resolveDiskFolder } from "@/lib/inventory/paths";
import { executeStep } from "@/lib/ops/execute";
import type { StepContext } from "@/lib/ops/step-context";
import { scanStorageRoot } from "@/lib/inventory/scan";
import { run } from "@/lib/proc/run";
import { fingerprintFile } from "../support/files";
import { makeTempDir } from "../support/tmp";

/**
 * The exclusive create every new file goes through, and the scan's view of links, on real files: a link at
 * the name (to a file, dangling), a folder reached through a link, and what is left outside afterwards.
 */

const TOOL = { timeoutMs: 60_000 };

async function setUp() {
  const dir = await makeTempDir("canopy-safe-create-");
  const root = path.join(dir, "root");
  const outside = path.join(dir, "outside");
  await mkdir(path.join(root, "vm"), { recursive: true });
  await mkdir(outside);
  const decoy = path.join(outside, "shadow");
  await writeFile(decoy, "root:$6$decoy:19000::::::\n");
  return { dir, root, outside, decoy };
}

describe("createExclusive", () => {
  it("creates an empty regular file, and refuses a name taken by a file, a link or a dangling link", async () => {
    const { root, outside, decoy } = await setUp();
    const made = await createExclusive(path.join(root, "vm/new.qcow2"), { root });
    expect((await lstat(made.file)).size).toBe(0);
    await expect(createExclusive(made.file, { root })).rejects.toThrow(/already exists; nothing was written/);

    const before = await fingerprintFile(decoy);
    await symlink(decoy, path.join(root, "vm/shadow.qcow2"));
    await expect(createExclusive(path.join(root, "vm/shadow.qcow2"), { root })).rejects.toThrow(
      `already exists as a symbolic link to "${decoy}"`,
    );
    expect(await fingerprintFile(decoy)).toBe(before);

    await symlink(path.join(outside, "planted"), path.join(root, "vm/ghost.qcow2"));
    await expect(createExclusive(path.join(root, "vm/ghost.qcow2"), { root })).rejects.toThrow(/symbolic link/);
    await expect(lstat(path.join(outside, "planted"))).rejects.toThrow(/ENOENT/);
  });

  it("refuses a folder reached through a link, inside or outside the root", async () => {
    const { root, outside } = await setUp();
    await symlink(outside, path.join(root, "linked"));
    await expect(createExclusive(path.join(root, "linked/x.qcow2"), { root })).rejects.toThrow(/goes through a symbolic link/);
    await expect(resolveDiskFolder(root, "linked")).rejects.toThrow(/"linked" is a symbolic link/);
    await symlink(path.join(root, "vm"), path.join(root, "alias"));
    await expect(createExclusive(path.join(root, "alias/x.qcow2"), { root })).rejects.toThrow(/goes through a symbolic link/);
    await expect(resolveDiskFolder(root, "templates")).rejects.toThrow(/not a disk/);
    expect(await resolveDiskFolder(root, "vm")).toBe(path.join(root, "vm"));
    await expect(lstat(path.join(outside, "x.qcow2"))).rejects.toThrow(/ENOENT/);
    await expect(lstat(path.join(root, "vm/x.qcow2"))).rejects.toThrow(/ENOENT/);
  });

  it("a backup's staging file is not written through a link at its name", async () => {
    const { dir, decoy } = await setUp();
    const staging = path.join(dir, "run-staging.qcow2");
    await symlink(decoy, staging);
    const before = await fingerprintFile(decoy);
    await expect(createStagingFile(staging, 1024 * 1024, null)).rejects.toThrow(/symbolic link/);
    expect(await fingerprintFile(decoy)).toBe(before);
    const fresh = path.join(dir, "fresh.qcow2");
    await createStagingFile(fresh, 1024 * 1024, null);
    const info = JSON.parse((await run("qemu-img", ["info", "--output=json", fresh], TOOL)).stdout);
    expect(info).toMatchObject({ format: "qcow2", "virtual-size": 1024 * 1024 });
    expect((await stat(fresh)).mode & 0o777).toBe(0o600);
  });
});

describe("a snapshot's overlay (the executor's create-overlay)", () => {
  it("is made through the exclusive create and reads its backing's data; a link at its name is refused", async () => {
    const { root, decoy } = await setUp();
    const base = path.join(root, "vm/base.qcow2");
    await run("qemu-img", ["create", "-q", "-f", "qcow2", base, "4M"], TOOL);
    await run("qemu-io", ["-f", "qcow2", "-c", "write -P 0x3c 1M 1M", base], TOOL);
    const noRecords = async () => undefined;
    const ctx: StepContext = {
      root,
      disk: "vm",
      files: new Map([["base", base]]),
      effects: { setActive: noRecords, setProtected: noRecords, setDescription: noRecords },
    };
    await executeStep({ kind: "create-overlay", layer: "top", backing: "base" }, ctx);
    const top = path.join(root, "vm/top.qcow2");
    const info = JSON.parse((await run("qemu-img", ["info", "--output=json", top], TOOL)).stdout);
    expect(info).toMatchObject({ format: "qcow2", "backing-filename": "base.qcow2", "backing-filename-format": "qcow2" });
    const read = await run("qemu-io", ["-r", "-f", "qcow2", "-c", "read -P 0x3c 1M 1M", top], TOOL);
    expect(read.stdout).not.toMatch(/Pattern verification failed/);

    const before = await fingerprintFile(decoy);
    await symlink(decoy, path.join(root, "vm/shadow.qcow2"));
    await expect(executeStep({ kind: "create-overlay", layer: "shadow", backing: "base" }, ctx)).rejects.toThrow(
      `already exists as a symbolic link to "${decoy}"`,
    );
    expect(await fingerprintFile(decoy)).toBe(before);
  });
});

describe("the scan and links", () => {
  it("a layer backed through a link is reported (backing-symlink) and the linked file is not read as a layer", async () => {
    const { root, outside } = await setUp();
    const real = path.join(outside, "base.qcow2");
    await run("qemu-img", ["create", "-q", "-f", "qcow2", real, "1M"], TOOL);
    await mkdir(path.join(root, "templates"));
    await symlink(real, path.join(root, "templates/Linked.qcow2"));
    await run("qemu-img", ["create", "-q", "-f", "qcow2", "-u", "-F", "qcow2", "-b", "../templates/Linked.qcow2", path.join(root, "vm/top.qcow2"), "1M"], TOOL);
    const scan = await scanStorageRoot(root);
    const vm = scan.disks.find((d) => d.name === "vm")!;
    expect(vm.layers.map((l) => l.name)).toEqual(["top"]);
    expect(vm.problems).toContainEqual(expect.objectContaining({ code: "backing-symlink", layer: "top" }));
    expect(scan.problems).toEqual([
      expect.objectContaining({ code: "symlink", message: `templates/Linked.qcow2 is a symbolic link to "${real}"; Canopy does not follow links, and its name stays taken` }),
    ]);
    expect(scan.sharedFiles).toEqual([]);
  });
});
