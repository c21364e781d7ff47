"use client";

import "@xyflow/react/dist/style.css";
import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent } from "react";
import {
  Background,
  BackgroundVariant,
  ControlButton,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
  useStoreApi,
  type NodeTypes,
  type ReactFlowInstance,
} from "@xyflow/react";
import type { DiskTreeView } from "@/lib/inventory/views";
import type { OperationIntent } from "@/components/actions/OperationDialog";
import { GRAPH_COLORS, MINIMAP_SIZE } from "./graph-style";
import { markEdges, markNodes } from "./graph-marks";
import { LayerDetailsPanel } from "./LayerDetailsPanel";
import { LayerNode } from "./LayerNode";
import { RangePanel } from "./RangePanel";
import { RangePickingBar } from "./RangePickingBar";
import { UnresolvedNode } from "./UnresolvedNode";
import { useGraphPicks } from "./useGraphPicks";
import { useKeepNodeInView } from "./useKeepNodeInView";
import { layerNodeId, layoutDiskTree, NODE_HEIGHT, NODE_WIDTH, type DiskFlowNode } from "./tree-layout";
import { fitToClear, READABLE_ZOOM, type Rect } from "./view-clearance";

// Module-level so xyflow sees the same object on every render (a new one remounts every node).
const nodeTypes: NodeTypes = { layer: LayerNode, unresolved: UnresolvedNode };

const FIT_VIEW = { padding: 0.1, maxZoom: 1 } as const;
const MIN_ZOOM = 0.05;
/** Fitting the tree ("fit view", the first view) keeps it clear of the minimap and the controls: view-clearance.ts. */
const FIT_LIMITS = { minZoom: MIN_ZOOM, maxZoom: FIT_VIEW.maxZoom };

/**
 * Large trees (hundreds of layers) fit only below READABLE_ZOOM, so after fitting the whole tree the view moves
 * to the active leaf at a readable zoom instead; the minimap and "fit view" still show it all.
 */
const FOCUS_ZOOM = 0.85;

// xyflow's screen-reader hint for focused nodes, in this page's terms (its default talks about deleting).
const ARIA_LABELS = {
  "node.a11yDescription.default":
    "Press Enter to open the layer's details and actions. Shift+Enter picks a merge range from the open layer to this one. Escape closes.",
};

export interface DiskTreeGraphProps {
  tree: DiskTreeView;
  /** Why actions are unavailable right now (a job runs on this disk), or null. */
  busy: string | null;
  onAction: (intent: OperationIntent) => void;
}

/**
 * A disk's layer tree: pan, zoom, click a layer (or Tab to it and press Enter) for its details and actions;
 * Shift+click a second layer on the same chain to pick a merge range.
 */
export function DiskTreeGraph(props: DiskTreeGraphProps) {
  return (
    <ReactFlowProvider>
      <DiskTreeCanvas {...props} />
    </ReactFlowProvider>
  );
}

