import { describe, expect, it } from "vitest";
import { CONTROLS_SIZE, MINIMAP_SIZE } from "@/components/disk-tree/graph-style";
import { allInView, fitToClear, panIntoView, panToClear, VIEW_MARGIN, type Rect, type Size, type Viewport } from "@/components/disk-tree/view-clearance";

const W = 216;
const H = 88;
const node = (x: number, y: number): Rect => ({ x, y, width: W, height: H });
const at1 = (x = 0, y = 0): Viewport => ({ x, y, zoom: 1 });

/** The minimap's box on a canvas, as xyflow draws it (bottom right, its margin from both edges). */
function minimap(canvas: Size) {
  const left = canvas.width - MINIMAP_SIZE.width - MINIMAP_SIZE.margin;
  const top = canvas.height - MINIMAP_SIZE.height - MINIMAP_SIZE.margin;
  return { left, top, right: left + MINIMAP_SIZE.width, bottom: top + MINIMAP_SIZE.height };
}

/** The zoom controls' box (bottom left). */
function controls(canvas: Size) {
  const top = canvas.height - CONTROLS_SIZE.height - CONTROLS_SIZE.margin;
  return { left: CONTROLS_SIZE.margin, top, right: CONTROLS_SIZE.margin + CONTROLS_SIZE.width, bottom: top + CONTROLS_SIZE.height };
}

/** Whether a rect, at the viewport, is whole on the canvas and touches no part of the minimap or the controls. */
function clear(r: Rect, v: Viewport, canvas: Size): boolean {
  const left = r.x * v.zoom + v.x;
  const top = r.y * v.zoom + v.y;
  const right = left + r.width * v.zoom;
  const bottom = top + r.height * v.zoom;
  const inside = left >= -0.01 && top >= -0.01 && right <= canvas.width + 0.01 && bottom <= canvas.height + 0.01;
  const overlaps = (p: { left: number; top: number; right: number; bottom: number }) => right > p.left && left < p.right && bottom > p.top && top < p.bottom;
  return inside && !overlaps(minimap(canvas)) && !overlaps(controls(canvas));
}

const moved = (v: Viewport, p: { dx: number; dy: number }): Viewport => ({ ...v, x: v.x + p.dx, y: v.y + p.dy });

