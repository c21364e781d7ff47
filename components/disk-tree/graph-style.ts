/**
 * Colours for SVG edges and the minimap, which take plain values rather than Tailwind classes (Tailwind
 * only emits the theme variables that classes use). Hex values of Tailwind's palette, to match the nodes.
 */
export const GRAPH_COLORS = {
  activeChain: "#10b981", // emerald-500
  edge: "#94a3b8", // slate-400
  broken: "#ef4444", // red-500
  templateFill: "#cbd5e1", // slate-300
  tipFill: "#7dd3fc", // sky-300
  innerFill: "#e2e8f0", // slate-200
  activeFill: "#10b981", // emerald-500
  problemFill: "#fca5a5", // red-300
  range: "#7c3aed", // violet-600: the merge range being picked
} as const;

/** The minimap's box in screen pixels (bottom-right, 15px from the edges as xyflow places panels). */
export const MINIMAP_SIZE = { width: 168, height: 112, margin: 15 } as const;

/** The zoom controls' box (bottom-left): xyflow's three 26px buttons in a column, 15px from the edges. */
export const CONTROLS_SIZE = { width: 26, height: 3 * 26, margin: 15 } as const;