function DiskTreeCanvas({ tree, busy, onAction }: DiskTreeGraphProps) {
  // Laid out once per tree (d3's tidy tree); picks only restyle the few nodes they touch (graph-marks.ts).
  const layout = useMemo(() => layoutDiskTree(tree), [tree]);
  const picks = useGraphPicks(tree);
  // A job started: the range it was picked for is being merged, so let it go (the selection stays).
  const { clearRange } = picks;
  useEffect(() => {
    if (busy) clearRange();
  }, [busy, clearRange]);
  const nodes = useMemo(() => markNodes(layout.nodes, picks.marks), [layout, picks.marks]);
  const edges = useMemo(() => markEdges(layout.edges, picks.range), [layout, picks.range]);
  // The layer whose panel was just opened from the keyboard: that panel takes focus (a click leaves it alone).
  const keyboardOpened = useRef<string | null>(null);
  const takePanelFocus = useCallback((name: string) => {
    const yes = keyboardOpened.current === name;
    keyboardOpened.current = null;
    return yes;
  }, []);

  const selectedNode = picks.selected === null ? undefined : nodes.find((n) => n.id === layerNodeId(picks.selected!));
  const selectedData = selectedNode?.type === "layer" ? selectedNode.data : undefined;
  const boxes = useMemo(() => layout.nodes.map(boxOf), [layout]);
  useKeepNodeInView(boxes, picks.range || !selectedNode ? undefined : boxOf(selectedNode));

  const store = useStoreApi<DiskFlowNode>();
  const { fitView, setViewport } = useReactFlow<DiskFlowNode>();
  const fitWholeTree = useCallback(() => {
    const { width, height } = store.getState();
    // Not measured yet (a canvas still hidden): xyflow's own fit waits for the size.
    if (!width || !height) return fitView(FIT_VIEW);
    return setViewport(fitToClear(boxes, { width, height }, FIT_LIMITS));
  }, [boxes, store, fitView, setViewport]);

  const activeId = tree.activeLayer === null ? null : layerNodeId(tree.activeLayer);
  const activeNode = layout.nodes.find((n) => n.id === activeId);
  // When the first view was painted (ms since navigation): a marker for tests and bench/tree-render.ts.
  const [drawnAt, setDrawnAt] = useState<number | null>(null);
  const onInit = useCallback(
    async (flow: ReactFlowInstance<DiskFlowNode>) => {
      await fitWholeTree();
      if (flow.getZoom() < READABLE_ZOOM && activeNode) {
        const { x, y } = activeNode.position;
        await flow.setCenter(x + NODE_WIDTH / 2, y + NODE_HEIGHT / 2, { zoom: FOCUS_ZOOM });
      }
      requestAnimationFrame(() => setDrawnAt(Math.round(performance.now())));
    },
    // Only the first layout counts: later data must not yank the viewport away from where the admin is.
    [],
  );

  const onNodeClick = useCallback(
    (event: MouseEvent, node: DiskFlowNode) => {
      if (node.type === "layer") picks.pickLayer(node.data.layer.name, event.shiftKey);
    },
    [picks.pickLayer],
  );

  // Selection is this page's own state (xyflow's is off), so Enter and Escape on a focused node are handled here.
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const target = event.target as HTMLElement;
    const nodeEl = target.closest<HTMLElement>(".react-flow__node");
    const id = nodeEl?.dataset.id;
    if ((event.key === "Enter" || event.key === " ") && id?.startsWith("layer:") && nodeEl === target) {
      event.preventDefault();
      const name = id.slice("layer:".length);
      const opens = picks.anchor === null && !event.shiftKey;
      // Its panel is already open: go there now (no remount will take the focus).
      if (opens && name === picks.selected && !picks.range) return focusPanel();
      if (opens) keyboardOpened.current = name;
      picks.pickLayer(name, event.shiftKey);
    } else if (event.key === "Escape") {
      picks.back();
    }
  };

  const closePanel = useCallback(
    (returnFocusTo: string | null) => {
      picks.select(null);
      if (returnFocusTo) focusNode(returnFocusTo);
    },
    [picks.select],
  );

  return (
    <div className="flex h-full min-h-0">
      <div
        className="relative min-w-0 flex-1"
        data-testid="disk-graph"
        data-drawn-at={drawnAt ?? undefined}
        onKeyDown={onKeyDown}
      >
        {picks.anchor || picks.notice ? (
          <RangePickingBar anchor={picks.anchor} notice={picks.notice} onCancel={picks.clearRange} />
        ) : null}
        <ReactFlow<DiskFlowNode>
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          onNodeClick={onNodeClick}
          onPaneClick={picks.anchor ? undefined : () => picks.select(null)}
          // No fitView here: onInit fits the first view (and moves to the active leaf). xyflow's own would run when
          // the first node on screen is measured, which may come after onInit's view and undo it.
          onInit={onInit}
          minZoom={MIN_ZOOM}
          maxZoom={2}
          nodesDraggable={false}
          nodesConnectable={false}
          nodesFocusable
          // Only what is on screen is in the DOM: a 500-layer tree opens with ~10 nodes mounted instead of all
          // of them (bench/tree-render.ts: drawn in about half the time), and pans at 60 fps even zoomed out.
          // Off-screen layers are reached by panning or by the panel's parent/child links.
          onlyRenderVisibleElements
          edgesFocusable={false}
          elementsSelectable={false}
          deleteKeyCode={null}
          multiSelectionKeyCode={null}
          selectionKeyCode={null}
          ariaLabelConfig={ARIA_LABELS}
        >
          <Background variant={BackgroundVariant.Dots} gap={20} size={1.2} color="#cbd5e1" />
          <Controls showInteractive={false} showFitView={false}>
            {/* xyflow's own "fit view" would put layers under the minimap or these controls: this one fits around them. */}
            <ControlButton onClick={() => void fitWholeTree()} title="Fit view" aria-label="Fit view" className="react-flow__controls-fitview">
              <FitViewIcon />
            </ControlButton>
          </Controls>
          <MiniMap<DiskFlowNode>
            pannable
            zoomable
            ariaLabel="Overview of the layer tree"
            nodeColor={minimapColor}
            nodeStrokeWidth={0}
            nodeBorderRadius={6}
            style={{ width: MINIMAP_SIZE.width, height: MINIMAP_SIZE.height }}
            maskColor="rgba(241, 245, 249, 0.7)"
          />
        </ReactFlow>
      </div>
      {picks.range ? (
        <RangePanel
          tree={tree}
          range={picks.range}
          busy={busy}
          onPreview={picks.setPreview}
          onAction={onAction}
          onClose={() => {
            const top = picks.range?.top ?? null;
            picks.clearRange();
            if (top) focusNode(top);
          }}
        />
      ) : selectedData ? (
        <LayerDetailsPanel
          key={selectedData.layer.name}
          tree={tree}
          layer={selectedData.layer}
          role={selectedData.role}
          problems={selectedData.problems}
          busy={busy}
          takeFocus={takePanelFocus}
          onSelectLayer={picks.select}
          onStartRange={picks.startRange}
          onAction={onAction}
          onClose={closePanel}
        />
      ) : null}
    </div>
  );
}

