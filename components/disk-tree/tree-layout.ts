import { hierarchy, tree as tidyTree } from "d3-hierarchy";
import { Position, type BuiltInEdge, type Node, type NodeHandle } from "@xyflow/react";
import type { Problem } from "@/lib/inventory/types";
import type { DiskTreeView, LayerView } from "@/lib/inventory/views";
import { GRAPH_COLORS } from "./graph-style";
import { unresolvedReason, type UnresolvedReason } from "./unresolved-backing";
import { activeChain, layerRole, problemsByLayer, type LayerRole } from "./layer-roles";

/** Fixed node box: the layout needs sizes before the browser measures anything, and fixed boxes line up. */
export const NODE_WIDTH = 216;
export const NODE_HEIGHT = 88;
export const UNRESOLVED_HEIGHT = 60;
const GAP_X = 36;
const GAP_Y = 36;
/** Right-angle edges with a short first leg: with xyflow's default 20px legs, a gap this small gets a jog. */
const EDGE_PATH = { borderRadius: 6, offset: 12 };

/** xyflow's default handle box (its stylesheet's 6 px square, centred on the node's edge). */
const HANDLE_SIZE = 6;

/**
 * Where the nodes' (invisible) handles are, given up front: xyflow otherwise mounts every node once, on or off
 * screen, to measure its handles, which for a chain 1,000 deep meant 18,000 DOM elements and a 1.6 s task
 * before the first view (bench/disk-page.ts). With them known, only the nodes on screen are ever mounted.
 */
function handlesOf(height: number, target: boolean): NodeHandle[] {
  const at = (type: "source" | "target", position: Position, y: number): NodeHandle => ({
    type,
    position,
    x: NODE_WIDTH / 2 - HANDLE_SIZE / 2,
    y,
    width: HANDLE_SIZE,
    height: HANDLE_SIZE,
  });
  const source = at("source", Position.Bottom, height - HANDLE_SIZE / 2);
  return target ? [at("target", Position.Top, -HANDLE_SIZE / 2), source] : [source];
}

/** Where a layer sits in the merge range being picked (see graph-marks.ts); absent outside any range. */
export type RangeMark = "anchor" | "top" | "base" | "between";
/** What the previewed merge would do to the layer: its data moves away, or it receives the data. */
export type MergeEffect = "merged" | "receives";

export type LayerNodeData = {
  layer: LayerView;
  role: LayerRole;
  problems: Problem[];
  range?: RangeMark;
  effect?: MergeEffect;
};

/** Stands in for a backing file the scan could not follow, so a broken chain shows where it breaks. */
export type UnresolvedNodeData = {
  backingFile: string;
  reason: UnresolvedReason;
  /** The layer whose backing file this is. */
  childName: string;
  problems: Problem[];
};

export type LayerFlowNode = Node<LayerNodeData, "layer">;
export type UnresolvedFlowNode = Node<UnresolvedNodeData, "unresolved">;
export type DiskFlowNode = LayerFlowNode | UnresolvedFlowNode;

/** Every edge is a built-in smoothstep edge (the type that carries `pathOptions`). */
export type TreeEdge = BuiltInEdge;

export const layerNodeId = (name: string) => `layer:${name}`;
const unresolvedNodeId = (name: string) => `unresolved:${name}`;

type Datum =
  | { kind: "forest"; children: Datum[] }
  | { kind: "layer"; layer: LayerView; children: Datum[] }
  | { kind: "unresolved"; child: LayerView; children: Datum[] };

/**
 * Lays a disk's layers out top-down with d3's tidy tree (Reingold–Tilford, linear time, so 500+ layers
 * are fine). Roots, and layers whose backing file could not be resolved, hang under an invisible forest
 * root so that broken or multi-root disks still lay out as one picture.
 */
