import { readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import ts from "typescript";

/**
 * The project's own import graph, read with TypeScript's parser (not regular expressions: comments, strings and
 * `import type` must not count as imports). Used by the architecture test to hold the rules about which part
 * may import which.
 */

export const REPO = path.resolve(import.meta.dirname, "../..");
const SOURCE_EXTENSIONS = [".ts", ".tsx", ".mjs", ".js"];
/** Generated code (the Prisma client) is not the project's to arrange. */
const SKIPPED_FOLDERS = new Set(["node_modules", "generated"]);

export interface Import {
  /** Repository-relative file that imports. */
  from: string;
  /** As written. */
  specifier: string;
  /** Repository-relative file it resolves to, or null for a package or built-in. */
  to: string | null;
  /** Erased at compile time: `import type`, or every name imported is a type. */
  typeOnly: boolean;
}

export function sourceFiles(folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIPPED_FOLDERS.has(e.name)) walk(p);
      } else if (SOURCE_EXTENSIONS.includes(path.extname(e.name)) && !e.name.endsWith(".d.ts")) {
        out.push(path.relative(REPO, p));
      }
    }
  };
  walk(path.join(REPO, folder));
  return out.sort();
}

function resolveLocal(fromFile: string, specifier: string): string | null {
  let base: string;
  if (specifier.startsWith("@/")) base = path.join(REPO, specifier.slice(2));
  else if (specifier.startsWith(".")) base = path.resolve(REPO, path.dirname(fromFile), specifier);
  else return null;
  const candidates = [base, ...SOURCE_EXTENSIONS.map((e) => base + e), ...SOURCE_EXTENSIONS.map((e) => path.join(base, `index${e}`))];
  for (const c of candidates) {
    try {
      if (statSync(c).isFile()) return path.relative(REPO, c);
    } catch {
      // not this one
    }
  }
  throw new Error(`${fromFile}: cannot resolve "${specifier}"`);
}

function isTypeOnly(node: ts.ImportDeclaration | ts.ExportDeclaration): boolean {
  if (ts.isExportDeclaration(node)) {
    if (node.isTypeOnly) return true;
    const clause = node.exportClause;
    return !!clause && ts.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly);
  }
  const clause = node.importClause;
  if (!clause) return false; // a side-effect import runs the module
  if (clause.isTypeOnly) return true;
  if (clause.name) return false;
  const bindings = clause.namedBindings;
  return !!bindings && ts.isNamedImports(bindings) && bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly);
}

/** Every import and re-export of one file, with dynamic `import("...")` calls counted as runtime imports. */
export function importsOf(file: string): Import[] {
  const text = readFileSync(path.join(REPO, file), "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, file.endsWith("x") ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const out: Import[] = [];
  const add = (specifier: string, typeOnly: boolean) => out.push({ from: file, specifier, to: resolveLocal(file, specifier), typeOnly });
  const visit = (node: ts.Node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, isTypeOnly(node));
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteral(arg)) add(arg.text, false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node.argument.literal.text, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** "use server" at the top: Next replaces the module with references when a client component imports it. */
export function isServerActionModule(file: string): boolean {
  const text = readFileSync(path.join(REPO, file), "utf8");
  return /^(?:\s|\/\/[^\n]*\n|\/\*[\s\S]*?\*\/)*["']use server["']/.test(text);
}

const BUILTINS = new Set(builtinModules);

/** The package an import names ("@prisma/client/x" is "@prisma/client"), or "node:" for a built-in. */
export function packageOf(specifier: string): string {
  if (specifier.startsWith("node:") || BUILTINS.has(specifier.split("/")[0]!)) return "node:";
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

/** Folder-level cycles (strongly connected components of more than one folder) among the given imports. */
export function folderCycles(imports: Import[], within: (folder: string) => boolean): string[][] {
  const edges = new Map<string, Set<string>>();
  for (const i of imports) {
    if (!i.to) continue;
    const a = path.dirname(i.from);
    const b = path.dirname(i.to);
    if (a === b || !within(a) || !within(b)) continue;
    if (!edges.has(a)) edges.set(a, new Set());
    edges.get(a)!.add(b);
  }
  // Tarjan's algorithm.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const connect = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) connect(v);
  return cycles;
}

/** The imports that make folder `a` depend on folder `b` (to name them when a cycle is found). */
export function importsBetween(imports: Import[], a: string, b: string): string[] {
  return imports.filter((i) => i.to && path.dirname(i.from) === a && path.dirname(i.to) === b).map((i) => `${i.from} -> ${i.to}`);
}
