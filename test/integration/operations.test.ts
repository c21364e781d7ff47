import { access } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readQcow2Header } from "@/lib/qcow2/header";
import { dropBackingFormat } from "../support/backing-format";
import { makeCanopyEnv, withoutLayers } from "../support/canopy-env";
import { expectLayerContent, parentsOf, seedContent } from "../support/layer-data";
import { fingerprintTree } from "../support/files";
import { openRawDb } from "../support/raw-db";

const gone = async (file: string) => access(file).then(() => false, () => true);

describe("operations on the seed example, through the CLI, with real qemu-img", () => {
  it("merge down of 1A..1B into VM1 (no sibling): 1C unchanged and backed by VM1", async () => {
    const layers = withoutLayers(["1X"]);
    const c = await makeCanopyEnv(layers);
    const before = seedContent(layers);
    await expectLayerContent(c.root, "vm-1", seedContent(layers, undefined, "vm-1"));

    const dry = await c.cli("merge-down", "vm-1", "--top", "1B", "--base", "VM1", "--dry-run", "--json");
    expect(dry.code).toBe(0);
    expect(dry.json.plan.deletes).toEqual(["1B", "1A"]);
    // qemu-img map of each merged layer alone: 1A wrote 3 MiB, 1B wrote 3 MiB.
    expect(dry.json.plan.bytesToMove).toBe(6 * 1024 * 1024);

    const res = await c.cli("merge-down", "vm-1", "--top", "1B", "--base", "VM1", "--json");
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.json.job.state).toBe("succeeded");
    expect(await parentsOf(c.root, "vm-1")).toEqual({ Base: null, VM1: "Base", "1C": "VM1" });
    expect(await gone(path.join(c.root, "vm-1/1A.qcow2"))).toBe(true);
    expect(await gone(path.join(c.root, "vm-1/1B.qcow2"))).toBe(true);
    // 1C reads exactly as before; VM1 now holds what 1B showed; the template and vm-2 are untouched.
    await expectLayerContent(c.root, "vm-1", { "1C": before["1C"]!, VM1: before["1B"]!, Base: before.Base! }, { exactly: true });
    await expectLayerContent(c.root, "vm-2", { D0: before.D0!, D1: before.D1!, D2: before.D2! }, { exactly: true });
  });

  it("merge up of 1A..1B into 1C: 1C unchanged and backed by VM1; the sibling 1X keeps 1A", async () => {
    const c = await makeCanopyEnv();
    const before = seedContent();
    const res = await c.cli("merge-up", "vm-1", "--top", "1C", "--base", "VM1", "--json");
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(await parentsOf(c.root, "vm-1")).toEqual({ Base: null, VM1: "Base", "1A": "VM1", "1X": "1A", "1C": "VM1" });
    expect(await gone(path.join(c.root, "vm-1/1B.qcow2"))).toBe(true);
    await expectLayerContent(
      c.root,
      "vm-1",
      { "1C": before["1C"]!, "1X": before["1X"]!, "1A": before["1A"]!, VM1: before.VM1!, Base: before.Base! },
      { exactly: true },
    );
  });

  it("refuses a merge down into a layer a sibling depends on, names it, and changes no byte", async () => {
    const c = await makeCanopyEnv();
    const files = await fingerprintTree(c.root);
    const res = await c.cli("merge-down", "vm-1", "--top", "1B", "--base", "VM1");
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split("\n")).toHaveLength(1);
    expect(res.stderr).toMatch(/refused: sibling rule: 1X also depends on 1A/);
    expect(res.stderr).toContain("canopy merge-up vm-1 --top 1C --base VM1");
    const json = await c.cli("merge-down", "vm-1", "--top", "1B", "--base", "VM1", "--json");
    expect(json.json.error.code).toBe("refused");
    expect(json.json.plan.refused.dependents).toEqual(["1X"]);
    expect(await fingerprintTree(c.root)).toEqual(files);
    await expectLayerContent(c.root, "vm-1", seedContent(undefined, undefined, "vm-1"));
  });

  it("deletes a middle layer with two children by pulling it into both", async () => {
    const c = await makeCanopyEnv();
    const before = seedContent();
    const res = await c.cli("delete", "vm-1", "1A", "--json");
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.json.plan.notes[0]).toMatch(/pulled into 1B and 1X/);
    expect(await parentsOf(c.root, "vm-1")).toEqual({ Base: null, VM1: "Base", "1B": "VM1", "1C": "1B", "1X": "VM1" });
    await expectLayerContent(
      c.root,
      "vm-1",
      { "1B": before["1B"]!, "1C": before["1C"]!, "1X": before["1X"]!, VM1: before.VM1!, Base: before.Base! },
      { exactly: true },
    );
  });

  it("deletes a branch tip, and refuses the active layer", async () => {
    const c = await makeCanopyEnv();
    expect((await c.cli("delete", "vm-1", "1X")).code).toBe(0);
    expect(await gone(path.join(c.root, "vm-1/1X.qcow2"))).toBe(true);
    const active = await c.cli("delete", "vm-1", "1C");
    expect(active.code).toBe(1);
    expect(active.stderr).toMatch(/active layer/);
  });

  it("revert then snapshot gives the expected tree; protection is honoured", async () => {
    const c = await makeCanopyEnv();
    const before = seedContent();
    const rev = await c.cli("revert", "vm-1", "1A", "--json");
    expect(rev.code, rev.stdout + rev.stderr).toBe(0);
    expect(rev.json.plan.activeAfter).toBe("1A-2");
    const snap = await c.cli("snapshot", "vm-1", "--name", "after-revert", "--description", "test", "--json");
    expect(snap.code, snap.stdout + snap.stderr).toBe(0);
    const tree = await c.cli("tree", "vm-1", "--json");
    const byName = Object.fromEntries(tree.json.layers.map((l: any) => [l.name, l]));
    expect(tree.json.activeLayer).toBe("after-revert");
    expect(byName["after-revert"].parent).toBe("1A-2");
    expect(byName["after-revert"].description).toBe("test");
    expect(byName["1A-2"].parent).toBe("1A");
    expect(byName["1C"].children).toEqual([]); // the old active stays as a branch tip
    // Both new layers name their backing format, so QEMU never has to probe it; the tree reports it from the database.
    for (const name of ["after-revert", "1A-2"]) {
      expect((await readQcow2Header(path.join(c.root, "vm-1", `${name}.qcow2`))).backingFormat, name).toBe("qcow2");
      expect(byName[name].backingFormat, name).toBe("qcow2");
    }
    // A new branch reads exactly as the snapshot it was made on.
    await expectLayerContent(
      c.root,
      "vm-1",
      { ...seedContent(undefined, undefined, "vm-1"), "after-revert": before["1A"]!, "1A-2": before["1A"]! },
      { exactly: true },
    );

    expect((await c.cli("protect", "vm-1", "1X")).code).toBe(0);
    const refused = await c.cli("delete", "vm-1", "1X");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/1X is protected/);
    expect((await c.cli("unprotect", "vm-1", "1X")).code).toBe(0);
    expect((await c.cli("delete", "vm-1", "1X")).code).toBe(0);
  });

  it("a layer with no recorded backing format is reported, does not block, and gets one when Canopy rebases it", async () => {
    const c = await makeCanopyEnv();
    const before = seedContent();
    await dropBackingFormat(path.join(c.root, "vm-2/D2.qcow2"));
    const tree = await c.cli("tree", "vm-2", "--json");
    expect(tree.json.layers.map((l: any) => [l.name, l.backingFormat])).toEqual([["D0", null], ["D1", "qcow2"], ["D2", null]]);
    expect(tree.json.problems).toEqual([expect.objectContaining({ code: "backing-format-missing", layer: "D2" })]);

    const snap = await c.cli("snapshot", "vm-2", "--name", "D3", "--json");
    expect(snap.code, snap.stdout + snap.stderr).toBe(0);
    // Deleting D1 merges it down into D0 and repoints D2 at D0 (qemu-img rebase -u), this time with the format.
    const del = await c.cli("delete", "vm-2", "D1", "--json");
    expect(del.code, del.stdout + del.stderr).toBe(0);
    const after = await c.cli("tree", "vm-2", "--json");
    expect(after.json.layers.map((l: any) => [l.name, l.parent, l.backingFormat])).toEqual([
      ["D0", null, null],
      ["D2", "D0", "qcow2"],
      ["D3", "D2", "qcow2"],
    ]);
    expect(after.json.problems).toEqual([]);
    await expectLayerContent(c.root, "vm-2", { D0: before.D1!, D2: before.D2!, D3: before.D2! }, { exactly: true });
  });

  it("flattens the active layer without changing what it reads", async () => {
    const c = await makeCanopyEnv();
    const before = seedContent();
    // 1C reads MiB 0-16 from below (Base 0-8, VM1 8-12 and 0-1, 1A 12-14 and 1-2, 1B 14-16 and 8-9) except 14,
    // which it holds itself: 15 MiB to pull, each block counted once.
    const dry = await c.cli("flatten", "vm-1", "--dry-run", "--json");
    expect(dry.json.plan.bytesToMove).toBe(15 * 1024 * 1024);
    expect((await c.cli("flatten", "vm-1")).code).toBe(0);
    expect((await parentsOf(c.root, "vm-1"))["1C"]).toBeNull();
    await expectLayerContent(c.root, "vm-1", seedContent(undefined, undefined, "vm-1"), { exactly: true });
  });
});

