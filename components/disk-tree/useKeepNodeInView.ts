"use client";

import { useEffect } from "react";
import { useReactFlow, useStore } from "@xyflow/react";
import { MINIMAP_SIZE } from "./graph-style";
import { NODE_HEIGHT, NODE_WIDTH } from "./tree-layout";

const MARGIN = 24;

/**
 * Opening the details panel narrows the canvas, which can push the selected node out of sight or under the
 * minimap. Then pan, at the current zoom, by the smallest amount that brings it back; otherwise leave the
 * admin's viewport alone.
 */
export function useKeepNodeInView(position: { x: number; y: number } | undefined) {
  const { getViewport, setViewport } = useReactFlow();
  const width = useStore((s) => s.width);
  const height = useStore((s) => s.height);
  const x = position?.x;
  const y = position?.y;

  useEffect(() => {
    if (x === undefined || y === undefined || width === 0 || height === 0) return;
    const viewport = getViewport();
    const box = {
      left: x * viewport.zoom + viewport.x,
      top: y * viewport.zoom + viewport.y,
      right: (x + NODE_WIDTH) * viewport.zoom + viewport.x,
      bottom: (y + NODE_HEIGHT) * viewport.zoom + viewport.y,
    };
    let dx = shiftInto(box.left, box.right, MARGIN, width - MARGIN);
    let dy = shiftInto(box.top, box.bottom, MARGIN, height - MARGIN);
    // Still under the minimap (bottom-right)? Move left or up, whichever is the shorter way out.
    const minimapLeft = width - MINIMAP_SIZE.width - MINIMAP_SIZE.margin;
    const minimapTop = height - MINIMAP_SIZE.height - MINIMAP_SIZE.margin;
    if (box.right + dx > minimapLeft && box.bottom + dy > minimapTop) {
      const left = minimapLeft - MARGIN - (box.right + dx);
      const up = minimapTop - MARGIN - (box.bottom + dy);
      if (Math.abs(left) <= Math.abs(up) && box.left + dx + left >= MARGIN) dx += left;
      else dy += up;
    }
    if (dx === 0 && dy === 0) return;
    void setViewport({ ...viewport, x: viewport.x + dx, y: viewport.y + dy }, { duration: 250 });
  }, [x, y, width, height, getViewport, setViewport]);
}

/** How far to move [start, end] so it lies within [min, max]; the start wins when it cannot fit. */
function shiftInto(start: number, end: number, min: number, max: number): number {
  if (start < min) return min - start;
  if (end > max) return Math.max(max - end, min - start);
  return 0;
}
