import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  folderCycles,
  importsBetween,
  importsOf,
  isServerActionModule,
  packageOf,
  REPO,
  sourceFiles,
  type Import,
} from "../support/import-graph";

/**
 * The rules of the layout, checked on the real source so that a new import that breaks one fails CI:
 * folders of server/ and of components/ do not import each other in a circle (server/ has one left, which may
 * only shrink); lib/ is framework-free; and components reach the server only through server actions and types.
 */

const packageJson = JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as { dependencies: Record<string, string> };
const everything: Import[] = ["lib", "server", "components", "app"].flatMap((f) => sourceFiles(f)).flatMap(importsOf);

function describeCycles(cycles: string[][]): string {
  return cycles
    .map((c) => c.map((a) => c.filter((b) => b !== a).flatMap((b) => importsBetween(everything, a, b))).flat().join("\n  "))
    .join("\n\n");
}

describe("the layout's rules", () => {
  it("reads the whole source (a broken reader would find no imports and pass everything)", () => {
    expect(everything.length).toBeGreaterThan(500);
    expect(everything.some((i) => i.from.startsWith("components/") && i.to?.startsWith("server/actions/"))).toBe(true);
    expect(everything.some((i) => i.typeOnly)).toBe(true);
  });

  it("folders of server/ form no import circle but the one still being taken apart, and it does not grow", () => {
    // The loose files at server/'s top level (db, config, audit events, the error gate, disk activity, job views,
    // the inventory sync) are imported by every folder and import some of them back. Issue 12 groups them by
    // what they serve; until then this circle may only shrink: a folder joining it, or any new circle, fails.
    const shrinking = ["server", "server/actions", "server/auth", "server/backups", "server/job-kinds", "server/jobs", "server/ops"];
    const cycles = folderCycles(everything, (f) => f === "server" || f.startsWith("server/"));
    const grown = cycles.filter((c) => !c.every((f) => shrinking.includes(f)));
    expect(grown, describeCycles(grown)).toEqual([]);
  });

  it("folders of components/ do not import each other in a circle", () => {
    const cycles = folderCycles(everything, (f) => f.startsWith("components/"));
    expect(cycles, describeCycles(cycles)).toEqual([]);
  });

  it("lib/ imports only node's built-ins, its own files and the declared dependencies (no Next, no Prisma)", () => {
    const allowed = new Set(Object.keys(packageJson.dependencies).filter((d) => d !== "next" && !d.startsWith("@prisma/") && d !== "server-only"));
    const bad = everything
      .filter((i) => i.from.startsWith("lib/"))
      .filter((i) => (i.to ? !i.to.startsWith("lib/") : packageOf(i.specifier) !== "node:" && !allowed.has(packageOf(i.specifier))))
      .map((i) => `${i.from} imports ${i.specifier}`);
    expect(bad).toEqual([]);
  });

  it("a source file over 300 lines says why in its opening comment", () => {
    const long = ["lib", "server", "components", "app"]
      .flatMap((f) => sourceFiles(f))
      .map((file) => ({ file, text: readFileSync(path.join(REPO, file), "utf8") }))
      .filter(({ text }) => text.split("\n").length > 300);
    expect(long.length).toBeGreaterThan(0); // there are some, so the check below is not vacuous
    const unexplained = long.filter(({ text }) => !/^[\s\S]{0,3000}?Longer than 300 lines: \S/.test(text.split("*/")[0] ?? "")).map((l) => l.file);
    expect(unexplained).toEqual([]);
  });

  it("routes and pages hold no database queries of their own: they call server functions", () => {
    const bad = everything
      .filter((i) => i.from.startsWith("app/") && !i.typeOnly)
      .filter((i) => i.to === "server/db.ts" || i.to?.startsWith("server/generated/") || packageOf(i.specifier).startsWith("@prisma/"))
      .map((i) => `${i.from} imports ${i.specifier}`);
    expect(bad).toEqual([]);
  });

  it("components/ reach server/ only through server actions and types, never a module that touches the database", () => {
    const bad = everything
      .filter((i) => i.from.startsWith("components/") && i.to?.startsWith("server/") && !i.typeOnly && !isServerActionModule(i.to))
      .map((i) => `${i.from} imports ${i.to}`);
    expect(bad).toEqual([]);
  });
});
