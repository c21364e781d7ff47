import { activeChain, childrenOf, type LiveView } from "../inspect";

/**
 * The root node above `node`: QEMU commands that act inside a chain (change-backing-file, block-commit)
 * take the chain's top as their `device`. The active chain is preferred; otherwise the first parent is followed.
 */
export function topOfChainHolding(view: LiveView, node: string): string {
  if (view.active && activeChain(view).some((n) => n.name === node)) return view.active;
  let cur = node;
  for (let hops = 0; hops < 1000; hops++) {
    const parent = childrenOf(view, cur)[0];
    if (!parent) return cur;
    cur = parent.name;
  }
  return cur;
}
