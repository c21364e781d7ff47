import type { LayerInfo, Problem } from "./types";

/**
 * What the pages and the CLI show of a disk: the scan's facts joined with Canopy's own records (which leaf is
 * active, protection, descriptions). Plain data, JSON-safe, so server components can hand it to client ones.
 */

export interface LayerView extends LayerInfo {
  active: boolean;
  protected: boolean;
  description: string | null;
  /** When Canopy first saw or created the layer, ISO string. */
  createdAt: string;
  /** Names of layers backed by this one, within the disk. */
  children: string[];
}

export interface DiskTreeView {
  name: string;
  /** Name of the active leaf, or null when none could be chosen (e.g. the chain is broken). */
  activeLayer: string | null;
  /** Parents before children; templates first. */
  layers: LayerView[];
  problems: Problem[];
  scannedAt: string;
  /** Running: a QEMU process (a VM, or Canopy's daemon) holds the active layer, and operations go through it. */
  status?: "running" | "stopped";
}

export interface DiskSummary {
  name: string;
  activeLayer: string | null;
  layerCount: number;
  /** Number of leaves: every leaf is the tip of one branch. */
  branchCount: number;
  /** Length of the active chain, template included. */
  depth: number;
  virtualSize: number;
  /** Bytes taken on disk by the disk's own layers (templates not counted: they are shared). */
  usedBytes: number;
  problems: Problem[];
  scannedAt: string;
}
