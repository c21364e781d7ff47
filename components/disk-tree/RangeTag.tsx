import type { MergeEffect, RangeMark } from "./tree-layout";

const LABEL: Record<RangeMark, string> = {
  anchor: "Range start",
  top: "Top",
  base: "Base",
  between: "In range",
};

const EFFECT: Record<MergeEffect, string> = { merged: "merged away", receives: "receives the data" };

/** A small violet label on the node's top edge saying what the layer is in the merge range. */
export function RangeTag({ mark, effect }: { mark: RangeMark; effect?: MergeEffect }) {
  const text = effect ? (mark === "between" ? EFFECT[effect] : `${LABEL[mark]} · ${EFFECT[effect]}`) : LABEL[mark];
  return (
    <span
      data-range-mark={mark}
      className={`absolute -top-2.5 left-3 rounded-full px-2 text-[10px] font-bold uppercase leading-[18px] tracking-wider shadow-sm ${
        effect === "merged"
          ? "bg-white text-violet-700 ring-1 ring-violet-400"
          : "bg-violet-600 text-white"
      }`}
    >
      {text}
    </span>
  );
}
