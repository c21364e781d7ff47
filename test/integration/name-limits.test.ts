import { readdir } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { makeCanopyEnv } from "../support/canopy-env";

/**
 * Names are at most 128 characters and descriptions at most 2000, through the real CLI: an oversized one is
 * refused (exit 1) with a short message that quotes at most the start of it, and nothing is created.
 */

// Below the kernel's limit on one argument (128 KiB), far above any name.
const HUGE = "a".repeat(100_000);

describe("name and description lengths", () => {
  it("an oversized name or description is refused briefly, without being echoed back, and nothing is made", async () => {
    const c = await makeCanopyEnv();
    const layersBefore = (await readdir(path.join(c.root, "vm-1"))).sort();

    // Each case once, half of them with --json (every CLI run costs a few seconds on a loaded machine).
    const cases: Array<{ args: string[]; says: RegExp }> = [
      { args: ["snapshot", "vm-1", "--name", HUGE], says: /name.*at most 128 characters/ },
      { args: ["snapshot", "vm-1", "--name", `S${"b".repeat(128)}`], says: /name.*at most 128 characters/ },
      { args: ["snapshot", "vm-1", "--name", "S1", "--description", "d".repeat(2001)], says: /description.*at most 2000 characters/ },
      { args: ["revert", "vm-1", HUGE], says: /at most 128 characters/ },
      { args: ["delete", "vm-1", HUGE, "--dry-run"], says: /at most 128 characters/ },
      { args: ["tree", HUGE], says: /disk name is at most 128 characters/ },
      { args: ["backup", HUGE], says: /disk name is at most 128 characters/ },
    ];
    for (const [i, { args, says }] of cases.entries()) {
      const json = i % 2 === 1;
      const r = await c.cli(...args, ...(json ? ["--json"] : []));
      const label = `${args[0]} ${json ? "--json" : ""}`;
      expect(r.code, `${label}: ${r.stdout.slice(0, 300)} ${r.stderr.slice(0, 300)}`).toBe(1);
      const said = json ? String(JSON.parse(r.stdout.trim().split("\n").pop()!).error?.message) : r.stderr;
      expect(said, label).toMatch(says);
      expect(r.stdout.length + r.stderr.length, label).toBeLessThan(600);
    }

    // A name of exactly 128 characters is fine, and so is a description of 2000.
    const longest = `S${"c".repeat(127)}`;
    const ok = await c.cli("snapshot", "vm-1", "--name", longest, "--description", "e".repeat(2000), "--json");
    expect(ok.code, ok.stdout.slice(0, 500) + ok.stderr.slice(0, 500)).toBe(0);
    expect((await readdir(path.join(c.root, "vm-1"))).sort()).toEqual([...layersBefore, `${longest}.qcow2`].sort());
  }, 240_000);
});
