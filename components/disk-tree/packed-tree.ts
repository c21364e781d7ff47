import type { DiskTreeView, LayerView } from "@/lib/inventory/views";

/**
 * A disk's tree as the disk page's server render hands it to the browser: each layer keeps only what cannot be
 * told from its place in the tree or from what most layers share. A layer of a plain chain is then its name and
 * its modification time, where the full view is about 400 characters: a chain 1,000 deep was 460 KB of page
 * (the RSC payload inside the HTML), now under 100 KB (bench/disk-page.ts). `unpackTree` gives back the very
 * same view, so everything downstream reads a DiskTreeView as before.
 */
export interface PackedTree extends Omit<DiskTreeView, "layers"> {
  /** Per field, the value most layers have. */
  common: Partial<Record<CommonField, unknown>>;
  /** In the view's order; a field is absent where it equals what `RULES`, `common` or the children rule say. */
  layers: PackedLayer[];
}

export type PackedLayer = Partial<LayerView> & Pick<LayerView, "name">;

type Header = Omit<DiskTreeView, "layers">;

/** Fields worked out from the layer and the one before it in the view's order (parents come before children). */
type RuleField = "parent" | "file" | "backingFile" | "createdAt" | "active";
type CommonField = Exclude<keyof LayerView, "name" | "children" | RuleField>;

/** Every field of a layer is one of: the name, a rule, a common value, or the children (worked out last). */
const COMMON_FIELDS = Object.keys({
  backingFormat: true,
  template: true,
  version: true,
  virtualSize: true,
  clusterSize: true,
  fileSize: true,
  dirty: true,
  corrupt: true,
  bitmaps: true,
  modifiedAt: true,
  protected: true,
  description: true,
} satisfies Record<CommonField, true>) as CommonField[];

type Rule = (layer: LayerView, header: Header, previous: LayerView | undefined) => unknown;

/** In the order they are applied when unpacking: a rule reads only fields settled before it. */
const PARENT_RULE: Rule = (_layer, _header, previous) => previous?.name ?? null;
const RULES: Array<[Exclude<RuleField, "parent">, Rule]> = [
  ["file", (l, h) => `${h.name}/${l.name}.qcow2`],
  ["backingFile", (l) => (l.parent === null ? null : `${l.parent}.qcow2`)],
  ["createdAt", (l) => l.modifiedAt],
  ["active", (l, h) => l.name === h.activeLayer],
];

export function packTree(view: DiskTreeView): PackedTree {
  const { layers, ...header } = view;
  const common = commonValues(layers);
  const children = childrenByParent(layers);
  const packed = layers.map((layer, i): PackedLayer => {
    const previous = layers[i - 1];
    const row: Record<string, unknown> = { name: layer.name };
    const keep = (field: keyof LayerView, expected: unknown) => {
      if (!same(layer[field], expected)) row[field] = layer[field];
    };
    keep("parent", PARENT_RULE(layer, header, previous));
    for (const f of COMMON_FIELDS) keep(f, common[f]);
    for (const [f, rule] of RULES) keep(f, rule(layer, header, previous));
    keep("children", children.get(layer.name) ?? []);
    return row as PackedLayer;
  });
  return { ...header, common, layers: packed };
}

export function unpackTree(packed: PackedTree): DiskTreeView {
  const { common, layers: rows, ...header } = packed;
  const layers: LayerView[] = [];
  for (const row of rows) {
    const previous = layers[layers.length - 1];
    const layer = { name: row.name } as Record<string, unknown>;
    const settle = (field: keyof LayerView, expected: () => unknown) => {
      layer[field] = field in row ? row[field] : expected();
    };
    settle("parent", () => PARENT_RULE(layer as unknown as LayerView, header, previous));
    for (const f of COMMON_FIELDS) settle(f, () => common[f]);
    for (const [f, rule] of RULES) settle(f, () => rule(layer as unknown as LayerView, header, previous));
    layers.push(layer as unknown as LayerView);
  }
  const children = childrenByParent(layers);
  layers.forEach((layer, i) => {
    const row = rows[i]!;
    layer.children = row.children ?? children.get(layer.name) ?? [];
  });
  return { ...header, layers };
}

/** The most frequent value of each common field. */
function commonValues(layers: readonly LayerView[]): PackedTree["common"] {
  const common: PackedTree["common"] = {};
  for (const f of COMMON_FIELDS) {
    const counts = new Map<string, { value: unknown; n: number }>();
    for (const l of layers) {
      const key = JSON.stringify(l[f]) ?? "undefined";
      const seen = counts.get(key);
      if (seen) seen.n++;
      else counts.set(key, { value: l[f], n: 1 });
    }
    let best: { value: unknown; n: number } | undefined;
    for (const c of counts.values()) if (!best || c.n > best.n) best = c;
    if (best) common[f] = best.value;
  }
  return common;
}

/** Children named by each layer's parent, in the view's order. */
function childrenByParent(layers: readonly Pick<LayerView, "name" | "parent">[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const l of layers) {
    if (l.parent === null) continue;
    const list = out.get(l.parent);
    if (list) list.push(l.name);
    else out.set(l.parent, [l.name]);
  }
  return out;
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}
