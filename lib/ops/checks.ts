import { CanopyError } from "../errors";
import { assertName } from "../inventory/names";
import type { ProblemCode } from "../inventory/types";
import { LayerTree } from "../tree/model";
import type { DiskState } from "./types";

/**
 * Problems that make a layer's chain unsafe to touch. A dirty flag is not one (QEMU repairs it on open), nor is
 * a backing format left unrecorded (QEMU probes it; the chain still opens, and Canopy's tools pass -F anyway).
 */
const BLOCKING: ProblemCode[] = [
  "backing-loop",
  "backing-missing",
  "backing-outside-root",
  "backing-symlink",
  "not-qcow2",
  "truncated",
  "corrupt",
  "unreadable",
];

export function treeOf(state: DiskState): LayerTree {
  return new LayerTree(state.layers);
}

export function requireLayer(state: DiskState, name: string, role = "layer"): void {
  assertName("layer", name);
  if (!state.layers.some((l) => l.name === name)) {
    throw new CanopyError("not-found", `disk "${state.name}" has no ${role} named "${name}"`);
  }
}

/** Refuses to act on a chain the scan found broken: the tools would fail halfway, or hang. */
export function requireHealthy(state: DiskState, names: string[]): void {
  const tree = treeOf(state);
  const involved = new Set(names.flatMap((n) => tree.chain(n).map((l) => l.name)));
  const loop = state.problems.find((p) => p.code === "backing-loop");
  const blocking = state.problems.filter((p) => BLOCKING.includes(p.code) && (!p.layer || involved.has(p.layer)));
  const found = loop && !blocking.includes(loop) ? [loop, ...blocking] : blocking;
  if (found.length) {
    throw new CanopyError(
      "broken-chain",
      `disk "${state.name}" has a broken chain, so nothing was changed: ${found.map((p) => p.message).join("; ")}`,
    );
  }
}

export function requireAncestor(state: DiskState, base: string, top: string): void {
  if (!treeOf(state).isAncestor(base, top)) {
    throw new CanopyError("invalid-input", `"${base}" is not an ancestor of "${top}" in disk "${state.name}"`);
  }
}

/** A layer and everything below it: who would read wrong data if the layer changed. */
export function branchOf(tree: LayerTree, name: string): string[] {
  return [name, ...tree.descendants(name).map((l) => l.name)];
}

export function sumBytes(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