describe("bad input gets a clear error and changes nothing", () => {
  it("unknown disk or layer, a base that is not an ancestor, a bad name", async () => {
    const c = await makeCanopyEnv();
    const files = await fingerprintTree(c.root);
    const cases: [string[], RegExp][] = [
      [["merge-down", "vm-9", "--top", "1B", "--base", "VM1"], /no disk named "vm-9"/],
      [["merge-down", "vm-1", "--top", "1Q", "--base", "VM1"], /no layer named "1Q"/],
      [["merge-up", "vm-1", "--top", "1X", "--base", "1B"], /"1B" is not an ancestor of "1X"/],
      [["delete", "../etc", "1A"], /not a valid disk name/],
      [["snapshot", "vm-1", "--name", "../../x"], /not a valid snapshot name/],
    ];
    for (const [args, message] of cases) {
      const res = await c.cli(...args);
      expect(res.code, args.join(" ")).toBe(1);
      expect(res.stderr).toMatch(message);
      expect(res.stderr.trim().split("\n")).toHaveLength(1);
    }
    expect(await fingerprintTree(c.root)).toEqual(files);
  });

  it("a second operation on a busy disk", async () => {
    const c = await makeCanopyEnv();
    // Queued with no worker running: the disk stays locked by that job.
    const queued = await c.cli("merge-up", "vm-1", "--top", "1C", "--base", "VM1", "--background", "--json");
    expect(queued.json.job.state).toBe("queued");
    const files = await fingerprintTree(c.root);
    const second = await c.cli("delete", "vm-1", "1X");
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`disk "vm-1" is busy: job ${queued.json.job.id} \\(merge-up\\)`));
    expect(await fingerprintTree(c.root)).toEqual(files);
    // Another disk is not affected.
    expect((await c.cli("snapshot", "vm-2", "--name", "D3")).code).toBe(0);
    // Cancelling the queued job frees the disk, and nothing ran.
    const cancelled = await c.cli("cancel", queued.json.job.id, "--json");
    expect(cancelled.json).toEqual({ id: queued.json.job.id, state: "cancelled" });
    // The CLI's cancel is in the audit log, like the dashboard's.
    const db = await openRawDb(c.env.DATABASE_URL!, { readonly: true });
    const audit = await db.get<{ actor: string; detail: string }>(`SELECT actor, detail FROM "AuditEvent" WHERE action = 'cancel'`);
    await db.close();
    expect(audit?.actor).toMatch(/^cli:/);
    expect(JSON.parse(audit!.detail)).toEqual({ jobId: queued.json.job.id, kind: "merge-up", disk: "vm-1", outcome: "cancelled" });
    expect(await fingerprintTree(path.join(c.root, "vm-1"))).toEqual(
      Object.fromEntries(Object.entries(files).filter(([k]) => k.startsWith("vm-1/")).map(([k, v]) => [k.slice(5), v])),
    );
    expect((await c.cli("delete", "vm-1", "1X")).code).toBe(0);
  });

  it("a layer whose chain is broken", async () => {
    const c = await makeCanopyEnv();
    const { rename } = await import("node:fs/promises");
    await rename(path.join(c.root, "vm-1/1A.qcow2"), path.join(c.dir, "1A.moved"));
    const files = await fingerprintTree(c.root);
    const res = await c.cli("merge-down", "vm-1", "--top", "1C", "--base", "1B");
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/broken chain.*1B: backing file "1A.qcow2" does not exist/);
    expect(await fingerprintTree(c.root)).toEqual(files);
  });
});
