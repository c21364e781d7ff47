"use client";

import { useCallback, useMemo, useState } from "react";
import type { DiskTreeView } from "@/lib/inventory/views";
import { pickRange, type MergeKind, type MergeRange } from "./merge-range";
import type { GraphMarks } from "./graph-marks";

/**
 * What the admin has picked on the graph: one layer (its panel is open), or a merge range of two layers on one
 * chain, picked by Shift+click (or Shift+Enter) on a second layer, or by "Pick a merge range" and then a click
 * on the other end. Names are kept, not nodes, so a refetched tree keeps the picks that still exist.
 */
export function useGraphPicks(tree: DiskTreeView) {
  const [selected, setSelected] = useState<string | null>(null);
  const [anchor, setAnchor] = useState<string | null>(null);
  const [ends, setEnds] = useState<{ a: string; b: string } | null>(null);
  const [preview, setPreview] = useState<MergeKind | null>(null);
  /** Why the last pick did not make a range (different branches), shown until the next pick. */
  const [notice, setNotice] = useState<string | null>(null);

  // Re-derived from the current tree: after an operation the layers between the ends may differ, or an end may
  // be gone, in which case the range quietly ends.
  const range: MergeRange | null = useMemo(() => {
    if (!ends) return null;
    const pick = pickRange(tree, ends.a, ends.b);
    return pick.ok ? pick.range : null;
  }, [tree, ends]);

  const has = useCallback((name: string) => tree.layers.some((l) => l.name === name), [tree]);
  const selectedExists = selected !== null && has(selected);

  const clearRange = useCallback(() => {
    setEnds(null);
    setAnchor(null);
    setPreview(null);
    setNotice(null);
  }, []);

  const select = useCallback(
    (name: string | null) => {
      setSelected(name);
      clearRange();
    },
    [clearRange],
  );

  const completeRange = useCallback(
    (a: string, b: string) => {
      const pick = pickRange(tree, a, b);
      if (!pick.ok) {
        setNotice(pick.reason);
        return;
      }
      setEnds({ a, b });
      setAnchor(null);
      setNotice(null);
      setPreview(null);
    },
    [tree],
  );

  /** A click (or Enter) on a layer; with Shift, or while picking, it ends a range instead of selecting. */
  const pickLayer = useCallback(
    (name: string, extend: boolean) => {
      const first = anchor ?? (extend ? (selected ?? null) : null);
      if (first !== null && first !== name) completeRange(first, name);
      else if (first === name && anchor) setNotice(`Pick a second layer: ${name} is already one end of the range.`);
      else select(name);
    },
    [anchor, selected, completeRange, select],
  );

  const startRange = useCallback((from: string) => {
    setEnds(null);
    setAnchor(from);
    setPreview(null);
    setNotice(null);
  }, []);

  /** Escape: undo the innermost pick (picking mode, then the range, then the selection). */
  const back = useCallback(() => {
    if (anchor || ends || notice) clearRange();
    else setSelected(null);
  }, [anchor, ends, notice, clearRange]);

  const marks: GraphMarks = useMemo(
    () => ({ selected: selectedExists ? selected : null, anchor, range, preview }),
    [selectedExists, selected, anchor, range, preview],
  );

  return {
    marks,
    selected: selectedExists ? selected : null,
    anchor,
    range,
    notice,
    pickLayer,
    select,
    startRange,
    clearRange,
    setPreview,
    back,
  };
}

export type GraphPicks = ReturnType<typeof useGraphPicks>;
