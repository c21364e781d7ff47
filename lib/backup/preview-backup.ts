import type { QmpClient } from "../qmp/client";
import { decideKind, type KindDecision } from "./decide-kind";
import { layerStatesFromHeaders, layerStatesFromQemu } from "./layer-states";
import { activeChain, attachToRunningQemu, type QemuSession } from "./qemu-session";
import { latestChain } from "./repository";
import type { BackupLayer, BackupPolicy, ChainManifest, LayerState } from "./types";

/**
 * What the next backup of a disk would be, and why, without making it: the repository's newest chain, the
 * layers' bitmaps from the right witness (headers, or the running QEMU), and decideKind. runBackup makes the
 * same inspection, so the dashboard can say "the next backup is full: layer 1C lost its bitmap" beforehand.
 */

export interface InspectInput {
  diskName: string;
  /** Every layer of the disk (files absolute); only the active chain is opened. */
  layers: readonly BackupLayer[];
  active: string;
  repoRoot: string;
  /** QMP client of the disk's running QEMU; absent for a stopped disk. Never closed by the engine. */
  qmp?: QmpClient;
  /** Node names of the layers in that QEMU; found by file path when not given. */
  nodeNames?: Readonly<Record<string, string>>;
  policy?: Partial<BackupPolicy>;
  requestedFull?: boolean;
  /** Layers removed by merges, mapped to the layer that received their data (Canopy's history). */
  mergedInto?: Readonly<Record<string, string>>;
}

export interface BackupPreview {
  decision: KindDecision;
  /** The chain an incremental would continue (the newest holding a backup), or null. */
  chain: ChainManifest | null;
  states: LayerState[];
  /** The active layer's virtual size: the size of the backup. */
  virtualSize: number;
}

export async function inspectDisk(input: InspectInput, session: QemuSession | undefined): Promise<BackupPreview> {
  const chainLayers = activeChain(input.layers, input.active);
  const chain = await latestChain(input.repoRoot, input.diskName);
  const states = session
    ? await layerStatesFromQemu(session, input.layers, chainLayers)
    : await layerStatesFromHeaders(input.layers, chainLayers);
  const decision = decideKind({
    chain,
    layers: states,
    active: input.active,
    policy: input.policy,
    requestedFull: input.requestedFull,
    mergedInto: input.mergedInto,
  });
  const virtualSize = states.find((s) => s.name === input.active)?.virtualSize ?? 0;
  return { decision, chain, states, virtualSize };
}

export async function previewBackup(input: InspectInput): Promise<BackupPreview> {
  const chainLayers = activeChain(input.layers, input.active);
  const session = input.qmp ? await attachToRunningQemu(input.qmp, chainLayers, input.nodeNames) : undefined;
  return inspectDisk(input, session);
}
