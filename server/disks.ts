import "server-only";
import type { BitmapInfo, Problem } from "@/lib/inventory/types";
import type { DiskSummary, DiskTreeView, LayerView } from "@/lib/inventory/views";
import { LayerTree } from "@/lib/tree/model";
import { getDb } from "./db";
import { loadConfig } from "./config";

/** Read side for pages and the CLI: disks and their trees as recorded by the last scan. */

export function storageRoot(): string {
  return loadConfig().storageRoot;
}

type DiskRow = Awaited<ReturnType<typeof loadDisk>>;

function loadDisk(name: string) {
  return getDb().disk.findUnique({ where: { name }, include: { layers: true } });
}

function toTreeView(disk: NonNullable<DiskRow>): DiskTreeView {
  const tree = new LayerTree(disk.layers);
  const layers: LayerView[] = disk.layers.map((l) => ({
    name: l.name,
    file: l.file,
    parent: l.parent,
    backingFile: l.backingFile,
    backingFormat: l.backingFormat,
    template: l.template,
    version: l.version,
    virtualSize: Number(l.virtualSize),
    clusterSize: l.clusterSize,
    fileSize: Number(l.fileSize),
    dirty: l.dirty,
    corrupt: l.corrupt,
    bitmaps: JSON.parse(l.bitmaps) as BitmapInfo[],
    modifiedAt: l.modifiedAt.toISOString(),
    active: l.name === disk.activeLayer,
    protected: l.protected,
    description: l.description,
    createdAt: l.createdAt.toISOString(),
    children: tree.children(l.name).map((c) => c.name),
  }));
  return {
    name: disk.name,
    activeLayer: disk.activeLayer,
    layers: orderForDisplay(layers),
    problems: JSON.parse(disk.problems) as Problem[],
    scannedAt: disk.scannedAt.toISOString(),
    status: disk.status === "running" ? "running" : "stopped",
  };
}

/** Parents before children, templates first, siblings by name: the order the scan produced. */
function orderForDisplay(layers: LayerView[]): LayerView[] {
  const tree = new LayerTree(layers);
  const out: LayerView[] = [];
  const byName = (a: LayerView, b: LayerView) => a.name.localeCompare(b.name, "en", { numeric: true });
  const visit = (l: LayerView) => {
    out.push(l);
    tree.children(l.name).sort(byName).forEach(visit);
  };
  layers.filter((l) => l.parent === null || !tree.has(l.parent)).sort(byName).forEach(visit);
  return out;
}

export async function getDiskTree(name: string): Promise<DiskTreeView | null> {
  const disk = await loadDisk(name);
  return disk ? toTreeView(disk) : null;
}

/** Whether the disk's VM runs. Always "stopped" until Canopy talks to running VMs (QMP). */
export type DiskStatus = "stopped" | "running";

export interface DiskListEntry extends DiskSummary {
  status: DiskStatus;
}

export async function listDisks(): Promise<DiskListEntry[]> {
  const disks = await getDb().disk.findMany({ include: { layers: true }, orderBy: { name: "asc" } });
  return disks.map((d) => ({ ...summarize(toTreeView(d)), status: d.status === "running" ? "running" : "stopped" }));
}

export function summarize(view: DiskTreeView): DiskSummary {
  const tree = new LayerTree(view.layers);
  const own = view.layers.filter((l) => !l.template);
  return {
    name: view.name,
    activeLayer: view.activeLayer,
    layerCount: own.length,
    branchCount: tree.leaves().length,
    depth: view.activeLayer ? tree.chain(view.activeLayer).length : 0,
    virtualSize: Math.max(0, ...view.layers.map((l) => l.virtualSize)),
    usedBytes: own.reduce((sum, l) => sum + l.fileSize, 0),
    problems: view.problems,
    scannedAt: view.scannedAt,
  };
}
