import { CONTROLS_SIZE, MINIMAP_SIZE } from "./graph-style";

/**
 * Where the graph's view may put layers: inside the canvas with a margin, and never under the panels xyflow draws
 * over its bottom corners, the zoom controls (left) and the minimap (right): a layer there is hidden, and a click
 * on it lands on the panel. Plain functions of sizes and positions, so they are tested without a browser.
 */

/** A node's box in the graph's own coordinates. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Viewport {
  x: number;
  y: number;
  zoom: number;
}

export interface Size {
  width: number;
  height: number;
}

export interface Pan {
  dx: number;
  dy: number;
}

interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/**
 * Below this zoom layer text is unreadable: a large tree opens on its active layer at a readable zoom instead of
 * whole, and no automatic re-fit goes below it.
 */
export const READABLE_ZOOM = 0.45;
/** Space kept between a layer and the canvas's edges. */
export const VIEW_MARGIN = 24;
/** Space kept between a layer and a panel: the gap the panels keep from the canvas's edges. */
const PANEL_GAP = MINIMAP_SIZE.margin;
/** Rounding in the fits below must not read as "does not fit". */
const SLACK = 0.5;

/** The panels over the canvas's bottom corners, in canvas pixels: the controls, then the minimap. */
export function cornerPanels(canvas: Size): { controls: Box; minimap: Box } {
  const c = CONTROLS_SIZE;
  const m = MINIMAP_SIZE;
  return {
    controls: { left: c.margin, top: canvas.height - c.margin - c.height, right: c.margin + c.width, bottom: canvas.height - c.margin },
    minimap: { left: canvas.width - m.margin - m.width, top: canvas.height - m.margin - m.height, right: canvas.width - m.margin, bottom: canvas.height - m.margin },
  };
}

function onScreen(r: Rect, v: Viewport): Box {
  return { left: r.x * v.zoom + v.x, top: r.y * v.zoom + v.y, right: (r.x + r.width) * v.zoom + v.x, bottom: (r.y + r.height) * v.zoom + v.y };
}

function around(boxes: readonly Box[]): Box {
  return {
    left: Math.min(...boxes.map((b) => b.left)),
    top: Math.min(...boxes.map((b) => b.top)),
    right: Math.max(...boxes.map((b) => b.right)),
    bottom: Math.max(...boxes.map((b) => b.bottom)),
  };
}

/** Whether every rect is whole on the canvas (what the admin sees of the tree before the canvas changes). */
export function allInView(rects: readonly Rect[], v: Viewport, canvas: Size): boolean {
  return rects.every((r) => {
    const b = onScreen(r, v);
    return b.left >= -SLACK && b.top >= -SLACK && b.right <= canvas.width + SLACK && b.bottom <= canvas.height + SLACK;
  });
}

/** The smallest pan that brings the rects inside the canvas's margins; where they cannot fit, their top left wins. */
export function panIntoView(rects: readonly Rect[], v: Viewport, canvas: Size): Pan {
  if (rects.length === 0) return { dx: 0, dy: 0 };
  const b = around(rects.map((r) => onScreen(r, v)));
  return {
    dx: shiftInto(b.left, b.right, VIEW_MARGIN, canvas.width - VIEW_MARGIN),
    dy: shiftInto(b.top, b.bottom, VIEW_MARGIN, canvas.height - VIEW_MARGIN),
  };
}

/**
 * The smallest pan, at the current zoom, that brings every rect inside the canvas's margins and off both corner
 * panels: sideways (the layers level with a panel pass on its inner side) or up, whichever is shorter; null when
 * no pan can, at this zoom.
 */
