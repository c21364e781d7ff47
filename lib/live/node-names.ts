import { createHash } from "node:crypto";

/**
 * QEMU node names (and job ids) must start with a letter, hold only letters, digits, '-', '.' and '_', and a
 * node name is at most 31 characters (QEMU keeps it in a 32-byte buffer). Canopy's layer names allow a leading
 * digit and 128 characters, so a node name is derived from the layer name: readable when it can be, with a
 * hash of the full name when it has to be cut. Routing never depends on this mapping: nodes are matched to
 * layers by their file (see inspect.ts), so a VM that names its nodes its own way works too.
 */

export const MAX_NODE_NAME = 31;
const HASH_CHARS = 8;

function hashOf(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, HASH_CHARS);
}

/** The node name for a layer, deterministic: `1A` -> `L1A`, `base` -> `base`, a long name -> prefix + hash. */
export function nodeNameFor(layer: string): string {
  let name = layer.replace(/[^A-Za-z0-9._-]/g, "_");
  if (!/^[A-Za-z]/.test(name)) name = `L${name}`;
  if (name.length > MAX_NODE_NAME) name = `${name.slice(0, MAX_NODE_NAME - HASH_CHARS - 1)}-${hashOf(layer)}`;
  return name;
}

/** nodeNameFor, made unique against names already taken (another layer mapping to the same name, or a VM's). */
export function uniqueNodeName(layer: string, taken: ReadonlySet<string>): string {
  const first = nodeNameFor(layer);
  if (!taken.has(first)) return first;
  const hashed = `${first.slice(0, MAX_NODE_NAME - HASH_CHARS - 1)}-${hashOf(layer)}`;
  if (!taken.has(hashed)) return hashed;
  for (let k = 2; ; k++) {
    const suffix = `-${k}`;
    const candidate = `${hashed.slice(0, MAX_NODE_NAME - suffix.length)}${suffix}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/** True when QEMU accepts `name` as a node name. */
export function isValidNodeName(name: string): boolean {
  return name.length <= MAX_NODE_NAME && /^[A-Za-z][A-Za-z0-9._-]*$/.test(name);
}
