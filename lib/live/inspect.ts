import path from "node:path";
import { QmpError } from "../qmp/errors";
import type { QmpClient } from "../qmp/client";
import type { BlockDeviceInfo, JobInfo, JobStatus, JobType } from "../qmp/types";

/**
 * The live view of a running disk, read from QMP: every image node (node name -> file, backing node,
 * read-only), which node is at the root of the disk's export or device (the active layer), and the block
 * jobs. It is what routing, the sibling rule online and recovery decide on.
 *
 * Sources: query-named-block-nodes (flat) for each node's facts, x-debug-query-block-graph for the edges
 * (who backs whom; query-named-block-nodes names no backing node), query-block-exports and query-block for the
 * roots, query-jobs for the jobs. Two things QEMU does that this hides:
 * - A qcow2 node opened with an explicit backing reference reports a `json:{...}` pseudo-filename; its real
 *   path is on its protocol ("file") child.
 * - While a commit or mirror runs, QEMU inserts filter nodes (commit_top, mirror_top) into the chain, and an
 *   export's node-name then names the filter ("#block697"). Edges and roots are followed through filters.
 */

export interface LiveBitmap {
  name: string;
  recording: boolean;
  persistent: boolean;
  busy: boolean;
  granularity: number;
  count: number;
}

export interface LiveNode {
  /** QEMU's node name. */
  name: string;
  /** Absolute path of the image file (from the protocol child). */
  file: string;
  /** qcow2 (or raw). */
  format: string;
  /** Node name of the backing image node, filters skipped; null when the node has none. */
  backing: string | null;
  readOnly: boolean;
  virtualSize: number;
  /** The backing string in the image header, as stored (relative). */
  backingString: string | null;
  /** Named dirty bitmaps (QEMU's anonymous internal ones are left out). */
  bitmaps: LiveBitmap[];
}

export interface LiveRoot {
  kind: "export" | "device";
  /** Export id, or device (drive) name. */
  id: string;
  /** The image node at the root, filters skipped. */
  node: string;
}

export interface LiveJob {
  id: string;
  type: JobType;
  status: JobStatus;
  current: number;
  total: number;
  error?: string;
}

export interface LiveView {
  nodes: LiveNode[];
  /** Every node name in use, protocol and filter nodes included: a new node must not take one. */
  nodeNames: string[];
  roots: LiveRoot[];
  /** Node name of the disk's active layer (the root of the chosen export/device), or null if there is none. */
  active: string | null;
  jobs: LiveJob[];
}

/** Which export or device is the disk, when the QEMU process serves more than one. */
export interface LiveTarget {
  exportId?: string;
  device?: string;
}

/** Drivers that hold image data; everything else with one child is a filter to look through. */
const IMAGE_DRIVERS = new Set(["qcow2", "raw"]);
/** Protocol drivers: the "file" child of an image node. */
const PROTOCOL_DRIVERS = new Set(["file", "host_device", "nbd", "null-co"]);

interface GraphEdge {
  parent: number;
  child: number;
  name: string;
}
interface Graph {
  nodes: Array<{ id: number; name: string; type: string }>;
  edges: GraphEdge[];
}

export async function inspectLive(
  client: QmpClient,
  target: LiveTarget = {},
  call: { timeoutMs?: number } = {},
): Promise<LiveView> {
  const [infos, graph, exports, devices, jobs] = await Promise.all([
    client.execute("query-named-block-nodes", { flat: true }, call),
    client.executeRaw("x-debug-query-block-graph", undefined, call).then(
      (g) => g as Graph,
      (err: unknown) => {
        // An x- command may be gone in a later QEMU: fall back to matching backing files by path.
        if (err instanceof QmpError && err.class === "CommandNotFound") return undefined;
        throw err;
      },
    ),
    client.execute("query-block-exports", {}, call),
    client.execute("query-block", {}, call),
    client.execute("query-jobs", {}, call),
  ]);
  const byName = new Map(infos.flatMap((i) => (i["node-name"] ? [[i["node-name"], i] as const] : [])));
  const edges = graph ? graphEdges(graph) : undefined;
  const skipFilters = (name: string | undefined): string | null => {
    for (let cur = name, hops = 0; cur && hops < 16; hops++) {
      const info = byName.get(cur);
      if (!info) return null;
      if (IMAGE_DRIVERS.has(info.drv)) return cur;
      const next = edges?.get(cur)?.find((e) => e.edge === "backing" || e.edge === "file");
      cur = next?.child;
    }
    return null;
  };

  const nodes: LiveNode[] = [];
  for (const info of infos) {
    const name = info["node-name"];
    if (!name || !IMAGE_DRIVERS.has(info.drv)) continue;
    const children = edges?.get(name) ?? [];
    const fileChild = children.find((e) => e.edge === "file")?.child;
    const backingChild = children.find((e) => e.edge === "backing")?.child;
    nodes.push({
      name,
      file: plainFile(info, fileChild ? byName.get(fileChild) : undefined),
      format: info.drv,
      backing: edges ? skipFilters(backingChild) : null,
      readOnly: info.ro,
      virtualSize: info.image["virtual-size"],
      backingString: info.image["backing-filename"] ?? null,
      bitmaps: (info["dirty-bitmaps"] ?? []).flatMap((b) =>
        b.name === undefined
          ? []
          : [{ name: b.name, recording: b.recording, persistent: b.persistent, busy: b.busy, granularity: b.granularity, count: b.count }],
      ),
    });
  }
  if (!edges) linkBackingByFile(nodes, byName);

  const roots: LiveRoot[] = [];
  for (const e of exports) {
    const node = skipFilters(e["node-name"]);
    if (node) roots.push({ kind: "export", id: e.id, node });
  }
  for (const d of devices) {
    const node = skipFilters(d.inserted?.["node-name"]);
    if (node) roots.push({ kind: "device", id: d.device || d.qdev || "", node });
  }
  return {
    nodes,
    nodeNames: [...byName.keys()],
    roots,
    active: pickActive(roots, target),
    jobs: jobs.map((j: JobInfo) => ({
      id: j.id,
      type: j.type,
      status: j.status,
      current: j["current-progress"],
      total: j["total-progress"],
      ...(j.error !== undefined ? { error: j.error } : {}),
    })),
  };
}

