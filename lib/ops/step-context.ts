import path from "node:path";

/** What a plan step runs with: the disk's files, Canopy's records, cancellation and progress. */

export interface StepEffects {
  /** Canopy's own records (the database), injected so lib/ stays free of it. */
  /**
   * With `expected`: only while the record still says `expected.from` (a compare-and-set; a record that already
   * says `layer` is done), else refused with nothing written.
   */
  setActive(layer: string, expected?: { from: string | null }): Promise<void>;
  setProtected(layer: string, value: boolean): Promise<void>;
  setDescription(layer: string, description: string | null): Promise<void>;
}

export interface StepContext {
  root: string;
  disk: string;
  /** Absolute file of every existing layer, by name; new layers go into the disk's folder. */
  files: ReadonlyMap<string, string>;
  effects: StepEffects;
  signal?: AbortSignal;
  /** Fraction 0..1 of this step's data copied. */
  onProgress?: (fraction: number) => void;
  /**
   * The step had been started by a process that died inside it: what it left on disk is unknown, and is read
   * and repaired before the step runs again (lib/ops/prepare-step.ts).
   */
  resumed?: boolean;
}

export function layerFile(ctx: Pick<StepContext, "root" | "disk" | "files">, layer: string): string {
  return ctx.files.get(layer) ?? path.join(ctx.root, ctx.disk, `${layer}.qcow2`);
}

/** Backing names are stored relative to the overlay's folder, so a root can be moved or copied whole. */
export function backingName(ctx: Pick<StepContext, "root" | "disk" | "files">, layer: string, backing: string): string {
  return path.relative(path.dirname(layerFile(ctx, layer)), layerFile(ctx, backing));
}
