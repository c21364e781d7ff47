import { realpath } from "node:fs/promises";
import path from "node:path";
import { CanopyError } from "../errors";
import type { StepContext } from "../ops/step-context";
import { layerFile } from "../ops/step-context";
import type { QmpClient } from "../qmp/client";
import type { JobProgress } from "../qmp/jobs";
import { inspectLive, nodeNamed, type LiveNode, type LiveTarget, type LiveView } from "./inspect";

/** Everything executeLiveStep needs: the offline step context plus the QMP connection to the running disk. */
export interface LiveStepContext extends StepContext {
  /** Connected to the QEMU process (VM or qemu-storage-daemon) that holds the disk's active layer. */
  qmp: QmpClient;
  /** Which export or device is the disk, if the process serves more than one. */
  target?: LiveTarget;
  /** The block job's id; default liveJobId(step). Give the same id to recoverLiveStep. */
  jobId?: string;
  /** Bytes per second for block jobs; 0 or unset: unlimited. */
  speed?: number;
  /** How often to poll query-jobs for progress. Default 250 ms. */
  pollIntervalMs?: number;
  /** Timeout of each QMP call. Default: the client's. */
  callTimeoutMs?: number;
  /** QEMU's own job progress (status and bytes), besides the 0..1 fraction of onProgress. */
  onJobProgress?: (progress: JobProgress) => void;
}

export interface LiveStepResult {
  /** live: done through QEMU; offline: nothing it touches is open, so qemu-img did it; no-op: already done. */
  mode: "live" | "offline" | "no-op";
  /**
   * The layer now at the root of the running disk, when this step changed it (a live snapshot, an active
   * commit's pivot). It has already been recorded through effects.setActive: a crash right after the change
   * must not leave Canopy believing the VM still writes to the old layer.
   */
  activeLayer?: string;
  /** Things worth a line in the job's log (a bitmap not carried over, a node QEMU would not release). */
  notes: string[];
}

/** The live view with the disk's layers mapped onto its nodes, by file. */
export interface Routing {
  view: LiveView;
  /** The open node of a layer, if it is open. */
  nodeOf(layer: string): LiveNode | undefined;
  /** The layer a node holds, if it is one of this disk's layers. */
  layerOf(node: string): string | undefined;
  /** A layer's name, or for a node outside the disk its node name and file. */
  describe(node: string): string;
  /** The active node. */
  active(): LiveNode | undefined;
}

export async function readRouting(ctx: LiveStepContext): Promise<Routing> {
  const view = await inspectLive(ctx.qmp, ctx.target, callOptions(ctx));
  if (!view.active) throw noActiveNode(view, ctx);
  const fileOfLayer = new Map<string, string>();
  await Promise.all(
    [...ctx.files.keys()].map(async (layer) => fileOfLayer.set(layer, await canonical(layerFile(ctx, layer)))),
  );
  const nodeFile = new Map<string, string>();
  await Promise.all(view.nodes.map(async (n) => nodeFile.set(n.name, await canonical(n.file))));
  const layerOfFile = new Map([...fileOfLayer].map(([layer, file]) => [file, layer]));
  const layerOf = (node: string) => {
    const file = nodeFile.get(node);
    return file ? layerOfFile.get(file) : undefined;
  };
  return {
    view,
    nodeOf: (layer) => {
      const file = fileOfLayer.get(layer) ?? path.resolve(layerFile(ctx, layer));
      return view.nodes.find((n) => nodeFile.get(n.name) === file);
    },
    layerOf,
    describe: (node) => layerOf(node) ?? `node ${node} (${nodeNamed(view, node)?.file ?? "no file"})`,
    active: () => (view.active ? nodeNamed(view, view.active) : undefined),
  };
}

/** Every live step needs to know which node the guest writes to; guessing could snapshot the wrong disk. */
function noActiveNode(view: LiveView, ctx: LiveStepContext): CanopyError {
  const roots = view.roots.map((r) => `${r.kind} ${r.id} (node ${r.node})`);
  if (ctx.target?.exportId || ctx.target?.device) {
    const wanted = ctx.target.exportId ? `export ${ctx.target.exportId}` : `device ${ctx.target.device}`;
    return new CanopyError("failed", `disk ${ctx.disk}: QEMU has no ${wanted} (it has: ${roots.join(", ") || "none"})`);
  }
  return new CanopyError(
    "failed",
    roots.length
      ? `disk ${ctx.disk}: QEMU serves several disks (${roots.join(", ")}); say which one this is (target)`
      : `disk ${ctx.disk}: QEMU has no export or device attached, so no layer is being written`,
  );
}

/** Real path when the file exists (a root reached through a symlink must still match), else resolved. */
export async function canonical(file: string): Promise<string> {
  return realpath(file).catch(() => path.resolve(file));
}

export function callOptions(ctx: Pick<LiveStepContext, "callTimeoutMs">): { timeoutMs?: number } {
  return ctx.callTimeoutMs === undefined ? {} : { timeoutMs: ctx.callTimeoutMs };
}

/** Backing strings are stored relative to the overlay's folder, as the offline executor writes them. */
export function relativeBacking(overlayFile: string, backingFile: string): string {
  return path.relative(path.dirname(overlayFile), backingFile);
}
