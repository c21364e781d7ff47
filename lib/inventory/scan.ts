import { lstatSync, readdirSync, readlinkSync, realpathSync, type Dirent } from "node:fs";
import { CanopyError } from "../errors";
import path from "node:path";
import { readQcow2FileSync, Qcow2FormatError, type Qcow2Header } from "../qcow2/header";
import { isInside, TEMPLATES_FOLDER } from "./names";
import type { DiskInventory, LayerInfo, Problem, ScanResult } from "./types";

/**
 * Reads the storage root and builds every disk's layer tree from qcow2 headers alone. It opens files for
 * reading only, starts no process, and walks backing chains itself so that a loop or a missing file is
 * reported instead of hanging a qemu tool.
 *
 * Layout: every folder directly under the root is a disk and its `*.qcow2` files are its layers. Files at
 * the root itself or under `templates/` are shared bases; a layer backed by a file outside its own folder
 * shows that file as the disk's read-only template.
 *
 * The file system is read synchronously: the files are small reads from the page cache, where a round trip
 * through libuv's thread pool per open, stat, read and close cost more than the reads (1,000 layers: 440-580 ms
 * asynchronously, most of it the pool and the promises around it). The scan runs in the worker and the CLI; a
 * single disk (`scanDisk`) is also read in a request, which then waits its microseconds per layer. A scan of the
 * whole root lets the event loop run between disks, so a large root does not hold up the worker's timers.
 *
 * Longer than 300 lines: the folder walk, the backing-chain resolution and the problem reports share one scan's
 * private caches (headers by real path, folders' real paths).
 */

export { isInside, TEMPLATES_FOLDER };
const LAYER_SUFFIX = ".qcow2";

type HeaderResult = { ok: true; header: Qcow2Header; size: number; mtimeMs: number } | { ok: false; problem: Problem };

/** Header reads are cached per scan by real path, so a template shared by many disks is read once. */
class HeaderCache {
  private readonly cache = new Map<string, HeaderResult>();

  get(file: string, layerName: string): HeaderResult {
    let hit = this.cache.get(file);
    if (!hit) {
      hit = readHeader(file, layerName);
      this.cache.set(file, hit);
    }
    return hit;
  }
}

function readHeader(file: string, layer: string): HeaderResult {
  try {
    const { header, stat: st } = readQcow2FileSync(file);
    return { ok: true, header, size: st.blocks * 512, mtimeMs: st.mtimeMs };
  } catch (err) {
    if (err instanceof Qcow2FormatError) {
      const code = err.kind === "truncated" ? "truncated" : "not-qcow2";
      return { ok: false, problem: { code, layer, message: `${layer}: ${err.message}` } };
    }
    const e = err as NodeJS.ErrnoException;
    if (e.code === "ENOENT") {
      return { ok: false, problem: { code: "backing-missing", layer, message: `${layer}: file not found` } };
    }
    return { ok: false, problem: { code: "unreadable", layer, message: `${layer}: ${e.code ?? e.message}` } };
  }
}

export function toRootRelative(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join("/");
}

/** How long a scan of the root reads before it lets the event loop run. */
const READ_SLICE_MS = 10;