function graphEdges(graph: Graph): Map<string, Array<{ edge: string; child: string }>> {
  const nameOf = new Map(graph.nodes.map((n) => [n.id, n.type === "block-driver" ? n.name : ""]));
  const out = new Map<string, Array<{ edge: string; child: string }>>();
  for (const e of graph.edges) {
    const parent = nameOf.get(e.parent);
    const child = nameOf.get(e.child);
    if (!parent || !child) continue; // block backends and jobs are parents we do not follow
    const list = out.get(parent) ?? [];
    list.push({ edge: e.name, child });
    out.set(parent, list);
  }
  return out;
}

/** The image's real path: the protocol child's filename, else the node's own if it is not a json: pseudo-name. */
function plainFile(info: BlockDeviceInfo, fileChild: BlockDeviceInfo | undefined): string {
  if (fileChild && PROTOCOL_DRIVERS.has(fileChild.drv) && !fileChild.file.startsWith("json:")) return fileChild.file;
  if (!info.file.startsWith("json:")) return info.file;
  try {
    const parsed = JSON.parse(info.file.slice(5)) as { file?: { filename?: string } };
    return parsed.file?.filename ?? info.file;
  } catch {
    return info.file;
  }
}

/** Without the graph: a node's backing is the node whose file its header's backing resolves to. */
function linkBackingByFile(nodes: LiveNode[], infos: Map<string, BlockDeviceInfo>): void {
  for (const node of nodes) {
    const full = infos.get(node.name)?.image["full-backing-filename"];
    if (!full) continue;
    node.backing = nodes.find((n) => n.file === path.resolve(full))?.name ?? null;
  }
}

function pickActive(roots: LiveRoot[], target: LiveTarget): string | null {
  if (target.exportId) return roots.find((r) => r.kind === "export" && r.id === target.exportId)?.node ?? null;
  if (target.device) return roots.find((r) => r.kind === "device" && r.id === target.device)?.node ?? null;
  const distinct = [...new Set(roots.map((r) => r.node))];
  return distinct.length === 1 ? distinct[0]! : null;
}

// ---------------------------------------------------------------- questions asked of a view

export function nodeNamed(view: LiveView, name: string): LiveNode | undefined {
  return view.nodes.find((n) => n.name === name);
}

/** The open node of a file (paths compared resolved; pass realpaths when symlinks are involved). */
export function nodeOfFile(view: LiveView, file: string): LiveNode | undefined {
  const wanted = path.resolve(file);
  return view.nodes.find((n) => path.resolve(n.file) === wanted);
}

/** A node and its backing nodes, top first. */
export function chainOf(view: LiveView, name: string): LiveNode[] {
  const out: LiveNode[] = [];
  const seen = new Set<string>();
  for (let cur = nodeNamed(view, name); cur && !seen.has(cur.name); cur = cur.backing ? nodeNamed(view, cur.backing) : undefined) {
    seen.add(cur.name);
    out.push(cur);
  }
  return out;
}

/** The active node's chain, top first (empty when nothing is at the root). */
export function activeChain(view: LiveView): LiveNode[] {
  return view.active ? chainOf(view, view.active) : [];
}

/** Image nodes that have `name` as their backing node. */
export function childrenOf(view: LiveView, name: string): LiveNode[] {
  return view.nodes.filter((n) => n.backing === name);
}

/** Everything that keeps a node open: child nodes, and exports/devices rooted at it. */
export function usersOf(view: LiveView, name: string): string[] {
  return [
    ...childrenOf(view, name).map((n) => n.name),
    ...view.roots.filter((r) => r.node === name).map((r) => `${r.kind} ${r.id}`),
  ];
}

export function jobNamed(view: LiveView, id: string): LiveJob | undefined {
  return view.jobs.find((j) => j.id === id);
}
