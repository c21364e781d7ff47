import type { LayerInfo } from "../inventory/types";

/**
 * A disk's layers as a tree: the questions every part of Canopy asks of it (children, chain, ancestry,
 * leaves), answered in one place. Built from the scan's layers; never touches files.
 */
export class LayerTree<L extends Pick<LayerInfo, "name" | "parent" | "template"> = LayerInfo> {
  private readonly byName: Map<string, L>;
  private readonly kids = new Map<string, L[]>();

  constructor(readonly layers: readonly L[]) {
    this.byName = new Map(layers.map((l) => [l.name, l]));
    for (const l of layers) {
      if (l.parent === null) continue;
      const list = this.kids.get(l.parent) ?? [];
      list.push(l);
      this.kids.set(l.parent, list);
    }
  }

  get(name: string): L | undefined {
    return this.byName.get(name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  children(name: string): L[] {
    return this.kids.get(name) ?? [];
  }

  parentOf(name: string): L | undefined {
    const p = this.byName.get(name)?.parent;
    return p ? this.byName.get(p) : undefined;
  }

  /** The layer and its ancestors, top first (the order QEMU reads a chain in). */
  chain(name: string): L[] {
    const out: L[] = [];
    const seen = new Set<string>();
    for (let cur = this.byName.get(name); cur && !seen.has(cur.name); cur = this.parentOf(cur.name)) {
      seen.add(cur.name);
      out.push(cur);
    }
    return out;
  }

  /** True when `ancestor` is a strict ancestor of `name`. */
  isAncestor(ancestor: string, name: string): boolean {
    return this.chain(name).slice(1).some((l) => l.name === ancestor);
  }

  /** Every layer below `name`, not including it. */
  descendants(name: string): L[] {
    const out: L[] = [];
    const stack = [...this.children(name)];
    while (stack.length) {
      const l = stack.pop()!;
      out.push(l);
      stack.push(...this.children(l.name));
    }
    return out;
  }

  /** Leaves are a disk's branch tips; templates never are (they belong to the root, not the disk). */
  leaves(): L[] {
    return this.layers.filter((l) => !l.template && this.children(l.name).length === 0);
  }

  isLeaf(name: string): boolean {
    return this.has(name) && this.children(name).length === 0;
  }
}
