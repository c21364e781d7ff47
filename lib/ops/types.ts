import type { LayerInfo, Problem } from "../inventory/types";

/**
 * Plans: what an operation will do, computed before anything runs. The same plan is printed by --dry-run,
 * shown in the dashboard's confirmation dialog, stored with the job, and executed step by step.
 */

export type OperationKind =
  | "snapshot"
  | "revert"
  | "merge-down"
  | "merge-up"
  | "delete"
  | "flatten"
  | "protect"
  | "unprotect"
  | "make-active";

/**
 * One file-level action. Every step can be run again after a crash and ends in the same state: before it runs,
 * the executor compares the files with what the step expects (`from`: the backing the plan saw), and a step
 * resumed after a kill first brings its files back to a state it can start from (lib/ops/prepare-step.ts).
 */
export type PlanStep =
  /** Create an empty qcow2 overlay `layer` backed by `backing`. */
  | { kind: "create-overlay"; layer: string; backing: string; handOverBitmaps?: boolean }
  /** `qemu-img commit -b base top`: the data of every layer above base up to top goes into base. */
  | { kind: "commit"; top: string; base: string; bytes: number }
  /** `qemu-img rebase -u`: point `layer`, backed by `from`, at `backing` without copying (its content is already there). */
  | { kind: "repoint"; layer: string; from: string; backing: string | null }
  /**
   * `qemu-img rebase` (safe): copy into `layer` what differs, then point it at `backing` (null: standalone).
   * `from` is the layer's backing before the pull; it still exists until a later step deletes it.
   */
  | { kind: "pull"; layer: string; from: string; backing: string | null; bytes: number }
  | { kind: "delete-file"; layer: string }
  | { kind: "set-active"; layer: string }
  /**
   * Make-active: the VM is to write to `layer` (a leaf) instead of `from`, the active layer the plan saw. Only a
   * record changes, and only while it still says `from`; refused on a running disk, whose QEMU keeps writing to
   * the layer it has open.
   */
  | { kind: "switch-active"; layer: string; from: string | null }
  | { kind: "set-protected"; layer: string; value: boolean }
  | { kind: "set-description"; layer: string; description: string | null };

export interface Alternative {
  operation: OperationKind;
  params: Record<string, string | boolean>;
  /** One sentence for the button or the CLI hint. */
  summary: string;
}

export interface Refusal {
  reason: string;
  /** Layers that depend on what would change, named so the admin sees who would be hurt. */
  dependents: string[];
  alternative: Alternative | null;
}

export interface Plan {
  operation: OperationKind;
  disk: string;
  params: Record<string, string | boolean>;
  /** One human sentence: what will happen. */
  summary: string;
  steps: PlanStep[];
  /** Layers whose data or backing changes. */
  changes: string[];
  deletes: string[];
  creates: string[];
  /** Guest data to copy, from qemu-img map of the layers involved. */
  bytesToMove: number;
  activeBefore: string | null;
  activeAfter: string | null;
  /** Why the planner chose what it chose (delete picks a direction), when there was a choice. */
  notes: string[];
  refused: Refusal | null;
}

/** What the planner needs to know about a disk: the scan's facts plus Canopy's records. */
export interface DiskState {
  name: string;
  layers: LayerInfo[];
  active: string | null;
  protected: ReadonlySet<string>;
  problems: Problem[];
  /** A QEMU process holds the disk (a VM attached, or Canopy's own daemon): it writes to the active layer it has open. */
  running?: boolean;
}

/** Bytes of guest data one layer itself holds; injected so planners stay free of processes. */
export type MeasureLayer = (layer: string) => Promise<number>;

/**
 * Bytes of guest data a layer reads through its backing chain (held below it, not in it): what pulling the
 * chain into it copies. One measurement for the whole chain, however deep.
 */
export type MeasureReadThrough = (layer: string) => Promise<number>;
