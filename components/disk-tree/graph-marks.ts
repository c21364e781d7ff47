import type { DiskFlowNode, MergeEffect, RangeMark, TreeEdge } from "./tree-layout";
import { GRAPH_COLORS } from "./graph-style";
import { mergedLayers, mergeTarget, type MergeKind, type MergeRange } from "./merge-range";

/** What the admin has picked on the graph, drawn on top of the laid-out nodes. */
export interface GraphMarks {
  /** The layer whose panel is open. */
  selected: string | null;
  /** First end of a range being picked ("select range" mode), waiting for the second. */
  anchor: string | null;
  range: MergeRange | null;
  /** The merge whose effect is previewed (the admin hovers or focuses its button). */
  preview: MergeKind | null;
}

export const NO_MARKS: GraphMarks = { selected: null, anchor: null, range: null, preview: null };

/**
 * Applies the marks to the layout's nodes. Unmarked nodes are returned as the very same objects, so xyflow and
 * the memoised node component skip them: a click on a 500-layer tree re-renders the two or three nodes it
 * changed, not all of them.
 */
export function markNodes(nodes: DiskFlowNode[], marks: GraphMarks): DiskFlowNode[] {
  const range = rangeMarks(marks);
  const effects = effectMarks(marks);
  if (marks.selected === null && range.size === 0) return nodes;
  return nodes.map((n) => {
    if (n.type !== "layer") return n;
    const name = n.data.layer.name;
    const selected = name === marks.selected;
    const mark = range.get(name);
    if (!selected && !mark) return n;
    return { ...n, selected, data: { ...n.data, range: mark, effect: effects.get(name) } };
  });
}

function rangeMarks({ anchor, range }: GraphMarks): Map<string, RangeMark> {
  const marks = new Map<string, RangeMark>();
  if (range) {
    marks.set(range.top, "top");
    marks.set(range.base, "base");
    for (const name of range.between) marks.set(name, "between");
  } else if (anchor) {
    marks.set(anchor, "anchor");
  }
  return marks;
}

function effectMarks({ range, preview }: GraphMarks): Map<string, MergeEffect> {
  const effects = new Map<string, MergeEffect>();
  if (!range || !preview) return effects;
  for (const name of mergedLayers(range, preview)) effects.set(name, "merged");
  effects.set(mergeTarget(range, preview), "receives");
  return effects;
}

/** The links inside the merge range, drawn violet; every other edge is returned unchanged. */
export function markEdges(edges: TreeEdge[], range: MergeRange | null): TreeEdge[] {
  if (!range) return edges;
  const chain = [range.top, ...range.between, range.base];
  const ids = new Set(chain.slice(0, -1).map((child, i) => `edge:${chain[i + 1]}->${child}`));
  return edges.map((e) =>
    ids.has(e.id) ? { ...e, style: { ...e.style, stroke: GRAPH_COLORS.range, strokeWidth: 3 } } : e,
  );
}
