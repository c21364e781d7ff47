"use client";

import { useEffect, useRef } from "react";
import { useReactFlow, useStore } from "@xyflow/react";
import { allInView, fitToClear, panIntoView, panToClear, READABLE_ZOOM, type Rect, type Size, type Viewport } from "./view-clearance";

const PAN_MS = 250;

/**
 * Opening a side panel narrows the canvas (closing it widens it again). When the admin was looking at the whole
 * tree, all of it stays in view and clear of the minimap and the zoom controls: a pan when that is enough, else
 * the smallest zoom out that does it (never below a readable zoom). Otherwise, and when another layer is picked,
 * only the selected layer is brought clear of the edges and those panels, by the smallest pan. The admin's own
 * pans and zooms stay as they are until the canvas or the selection changes.
 */
export function useKeepNodeInView(all: readonly Rect[], selected: Rect | undefined) {
  const { getViewport, setViewport } = useReactFlow();
  const width = useStore((s) => s.width);
  const height = useStore((s) => s.height);
  const lastSize = useRef<Size | null>(null);
  // Its parts, not the object: a new object for the same layer must not move the view.
  const { x, y, width: w, height: h } = selected ?? {};

  useEffect(() => {
    if (width === 0 || height === 0) return;
    const before = lastSize.current;
    lastSize.current = { width, height };
    const canvas = { width, height };
    const viewport = getViewport();
    // The first size is the initial fit's business (DiskTreeGraph), not a change to follow.
    const resized = before !== null && (before.width !== width || before.height !== height);
    const wholeTree = resized && allInView(all, viewport, before) ? keepWholeTree(all, viewport, canvas) : null;
    const box = x === undefined || y === undefined || w === undefined || h === undefined ? null : { x, y, width: w, height: h };
    const target = wholeTree ?? (box ? keepSelected(box, viewport, canvas) : null);
    if (target && (target.x !== viewport.x || target.y !== viewport.y || target.zoom !== viewport.zoom)) {
      void setViewport(target, { duration: PAN_MS });
    }
  }, [width, height, x, y, w, h, all, getViewport, setViewport]);
}

/** The whole tree clear of the edges and the corner panels, zoomed out only as far as that needs; null below readable. */
function keepWholeTree(all: readonly Rect[], viewport: Viewport, canvas: Size): Viewport | null {
  const pan = panToClear(all, viewport, canvas);
  if (pan) return { ...viewport, x: viewport.x + pan.dx, y: viewport.y + pan.dy };
  const fit = fitToClear(all, canvas, { minZoom: 0, maxZoom: viewport.zoom });
  return fit.zoom >= READABLE_ZOOM ? fit : null;
}

/** The selected layer clear of the edges and, where the canvas leaves room, of the corner panels. */
function keepSelected(box: Rect, viewport: Viewport, canvas: Size): Viewport {
  const pan = panToClear([box], viewport, canvas) ?? panIntoView([box], viewport, canvas);
  return { ...viewport, x: viewport.x + pan.dx, y: viewport.y + pan.dy };
}
