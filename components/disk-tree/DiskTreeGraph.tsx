"use client";

import "@xyflow/react/dist/style.css";
import { useCallback, useMemo, useState } from "react";
import {
  Background,
  BackgroundVariant,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useNodesState,
  type NodeTypes,
  type ReactFlowInstance,
} from "@xyflow/react";
import type { DiskTreeView } from "@/lib/inventory/views";
import { GRAPH_COLORS, MINIMAP_SIZE } from "./graph-style";
import { LayerDetailsPanel } from "./LayerDetailsPanel";
import { LayerNode } from "./LayerNode";
import { UnresolvedNode } from "./UnresolvedNode";
import { useKeepNodeInView } from "./useKeepNodeInView";
import { layerNodeId, layoutDiskTree, NODE_HEIGHT, NODE_WIDTH, type DiskFlowNode } from "./tree-layout";

// Module-level so xyflow sees the same object on every render (a new one remounts every node).
const nodeTypes: NodeTypes = { layer: LayerNode, unresolved: UnresolvedNode };

const FIT_VIEW = { padding: 0.1, maxZoom: 1 } as const;

/**
 * Below this zoom (large trees: hundreds of layers) node text is unreadable, so after fitting the whole tree
 * the view moves to the active leaf at a readable zoom instead; the minimap and "fit view" still show it all.
 */
const READABLE_ZOOM = 0.45;
const FOCUS_ZOOM = 0.85;

/** A disk's layer tree: pan, zoom, select a layer (click, or Tab to it and press Enter) to see its details. */
export function DiskTreeGraph({ tree }: { tree: DiskTreeView }) {
  return (
    <ReactFlowProvider>
      <DiskTreeCanvas tree={tree} />
    </ReactFlowProvider>
  );
}

function DiskTreeCanvas({ tree }: { tree: DiskTreeView }) {
  const layout = useMemo(() => layoutDiskTree(tree), [tree]);
  const [nodes, setNodes, onNodesChange] = useNodesState<DiskFlowNode>(layout.nodes);

  // A new tree (later: after polling) replaces the nodes but keeps what the admin had selected.
  const [shownLayout, setShownLayout] = useState(layout);
  if (shownLayout !== layout) {
    setShownLayout(layout);
    const selectedIds = new Set(nodes.filter((n) => n.selected).map((n) => n.id));
    setNodes(layout.nodes.map((n) => (selectedIds.has(n.id) ? { ...n, selected: true } : n)));
  }

  const selected = nodes.find((n) => n.selected && n.type === "layer");
  const selectedData = selected?.type === "layer" ? selected.data : undefined;
  useKeepNodeInView(selected?.position);

  const activeId = tree.activeLayer === null ? null : layerNodeId(tree.activeLayer);
  const activeNode = layout.nodes.find((n) => n.id === activeId);
  const onInit = useCallback(
    async (flow: ReactFlowInstance<DiskFlowNode>) => {
      await flow.fitView(FIT_VIEW);
      if (flow.getZoom() >= READABLE_ZOOM || !activeNode) return;
      const { x, y } = activeNode.position;
      await flow.setCenter(x + NODE_WIDTH / 2, y + NODE_HEIGHT / 2, { zoom: FOCUS_ZOOM });
    },
    // Only the first layout counts: later data must not yank the viewport away from where the admin is.
    [],
  );

  const selectLayer = useCallback(
    (name: string | null) => {
      const id = name === null ? null : layerNodeId(name);
      setNodes((nds) => nds.map((n) => (n.selected === (n.id === id) ? n : { ...n, selected: n.id === id })));
    },
    [setNodes],
  );

  return (
    <div className="flex h-full min-h-0">
      <div className="relative min-w-0 flex-1" data-testid="disk-graph">
        <ReactFlow<DiskFlowNode>
          nodes={nodes}
          edges={layout.edges}
          nodeTypes={nodeTypes}
          onNodesChange={onNodesChange}
          fitView
          fitViewOptions={FIT_VIEW}
          onInit={onInit}
          minZoom={0.05}
          maxZoom={2}
          nodesDraggable={false}
          nodesConnectable={false}
          nodesFocusable
          edgesFocusable={false}
          elementsSelectable
          deleteKeyCode={null}
          multiSelectionKeyCode={null}
          selectionKeyCode={null}
        >
          <Background variant={BackgroundVariant.Dots} gap={20} size={1.2} color="#cbd5e1" />
          <Controls showInteractive={false} fitViewOptions={FIT_VIEW} />
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
      {selectedData ? (
        <LayerDetailsPanel
          layer={selectedData.layer}
          role={selectedData.role}
          problems={selectedData.problems}
          onSelectLayer={selectLayer}
          onClose={() => selectLayer(null)}
        />
      ) : null}
    </div>
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