describe("keeping layers in view and off the minimap and the zoom controls", () => {
  const canvas = { width: 660, height: 530 };

  it("leaves a view alone when every layer is clear already", () => {
    const tree = [node(100, 30), node(100, 150)];
    expect(panToClear(tree, at1(), canvas)).toEqual({ dx: 0, dy: 0 });
    expect(allInView(tree, at1(), canvas)).toBe(true);
  });

  it("pans a layer cut by the canvas's edge back in, by the margin", () => {
    expect(panIntoView([node(500, 30)], at1(), canvas)).toEqual({ dx: canvas.width - VIEW_MARGIN - 716, dy: 0 });
    expect(allInView([node(500, 30)], at1(), canvas)).toBe(false);
  });

  it("moves a layer under the minimap out by the shorter way: left, or up when left is longer", () => {
    // Bottom right, just under the minimap's top-left corner: up is shorter.
    const low = node(canvas.width - VIEW_MARGIN - W, canvas.height - VIEW_MARGIN - H);
    const upPan = panToClear([low], at1(), canvas)!;
    expect(upPan.dx).toBe(0);
    expect(upPan.dy).toBeLessThan(0);
    expect(clear(low, moved(at1(), upPan), canvas)).toBe(true);
    // Only its left part reaches under the minimap, but it sits low: left is shorter.
    const side = node(minimap(canvas).left - W + 40, canvas.height - VIEW_MARGIN - H);
    const leftPan = panToClear([side], at1(), canvas)!;
    expect(leftPan.dy).toBe(0);
    expect(leftPan.dx).toBeLessThan(0);
    expect(clear(side, moved(at1(), leftPan), canvas)).toBe(true);
  });

  it("moves a layer from under the zoom controls (bottom left) to their right, or up when that is shorter", () => {
    const corner = node(VIEW_MARGIN, canvas.height - VIEW_MARGIN - H);
    const pan = panToClear([corner], at1(), canvas)!;
    expect(pan).toEqual({ dx: controls(canvas).right + MINIMAP_SIZE.margin - VIEW_MARGIN, dy: 0 });
    expect(clear(corner, moved(at1(), pan), canvas)).toBe(true);
    // A tree as wide as the canvas allows cannot go right: it rises above the controls and the minimap alike.
    const row = [node(VIEW_MARGIN, 200), node(canvas.width - VIEW_MARGIN - W, canvas.height - VIEW_MARGIN - H), node(VIEW_MARGIN, canvas.height - VIEW_MARGIN - H)];
    const rise = panToClear(row, at1(), canvas)!;
    expect(rise.dx).toBe(0);
    for (const r of row) expect(clear(r, moved(at1(), rise), canvas)).toBe(true);
  });

  it("moves the whole tree as one, and says when no pan can clear it at this zoom", () => {
    // A row of three at the bottom, as wide as the canvas allows: left is impossible, up clears it.
    const row = [node(24, 300), node(232, 300), node(420, 418)];
    const pan = panToClear(row, at1(), canvas);
    expect(pan).toEqual({ dx: 0, dy: minimap(canvas).top - MINIMAP_SIZE.margin - (418 + H) });
    for (const r of row) expect(clear(r, moved(at1(), pan!), canvas)).toBe(true);
    // Wider than the canvas: null (the caller zooms out, or keeps only the selected layer clear).
    expect(panToClear([node(0, 0), node(600, 0)], at1(), canvas)).toBeNull();
    // Filling the canvas to its margins, with a layer in the minimap's corner: neither left nor up is possible.
    expect(panToClear([node(0, 0), node(canvas.width - 48 - W, canvas.height - 48 - H)], at1(24, 24), canvas)).toBeNull();
  });

  it("fits any tree with no layer under the minimap, as large as that allows", () => {
    const canvases = [
      { width: 660, height: 530 },
      { width: 1006, height: 530 },
      { width: 400, height: 900 },
    ];
    // Trees of many shapes: a wide last row (its right end falls under the minimap in a plain fit), a column, a
    // single layer, a lone low layer at the right.
    const trees: Rect[][] = [
      [node(300, 0), node(300, 124), ...[0, 1, 2, 3, 4].map((i) => node(i * 252, 248))],
      [0, 1, 2, 3, 4, 5].map((i) => node(0, i * 124)),
      [node(0, 0)],
      [node(0, 0), node(252, 0), node(504, 372)],
    ];
    for (const canvas of canvases) {
      for (const tree of trees) {
        const v = fitToClear(tree, canvas, { minZoom: 0.05, maxZoom: 1 });
        for (const r of tree) expect(clear(r, v, canvas), `${JSON.stringify(r)} on ${canvas.width}x${canvas.height} at ${JSON.stringify(v)}`).toBe(true);
        expect(v.zoom).toBeLessThanOrEqual(1);
      }
    }
  });

  it("zooms out only as far as the minimap needs", () => {
    const canvas = { width: 1006, height: 530 };
    const m = minimap(canvas);
    const limits = { minZoom: 0.05, maxZoom: 1 };
    /** The zoom of the tree fitted between the controls and the minimap or above them, whichever is larger: always clear. */
    const besideOrAbove = (flowWidth: number, flowHeight: number) =>
      Math.max(
        Math.min((m.left - controls(canvas).right - 2 * MINIMAP_SIZE.margin) / flowWidth, (canvas.height - 2 * VIEW_MARGIN) / flowHeight),
        Math.min((canvas.width - 2 * VIEW_MARGIN) / flowWidth, (m.top - MINIMAP_SIZE.margin - VIEW_MARGIN) / flowHeight),
      );
    // The widest row at the bottom: it has to pass above the minimap, so that is the answer.
    const wide = [node(500, 0), node(500, 124), ...[0, 1, 2, 3, 4].map((i) => node(i * 252, 248))];
    expect(fitToClear(wide, canvas, limits).zoom).toBeCloseTo(besideOrAbove(4 * 252 + W, 248 + H), 2);
    // One low layer near the right, under a wide top row: a little smaller than the plain fit, and a pan left
    // does the rest (its right edge then meets the minimap's gap: 24 + (950 + 216) * zoom = minimap's left - gap).
    const lone = [node(0, 0), node(252, 0), node(504, 0), node(756, 0), node(1008, 0), node(950, 600)];
    const zoom = fitToClear(lone, canvas, limits).zoom;
    expect(zoom).toBeCloseTo((m.left - MINIMAP_SIZE.margin - VIEW_MARGIN) / (950 + W), 2);
    expect(zoom).toBeGreaterThan(besideOrAbove(1008 + W, 600 + H) + 0.01);
    // A small tree stays at full size.
    expect(fitToClear([node(0, 0), node(0, 124)], canvas, limits).zoom).toBe(1);
  });
});