function focusPanel() {
  document.querySelector<HTMLElement>('[data-testid="layer-details"]')?.focus();
}

/** Puts keyboard focus back on a layer's node, e.g. after its panel closes. */
function focusNode(name: string) {
  const el = document.querySelector<HTMLElement>(`.react-flow__node[data-id="${CSS.escape(layerNodeId(name))}"]`);
  el?.focus({ preventScroll: true });
}

function boxOf(node: DiskFlowNode): Rect {
  return { x: node.position.x, y: node.position.y, width: node.width ?? NODE_WIDTH, height: node.height ?? NODE_HEIGHT };
}

/** Four corners, filled: xyflow's control buttons fill their icons. */
function FitViewIcon() {
  return (
    <svg viewBox="0 0 24 24" aria-hidden="true">
      <path d="M2 2h7v3H5v4H2zM15 2h7v7h-3V5h-4zM2 15h3v4h4v3H2zM19 15h3v7h-7v-3h4z" />
    </svg>
  );
}

function minimapColor(node: DiskFlowNode): string {
  if (node.type === "unresolved") return GRAPH_COLORS.problemFill;
  const { role, problems } = node.data;
  if (problems.length > 0) return GRAPH_COLORS.problemFill;
  if (role === "active") return GRAPH_COLORS.activeFill;
  if (role === "template") return GRAPH_COLORS.templateFill;
  if (role === "tip") return GRAPH_COLORS.tipFill;
  return GRAPH_COLORS.innerFill;
}