export function layoutDiskTree(view: DiskTreeView): { nodes: DiskFlowNode[]; edges: TreeEdge[] } {
  const byName = new Map(view.layers.map((l) => [l.name, l]));
  const kids = new Map<string, LayerView[]>();
  const tops: LayerView[] = [];
  for (const l of view.layers) {
    const parent = l.parent !== null ? byName.get(l.parent) : undefined;
    if (!parent) {
      tops.push(l);
      continue;
    }
    const list = kids.get(parent.name) ?? [];
    list.push(l);
    kids.set(parent.name, list);
  }

  // Build the datum tree iteratively with a visited set: bad data (a loop the scan did not cut) must not hang
  // the page; any layer never reached becomes a top of its own.
  const visited = new Set<string>();
  const build = (top: LayerView): Datum => {
    const root: Datum = { kind: "layer", layer: top, children: [] };
    visited.add(top.name);
    const stack: Array<Extract<Datum, { kind: "layer" }>> = [root];
    while (stack.length) {
      const d = stack.pop()!;
      for (const c of kids.get(d.layer.name) ?? []) {
        if (visited.has(c.name)) continue;
        visited.add(c.name);
        const cd: Datum = { kind: "layer", layer: c, children: [] };
        d.children.push(cd);
        stack.push(cd);
      }
    }
    return top.backingFile !== null && top.parent === null
      ? { kind: "unresolved", child: top, children: [root] }
      : root;
  };
  const forest: Datum = { kind: "forest", children: [] };
  for (const t of tops) forest.children.push(build(t));
  for (const l of view.layers) if (!visited.has(l.name)) forest.children.push(build(l));

  const laidOut = tidyTree<Datum>()
    .nodeSize([NODE_WIDTH + GAP_X, NODE_HEIGHT + GAP_Y])
    .separation((a, b) => (a.parent === b.parent ? 1 : 1.2))(hierarchy<Datum>(forest, (d) => d.children));

  const chain = activeChain(view);
  const problems = problemsByLayer(view.problems);
  const nodes: DiskFlowNode[] = [];
  const edges: TreeEdge[] = [];

  for (const n of laidOut.descendants()) {
    const d = n.data;
    if (d.kind === "forest") continue;
    // The forest root sits at depth 0 and is not drawn: real tops start at y = 0.
    const position = { x: n.x - NODE_WIDTH / 2, y: (n.depth - 1) * (NODE_HEIGHT + GAP_Y) };
    if (d.kind === "unresolved") {
      const childProblems = problems.get(d.child.name) ?? [];
      const reason = unresolvedReason(d.child, view, childProblems);
      // A loop's problem names the loop's first member, not the layer where the scan cut it: show it here too.
      const shown = reason === "loop" ? view.problems.filter((p) => p.code === "backing-loop") : childProblems;
      nodes.push(unresolvedNode(d.child, reason, position, shown));
      continue;
    }
    const role = layerRole(d.layer, view.activeLayer);
    nodes.push(layerNode(d.layer, role, position, problems.get(d.layer.name) ?? []));
    const parent = n.parent?.data;
    if (parent?.kind === "layer") edges.push(layerEdge(parent.layer, d.layer, chain));
    if (parent?.kind === "unresolved") {
      edges.push({
        id: `edge:${unresolvedNodeId(d.layer.name)}`,
        source: unresolvedNodeId(d.layer.name),
        target: layerNodeId(d.layer.name),
        type: "smoothstep",
        pathOptions: EDGE_PATH,
        focusable: false,
        selectable: false,
        style: { stroke: GRAPH_COLORS.broken, strokeWidth: 1.5, strokeDasharray: "5 4" },
      });
    }
  }
  return { nodes, edges };
}

function layerNode(layer: LayerView, role: LayerRole, position: { x: number; y: number }, problems: Problem[]) {
  const attrs: Record<string, string> = { "data-testid": `layer-node-${layer.name}`, "data-role": role };
  if (role === "active") attrs["data-active"] = "true";
  if (layer.template) attrs["data-template"] = "true";
  if (layer.protected) attrs["data-protected"] = "true";
  const node: LayerFlowNode = {
    id: layerNodeId(layer.name),
    type: "layer",
    position,
    width: NODE_WIDTH,
    height: NODE_HEIGHT,
    handles: handlesOf(NODE_HEIGHT, true),
    data: { layer, role, problems },
    ariaLabel: `Layer ${layer.name}${role === "inner" ? "" : `, ${role === "tip" ? "branch tip" : role}`}${
      layer.protected ? ", protected" : ""
    }${problems.length ? `, ${problems.length} problem${problems.length === 1 ? "" : "s"}` : ""}`,
    domAttributes: attrs,
  };
  return node;
}

function unresolvedNode(
  child: LayerView,
  reason: UnresolvedReason,
  position: { x: number; y: number },
  problems: Problem[],
) {
  const node: UnresolvedFlowNode = {
    id: unresolvedNodeId(child.name),
    type: "unresolved",
    position: { x: position.x, y: position.y + (NODE_HEIGHT - UNRESOLVED_HEIGHT) },
    width: NODE_WIDTH,
    height: UNRESOLVED_HEIGHT,
    handles: handlesOf(UNRESOLVED_HEIGHT, false),
    selectable: false,
    focusable: false,
    data: { backingFile: child.backingFile ?? "", reason, childName: child.name, problems },
    ariaLabel: `Unresolved backing file of ${child.name}`,
  };
  return node;
}

function layerEdge(parent: LayerView, child: LayerView, chain: Set<string>): TreeEdge {
  const onChain = chain.has(child.name);
  return {
    id: `edge:${parent.name}->${child.name}`,
    source: layerNodeId(parent.name),
    target: layerNodeId(child.name),
    type: "smoothstep",
    pathOptions: EDGE_PATH,
    focusable: false,
    selectable: false,
    style: {
      stroke: onChain ? GRAPH_COLORS.activeChain : GRAPH_COLORS.edge,
      strokeWidth: onChain ? 2.5 : 1.5,
      // A template is shared by other disks: its link is dashed like its border.
      strokeDasharray: parent.template ? "6 4" : undefined,
    },
  };
}