export function panToClear(rects: readonly Rect[], v: Viewport, canvas: Size): Pan | null {
  if (rects.length === 0) return { dx: 0, dy: 0 };
  const boxes = rects.map((r) => onScreen(r, v));
  const b = around(boxes);
  if (b.right - b.left > canvas.width - 2 * VIEW_MARGIN + SLACK || b.bottom - b.top > canvas.height - 2 * VIEW_MARGIN + SLACK) return null;
  const { dx, dy } = panIntoView(rects, v, canvas);
  const { controls, minimap } = cornerPanels(canvas);
  const level = (p: Box) => boxes.filter((x) => x.bottom + dy > p.top - PANEL_GAP);
  const below = (p: Box) => boxes.filter((x) => x.right + dx > p.left - PANEL_GAP && x.left + dx < p.right + PANEL_GAP);

  // Sideways: right of the controls, left of the minimap, within the margins.
  const besideControls = level(controls);
  const besideMinimap = level(minimap);
  const lo = Math.max(VIEW_MARGIN - b.left, ...besideControls.map((x) => controls.right + PANEL_GAP - x.left));
  const hi = Math.min(canvas.width - VIEW_MARGIN - b.right, ...besideMinimap.map((x) => minimap.left - PANEL_GAP - x.right));
  const sideways = lo <= hi + SLACK ? Math.min(Math.max(dx, lo), hi) : null;
  if (sideways === dx) return { dx, dy };
  // Up: every layer over a panel's columns rises above it.
  const up = Math.min(dy, ...[controls, minimap].flatMap((p) => below(p).map((x) => p.top - PANEL_GAP - x.bottom)));
  const rise = b.top + up >= VIEW_MARGIN - SLACK ? up : null;

  if (sideways !== null && (rise === null || Math.abs(sideways - dx) <= Math.abs(rise - dy))) return { dx: sideways, dy };
  if (rise !== null) return { dx, dy: rise };
  return null;
}

/**
 * The largest view (zoom within the limits) showing every rect with none under a corner panel: the whole canvas's
 * fit when a pan clears the panels, else the largest zoom at which a pan does (searched between that fit and the
 * tree fitted between the panels or above them, which always clears them).
 */
export function fitToClear(rects: readonly Rect[], canvas: Size, limits: { minZoom: number; maxZoom: number }): Viewport {
  if (rects.length === 0) return { x: 0, y: 0, zoom: limits.maxZoom };
  const flow = around(rects.map((r) => onScreen(r, { x: 0, y: 0, zoom: 1 })));
  const clamp = (zoom: number) => Math.min(limits.maxZoom, Math.max(limits.minZoom, zoom));
  const centred = (area: Box, zoom: number): Viewport => ({
    zoom,
    x: (area.left + area.right) / 2 - ((flow.left + flow.right) / 2) * zoom,
    y: (area.top + area.bottom) / 2 - ((flow.top + flow.bottom) / 2) * zoom,
  });
  const fitIn = (area: Box): Viewport =>
    centred(area, clamp(Math.min((area.right - area.left) / (flow.right - flow.left), (area.bottom - area.top) / (flow.bottom - flow.top))));
  const cleared = (v: Viewport): Viewport | null => {
    const pan = panToClear(rects, v, canvas);
    return pan ? { ...v, x: v.x + pan.dx, y: v.y + pan.dy } : null;
  };

  const m = VIEW_MARGIN;
  const full = { left: m, top: m, right: canvas.width - m, bottom: canvas.height - m };
  const whole = fitIn(full);
  const wholeCleared = cleared(whole);
  if (wholeCleared) return wholeCleared;
  const { controls, minimap } = cornerPanels(canvas);
  const between = fitIn({ left: Math.max(m, controls.right + PANEL_GAP), top: m, right: minimap.left - PANEL_GAP, bottom: canvas.height - m });
  const above = fitIn({ left: m, top: m, right: canvas.width - m, bottom: Math.min(controls.top, minimap.top) - PANEL_GAP });
  let best = between.zoom >= above.zoom ? between : above;
  let [low, high] = [best.zoom, whole.zoom];
  for (let i = 0; i < 12 && high - low > 0.002; i++) {
    const zoom = (low + high) / 2;
    const v = cleared(centred(full, zoom));
    if (v) [best, low] = [v, zoom];
    else high = zoom;
  }
  return best;
}

/** How far to move [start, end] so it lies within [min, max]; the start wins when it cannot fit. */
function shiftInto(start: number, end: number, min: number, max: number): number {
  if (start < min) return min - start;
  if (end > max) return Math.max(max - end, min - start);
  return 0;
}