export async function scanStorageRoot(rootDir: string): Promise<ScanResult> {
  const started = performance.now();
  const root = realpathSync(rootDir);
  const entries = readdirSync(root, { withFileTypes: true });
  const cache = new HeaderCache();
  const diskFolders = entries
    .filter((e) => e.isDirectory() && !e.name.startsWith(".") && e.name !== TEMPLATES_FOLDER)
    .map((e) => e.name)
    .sort();
  const disks: DiskInventory[] = [];
  let sliceStart = performance.now();
  for (const name of diskFolders) {
    disks.push(scanDiskFolder(root, name, cache));
    if (performance.now() - sliceStart >= READ_SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
  const sharedFiles = entries.filter((e) => e.isFile() && e.name.endsWith(LAYER_SUFFIX)).map((e) => e.name);
  const problems = symlinkProblems(root, entries, "");
  const templatesFolder = entries.find((e) => e.name === TEMPLATES_FOLDER && e.isDirectory());
  const templates = templatesFolder ? readdirSync(path.join(root, TEMPLATES_FOLDER), { withFileTypes: true }) : [];
  sharedFiles.push(...templates.filter((e) => e.isFile() && e.name.endsWith(LAYER_SUFFIX)).map((e) => `${TEMPLATES_FOLDER}/${e.name}`));
  problems.push(...symlinkProblems(root, templates, TEMPLATES_FOLDER));
  return { root, disks, sharedFiles: sharedFiles.sort(), problems, durationMs: Math.round(performance.now() - started) };
}

/**
 * Scans one disk. Only a real folder directly under the root is a disk: a symbolic link (to anywhere) and the
 * templates folder are refused, so no entry point can read or write through them.
 */
export async function scanDisk(rootDir: string, name: string): Promise<DiskInventory> {
  const root = realpathSync(rootDir);
  const folder = path.join(root, name);
  const st = lstatOrNull(folder);
  if (name === TEMPLATES_FOLDER || path.dirname(folder) !== root || !st?.isDirectory()) {
    const why = st?.isSymbolicLink() ? `is a symbolic link to "${readlinkSync(folder)}"` : "is not a disk folder";
    throw new CanopyError("not-found", `"${name}" under the storage root ${why}; Canopy does not follow links`);
  }
  return scanDiskFolder(root, name, new HeaderCache());
}

/**
 * Symbolic links are never followed: qemu-img would create or write through them, out of the root. Each is
 * reported, with where it points, so the admin sees why a name is taken.
 */
function symlinkProblems(root: string, entries: Dirent[], folder: string): Problem[] {
  const links = entries.filter((e) => e.isSymbolicLink()).sort((a, b) => a.name.localeCompare(b.name));
  return links.map((e): Problem => {
    const rel = folder ? `${folder}/${e.name}` : e.name;
    let target = "?";
    try {
      target = readlinkSync(path.join(root, rel));
    } catch {
      // Gone or unreadable since the folder was listed: still reported, with an unknown target.
    }
    return {
      code: "symlink",
      ...(e.name.endsWith(LAYER_SUFFIX) ? { layer: e.name.slice(0, -LAYER_SUFFIX.length) } : {}),
      message: `${rel} is a symbolic link to "${target}"; Canopy does not follow links, and its name stays taken`,
    };
  });
}

function lstatOrNull(file: string): ReturnType<typeof lstatSync> | null {
  try {
    return lstatSync(file);
  } catch {
    return null;
  }
}

function scanDiskFolder(root: string, name: string, cache: HeaderCache): DiskInventory {
  const folder = path.join(root, name);
  const entries = readdirSync(folder, { withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile() && e.name.endsWith(LAYER_SUFFIX))
    .map((e) => e.name)
    .sort();
  const problems: Problem[] = symlinkProblems(root, entries, name);
  /** Layers by absolute path; templates are added as the walk meets them. */
  const byPath = new Map<string, LayerInfo>();
  const usedNames = new Set(files.map((f) => f.slice(0, -LAYER_SUFFIX.length)));
  /** Absolute backing path of each layer, kept until parents are linked. */
  const backingOf = new Map<string, string | null>();

  /** `rel`: the file's path relative to the root, as the layer records it. */
  const addLayer = (file: string, rel: string, template: boolean): void => {
    const stem = path.basename(file, LAYER_SUFFIX);
    const name = template && usedNames.has(stem) ? rel.replace(/\.qcow2$/, "") : stem;
    usedNames.add(name);
    const res = cache.get(file, name);
    if (!res.ok) {
      problems.push(res.problem);
      return;
    }
    const h = res.header;
    const layer: LayerInfo = {
      name,
      file: rel,
      parent: null,
      backingFile: h.backingFile,
      backingFormat: h.backingFormat,
      template,
      version: h.version,
      virtualSize: h.virtualSize,
      clusterSize: h.clusterSize,
      fileSize: res.size,
      dirty: h.dirty,
      corrupt: h.corrupt,
      bitmaps: h.bitmaps.map((b) => ({ ...b })),
      modifiedAt: new Date(res.mtimeMs).toISOString(),
    };
    byPath.set(file, layer);
    if (h.corrupt) {
      problems.push({ code: "corrupt", layer: name, message: `${name}: the image is marked corrupt (QEMU opens it read-only)` });
    }
    if (h.dirty) {
      problems.push({ code: "dirty", layer: name, message: `${name}: the image was not closed cleanly (dirty flag set)` });
    }
    backingOf.set(file, resolveBacking(root, file, h, name, problems));
  };

  // A folder's own names need no path.join or path.relative: those took a tenth of a scan of 10,000 layers.
  for (const f of files) addLayer(`${folder}${path.sep}${f}`, `${name}/${f}`, false);

  // Follow backing files that leave the folder: each becomes a template layer, and its own backing is followed
  // in turn. A file is added once, so a loop through templates ends here too.
  const missing = new Set<string>();
  /** Backing files reached through a symbolic link: not read, and the layer on them reported. */
  const linked = new Set<string>();
  const pending = [...backingOf.values()].filter((b): b is string => b !== null);
  while (pending.length) {
    const target = pending.pop()!;
    if (byPath.has(target) || missing.has(target) || !isInside(root, target)) continue;
    if (!lstatOrNull(target)) {
      missing.add(target);
      continue;
    }
    if (!reachedWithoutLinks(root, target)) {
      linked.add(target);
      continue;
    }
    const ownFolder = path.dirname(target) === folder;
    // A file in the disk's own folder that is not a *.qcow2 file (those were all read above) is still a layer.
    if (ownFolder && files.includes(path.basename(target))) continue;
    addLayer(target, toRootRelative(root, target), !ownFolder);
    const next = backingOf.get(target);
    if (next) pending.push(next);
  }

  for (const [file, layer] of byPath) {
    const backing = backingOf.get(file) ?? null;
    if (!backing) continue;
    const parent = byPath.get(backing);
    if (parent) layer.parent = parent.name;
    else if (linked.has(backing)) {
      problems.push({
        code: "backing-symlink",
        layer: layer.name,
        message: `${layer.name}: backing file "${layer.backingFile}" is reached through a symbolic link; Canopy does not follow links`,
      });
    } else if (missing.has(backing)) {
      problems.push({
        code: "backing-missing",
        layer: layer.name,
        message: `${layer.name}: backing file "${layer.backingFile}" does not exist`,
      });
    }
  }
  breakLoops([...byPath.values()], problems);

  const layers = orderParentsFirst([...byPath.values()]);
  const parents = new Set(layers.map((l) => l.parent).filter((p): p is string => p !== null));
  const leaves = layers.filter((l) => !l.template && !parents.has(l.name)).map((l) => l.name);
  return { name, folder: name, layers, leaves, problems };
}

/** Resolves a header's backing string the way QEMU does (relative to the image's folder) and reports what it cannot follow. */
function resolveBacking(root: string, file: string, h: Qcow2Header, name: string, problems: Problem[]): string | null {
  if (!h.backingFile) return null;
  if (h.backingFile.startsWith("json:") || /^[a-z+]+:\/\//.test(h.backingFile)) {
    problems.push({
      code: "backing-outside-root",
      layer: name,
      message: `${name}: backing file "${h.backingFile}" is not a plain file under the storage root`,
    });
    return null;
  }
  if (!h.backingFormat) {
    // QEMU then guesses the backing file's format from its content, which is unsafe (a raw file whose guest
    // wrote a qcow2 header would be opened as qcow2). A warning only: the chain still opens as it is.
    problems.push({
      code: "backing-format-missing",
      layer: name,
      message: `${name}: no format recorded for backing file "${h.backingFile}", so QEMU will probe it (qemu-img rebase -u -F qcow2 -b "${h.backingFile}" records it)`,
    });
  } else if (h.backingFormat !== "qcow2") {
    problems.push({
      code: "not-qcow2",
      layer: name,
      message: `${name}: backing file "${h.backingFile}" has format ${h.backingFormat}; Canopy manages qcow2 chains only`,
    });
  }
  // A plain name is a file beside the layer, so inside the root like the layer; only a path needs resolving.
  const plainName = !h.backingFile.includes("/") && h.backingFile !== "." && h.backingFile !== "..";
  const resolved = plainName ? `${path.dirname(file)}${path.sep}${h.backingFile}` : path.resolve(path.dirname(file), h.backingFile);
  if (!plainName && !isInside(root, resolved)) {
    problems.push({
      code: "backing-outside-root",
      layer: name,
      message: `${name}: backing file "${h.backingFile}" is outside the storage root; Canopy does not follow it`,
    });
  }
  return resolved;
}

/** Whether `file`'s real path is its own name: no link on the way from the root, and not a link itself. */
function reachedWithoutLinks(root: string, file: string): boolean {
  let real: string | null = null;
  try {
    real = realpathSync.native(file);
  } catch {
    // Gone since the lstat, or a dangling link on the way: not reached.
  }
  return real === file && isInside(root, file);
}

/** Cuts every backing loop (so the tree stays a tree) and reports it once, naming its members in order. */
function breakLoops(layers: LayerInfo[], problems: Problem[]): void {
  const byName = new Map(layers.map((l) => [l.name, l]));
  const done = new Set<string>();
  for (const start of layers) {
    const seen: string[] = [];
    let cur: LayerInfo | undefined = start;
    while (cur && !done.has(cur.name)) {
      const at = seen.indexOf(cur.name);
      if (at >= 0) {
        const cycle = seen.slice(at);
        problems.push({
          code: "backing-loop",
          layer: cycle[0],
          message: `backing loop: ${[...cycle, cycle[0]].join(" -> ")} (each is backed by the next)`,
        });
        byName.get(cycle[cycle.length - 1]!)!.parent = null;
        break;
      }
      seen.push(cur.name);
      cur = cur.parent ? byName.get(cur.parent) : undefined;
    }
    for (const n of seen) done.add(n);
  }
}

/** Names as people sort them (L2 before L10); one collator, as `localeCompare` with options makes one per call. */
const BY_NAME = new Intl.Collator("en", { numeric: true });

/** Templates first, then every layer after its parent; siblings by name. */
function orderParentsFirst(layers: LayerInfo[]): LayerInfo[] {
  const children = new Map<string | null, LayerInfo[]>();
  for (const l of layers) {
    const list = children.get(l.parent) ?? [];
    list.push(l);
    children.set(l.parent, list);
  }
  const out: LayerInfo[] = [];
  const visit = (parent: string | null) => {
    const kids = (children.get(parent) ?? []).sort(
      (a, b) => Number(b.template) - Number(a.template) || BY_NAME.compare(a.name, b.name),
    );
    for (const k of kids) {
      out.push(k);
      visit(k.name);
    }
  };
  visit(null);
  return out;
}
