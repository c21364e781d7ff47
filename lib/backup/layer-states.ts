import { readQcow2Header } from "../qcow2/header";
import type { QemuSession } from "./qemu-session";
import type { BackupLayer, LayerState } from "./types";

/**
 * The facts decideKind needs about each layer, from the right witness. A stopped disk: the qcow2 headers, where
 * a bitmap flagged "in use" was left by a process that never closed it. A running disk: QEMU itself, because
 * the headers then say "in use" for every bitmap QEMU has open and do not list bitmaps added since it started.
 * Only the active chain is read; other branches cannot be in an incremental's range.
 */

export async function layerStatesFromHeaders(
  layers: readonly BackupLayer[],
  chain: readonly BackupLayer[],
): Promise<LayerState[]> {
  const onChain = new Set(chain.map((l) => l.name));
  return Promise.all(
    layers.map(async (layer): Promise<LayerState> => {
      if (!onChain.has(layer.name)) return { name: layer.name, parent: layer.parent, virtualSize: 0, bitmaps: [] };
      const header = await readQcow2Header(layer.file);
      return {
        name: layer.name,
        parent: layer.parent,
        virtualSize: header.virtualSize,
        bitmaps: header.bitmaps.map((b) => ({ name: b.name, inUse: b.inUse, auto: b.auto })),
      };
    }),
  );
}

export async function layerStatesFromQemu(
  session: QemuSession,
  layers: readonly BackupLayer[],
  chain: readonly BackupLayer[],
): Promise<LayerState[]> {
  const nodes = await session.client.execute("query-named-block-nodes", { flat: true });
  const byNode = new Map(nodes.map((n) => [n["node-name"], n]));
  const onChain = new Set(chain.map((l) => l.name));
  return layers.map((layer): LayerState => {
    const node = onChain.has(layer.name) ? byNode.get(session.nodeOf(layer.name)) : undefined;
    if (!node) return { name: layer.name, parent: layer.parent, virtualSize: 0, bitmaps: [] };
    return {
      name: layer.name,
      parent: layer.parent,
      virtualSize: node.image["virtual-size"],
      bitmaps: (node["dirty-bitmaps"] ?? [])
        .filter((b) => b.name !== undefined && b.persistent)
        .map((b) => ({ name: b.name!, inUse: b.inconsistent === true, auto: b.recording })),
    };
  });
}
