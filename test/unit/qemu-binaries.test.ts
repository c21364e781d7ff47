import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * Each QEMU tool is named and run in one place: qemu-img and qemu-io in lib/qemu/ (typed functions with their
 * timeouts and argument arrays), qemu-storage-daemon in lib/qmp/daemon.ts. Anywhere else in lib/, server/,
 * scripts/ and bin/, code that names one of them fails this test: a string that is the binary or a path to it
 * (a constant, an argument of run or spawn), a command line starting with it handed to a process call, or the
 * environment variable that overrides its path. Prose that mentions a tool ("qemu-img check found ...") and
 * comments do not count. Shell scripts are not read: they set the machine up (scripts/lib.sh installs qemu-utils
 * and checks its binaries exist) and are not Canopy's own code.
 */

const REPO = path.resolve(import.meta.dirname, "../..");
const FOLDERS = ["lib", "server", "scripts", "bin"];
const EXTENSIONS = new Set([".ts", ".tsx", ".mjs", ".js"]);
const SKIPPED = new Set(["node_modules", "generated"]);

const BINARIES = [
  { name: "qemu-img", env: "CANOPY_QEMU_IMG", home: "lib/qemu/" },
  { name: "qemu-io", env: "CANOPY_QEMU_IO", home: "lib/qemu/" },
  { name: "qemu-storage-daemon", env: "CANOPY_QEMU_STORAGE_DAEMON", home: "lib/qmp/daemon.ts" },
];
/** Calls that start a process from a command line or a program name. */
const PROCESS_CALLS = new Set(["run", "spawn", "spawnSync", "exec", "execSync", "execFile", "execFileSync", "fork"]);

interface Finding {
  binary: string;
  line: number;
  text: string;
}

/** Where `source` names a QEMU binary in code (see the opening comment for what counts). */
function namedBinaries(fileName: string, source: string): Finding[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true);
  const found: Finding[] = [];
  const note = (node: ts.Node, binary: string) =>
    found.push({ binary, line: file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1, text: node.getText(file) });
  const visit = (node: ts.Node) => {
    const text = literalText(node);
    for (const b of BINARIES) {
      if (ts.isIdentifier(node) && node.text === b.env) note(node, b.name);
      if (text === null) continue;
      const value = text.trim();
      if (value === b.env || value === b.name || value.endsWith(`/${b.name}`)) note(node, b.name);
      else if (value.startsWith(`${b.name} `) && isProcessCallArgument(node)) note(node, b.name);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

function literalText(node: ts.Node): string | null {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) return node.text;
  return null;
}

/** The literal is (part of) an argument of a process call: alone, joined with `+`, in a template, or in an array. */
function isProcessCallArgument(node: ts.Node): boolean {
  let expr: ts.Node = ts.isTemplateHead(node) ? node.parent : node;
  const partOf = (p: ts.Node) =>
    ts.isBinaryExpression(p) || ts.isParenthesizedExpression(p) || ts.isArrayLiteralExpression(p) || ts.isTemplateSpan(p) || ts.isTemplateExpression(p);
  while (expr.parent && partOf(expr.parent)) expr = expr.parent;
  const call = expr.parent;
  if (!call || !ts.isCallExpression(call) || !call.arguments.includes(expr as ts.Expression)) return false;
  const callee = ts.isPropertyAccessExpression(call.expression) ? call.expression.name : call.expression;
  return ts.isIdentifier(callee) && PROCESS_CALLS.has(callee.text);
}

function sourceFiles(folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(path.join(REPO, dir), { withFileTypes: true })) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory() && !SKIPPED.has(entry.name)) walk(rel);
      else if (entry.isFile() && EXTENSIONS.has(path.extname(entry.name))) out.push(rel);
    }
  };
  walk(folder);
  return out;
}

function findingsIn(files: string[]): string[] {
  return files.flatMap((rel) =>
    namedBinaries(rel, readFileSync(path.join(REPO, rel), "utf8"))
      .filter((f) => !rel.startsWith(BINARIES.find((b) => b.name === f.binary)!.home))
      .map((f) => `${rel}:${f.line}: ${f.binary} in ${f.text}`),
  );
}

describe("QEMU binaries are named in one place each", () => {
  const files = FOLDERS.flatMap(sourceFiles);

  it("reads the sources and finds the binaries where they are run", () => {
    // A reader that found nothing would pass everything.
    expect(files.length).toBeGreaterThan(150);
    const home = (rel: string) => namedBinaries(rel, readFileSync(path.join(REPO, rel), "utf8")).map((f) => f.binary);
    expect(home("lib/qemu/img.ts")).toContain("qemu-img");
    expect(home("lib/qemu/io.ts")).toContain("qemu-io");
    expect(home("lib/qmp/daemon.ts")).toContain("qemu-storage-daemon");
  });

  it("no file outside lib/qemu/ (qemu-img, qemu-io) or lib/qmp/daemon.ts (qemu-storage-daemon) names one in code", () => {
    expect(findingsIn(files)).toEqual([]);
  });

  it("catches a run, a spawn, a path constant and a command line, and lets prose and comments pass", () => {
    const caught = (code: string) => namedBinaries("x.ts", code).map((f) => f.text);
    expect(caught(`await run("qemu-img", ["info", f]);`)).toEqual([`"qemu-img"`]);
    expect(caught(`const IMG = process.env.CANOPY_QEMU_IMG ?? "/usr/bin/qemu-img";`)).toEqual(["CANOPY_QEMU_IMG", `"/usr/bin/qemu-img"`]);
    expect(caught("spawn(`${bin}/qemu-io`, args);")).toEqual(["}/qemu-io`"]);
    expect(caught("const env = process.env['CANOPY_QEMU_STORAGE_DAEMON'];")).toEqual(["'CANOPY_QEMU_STORAGE_DAEMON'"]);
    expect(caught(`execSync("qemu-img check " + f);`)).toEqual([`"qemu-img check "`]);
    expect(caught("cp.exec(`qemu-img info ${f}`);")).toEqual(["`qemu-img info ${"]);
    expect(caught(`spawn("sh", ["-c", "qemu-io -c 'read 0 4k' " + f]);`)).toEqual([`"qemu-io -c 'read 0 4k' "`]);
    expect(
      caught(
        [
          "// runs qemu-img on the file",
          "/** `qemu-img commit -b base top` */",
          `throw new CanopyError("failed", "qemu-img check found 2 corruptions");`,
          "problems.push(`${file}: qemu-img check failed: ${reason}`);",
          `const line = text.replace(/^qemu-[a-z-]+: /, "");`,
        ].join("\n"),
      ),
    ).toEqual([]);
  });
});
