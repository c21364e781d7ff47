import path from "node:path";
import { describe, expect, it } from "vitest";
import { CanopyError } from "@/lib/errors";
import { executeLiveStep } from "@/lib/live/execute-live";
import { activeChain, inspectLive } from "@/lib/live/inspect";
import type { PlanStep } from "@/lib/ops/types";
import { run } from "@/lib/proc/run";
import { withoutLayers } from "../support/canopy-env";
import { fingerprintTree } from "../support/files";
import { startLiveDisk, type LiveDisk } from "../support/live-disk";
import { makeTempDir } from "../support/tmp";

/**
 * Refusals on a running disk, with the guest writing: the sibling rule checked online (a branch in the files
 * nobody has open, a node open in QEMU that the files do not show) and a delete of a layer QEMU still reads.
 * Each must change no byte of any file but the active layer the guest writes to.
 */

async function expectRefusedUnchanged(live: LiveDisk, step: PlanStep, message: RegExp, dependents: string[]) {
  const withoutActive = async () => {
    const all = await fingerprintTree(live.root);
    delete all["vm-1/1C.qcow2"];
    return all;
  };
  const before = await withoutActive();
  const viewBefore = await inspectLive(live.qmp);
  const error = await executeLiveStep(step, await live.ctx()).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(CanopyError);
  expect((error as CanopyError).code).toBe("refused");
  expect((error as CanopyError).message).toMatch(message);
  expect((error as CanopyError).details?.dependents).toEqual(dependents);
  const viewAfter = await inspectLive(live.qmp);
  expect(viewAfter.jobs).toEqual([]);
  expect(viewAfter.nodes.map((n) => [n.name, n.backing])).toEqual(viewBefore.nodes.map((n) => [n.name, n.backing]));
  await live.writer!.moreWrites(10);
  await live.stopAll();
  expect(await withoutActive()).toEqual(before);
  expect(live.writer!.writes.filter((w) => !w.ok)).toEqual([]);
}

describe("refused on a running disk", () => {
  it("merge down of 1B into 1A while the branch 1X (a file nobody has open) also reads 1A", async () => {
    const live = await startLiveDisk();
    await (await live.startWriter()).moreWrites(10);
    await expectRefusedUnchanged(
      live,
      { kind: "commit", top: "1B", base: "1A", bytes: 0 },
      /sibling rule: 1X also depends on 1A; merging 1B down into 1A would silently change its data/,
      ["1X"],
    );
  }, 60_000);

  it("merge down of 1B into 1A while a node open in QEMU (not in the files) reads 1A", async () => {
    const live = await startLiveDisk({ layers: withoutLayers(["1X"]) });
    // Another reader of 1A inside the same QEMU process, its file outside the storage root: only QEMU knows it.
    const other = path.join(await makeTempDir("canopy-live-other-"), "reader.qcow2");
    await run("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", path.join(live.root, "vm-1", "1A.qcow2"), "-u", other, "64M"]);
    await live.qmp.execute("blockdev-add", {
      driver: "qcow2",
      "node-name": "reader",
      "read-only": true,
      file: { driver: "file", filename: other },
      backing: "L1A",
    });
    await (await live.startWriter()).moreWrites(10);
    await expectRefusedUnchanged(
      live,
      { kind: "commit", top: "1B", base: "1A", bytes: 0 },
      /sibling rule: node reader \(.*reader\.qcow2\) also depends on 1A/,
      [`node reader (${other})`],
    );
  }, 60_000);

  it("merge down into VM1 while another export reads 1A (a merged layer)", async () => {
    const live = await startLiveDisk({ layers: withoutLayers(["1X"]) });
    await live.qmp.execute("block-export-add", { type: "nbd", id: "peek", "node-name": "L1A", writable: false });
    await (await live.startWriter()).moreWrites(10);
    await expectRefusedUnchanged(live, { kind: "commit", top: "1B", base: "VM1", bytes: 0 }, /export peek also depends on 1A/, [
      "export peek",
    ]);
  }, 60_000);

  it("delete of 1B, which the running 1C still reads through", async () => {
    const live = await startLiveDisk();
    await (await live.startWriter()).moreWrites(10);
    await expectRefusedUnchanged(live, { kind: "delete-file", layer: "1B" }, /not deleting 1B: the running QEMU still reads it \(1C uses it\)/, ["1C"]);
  }, 60_000);

  it("merge down of a branch the running disk does not read (1X into 1A): refused, since 1A is open under the running chain", async () => {
    const live = await startLiveDisk();
    await (await live.startWriter()).moreWrites(10);
    const before = activeChain(await inspectLive(live.qmp)).map((n) => n.name);
    await expectRefusedUnchanged(live, { kind: "commit", top: "1X", base: "1A", bytes: 0 }, /1X is not open/, []);
    expect(before).toEqual(["L1C", "L1B", "L1A", "VM1", "Base"]);
  }, 60_000);
});
