import { CanopyError } from "../errors";
import { createExclusive } from "../inventory/paths";
import { OWNER_ONLY_FILE } from "../owner-only";
import * as img from "../qemu/img";
import { QmpError } from "../qmp/errors";
import { BlockJob, type JobResult } from "../qmp/jobs";
import type { TransactionAction } from "../qmp/types";
import type { KindDecision } from "./decide-kind";
import { isCanopyBitmap, qemuId } from "./names";
import type { QemuSession } from "./qemu-session";

/**
 * The replication stage: QEMU's backup job copies the disk as it was at one instant into a staging qcow2 file
 * (only allocated data; a full copies the whole chain's view, an incremental only the clusters the bitmaps mark).
 *
 * Everything that fixes the point in time happens in ONE transaction, which QEMU runs with guest I/O drained:
 * - full: create the new chain's persistent bitmap + start the backup. Separately, a write between the two
 *   would be in neither the backup nor the bitmap, and the next incremental would miss it.
 * - incremental: merge the bitmaps of the older layers in the range into the active layer's bitmap + start
 *   the backup with that bitmap in `bitmap-mode: on-success`. QEMU freezes the bitmap at that instant and
 *   records new writes in a successor; on success the successor replaces it (the copied marks are cleared
 *   exactly, nothing written during the job is lost), on failure or cancel it is merged back (nothing is
 *   cleared). See README.md here for why this beats a temporary bitmap plus a clear.
 */

export interface ReplicateInput {
  session: QemuSession;
  decision: KindDecision;
  /** The bitmap a full creates (the new chain's); an incremental uses decision.bitmap. */
  newBitmap: string;
  activeLayer: string;
  /** An empty qcow2 of the disk's size, made by createStagingFile. */
  stagingFile: string;
  /** Bytes per second the job may copy; 0 or undefined: as fast as it goes. */
  speed?: number;
  /** QEMU compresses each cluster it writes; the staging file must be made with the same flag. */
  compress?: boolean;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  onPointInTime?: (at: Date) => void;
}

export interface ReplicateResult {
  pointInTime: Date;
  warnings: string[];
}

/** A replication that did not complete; `bitmapIntact` says whether the disk's tracking is as it was before. */
export class ReplicationError extends CanopyError {
  constructor(
    message: string,
    readonly bitmapIntact: boolean,
    readonly cancelled = false,
  ) {
    super("failed", message);
    this.name = "ReplicationError";
  }
}

export async function replicate(input: ReplicateInput): Promise<ReplicateResult> {
  const { session, decision } = input;
  const client = session.client;
  const device = session.nodeOf(input.activeLayer);
  const stageNode = qemuId("canopy-stage");
  const jobId = qemuId("canopy-backup");
  const bitmap = decision.kind === "full" ? input.newBitmap : decision.bitmap;
  const warnings: string[] = [];

  // backing: null: the previous backups are not opened; the header keeps the relative name for the repository.
  // no-flush: QEMU leaves the syncing to the transfer stage, which syncs the file while it hashes it (one pass
  // where there were two waits); the staged file only counts once that sync is done.
  await client.execute("blockdev-add", {
    driver: "qcow2",
    "node-name": stageNode,
    file: { driver: "file", filename: input.stagingFile },
    backing: null,
    cache: { "no-flush": true },
  });
  let started = false;
  let result: JobResult | undefined;
  try {
    if (input.signal?.aborted) throw new ReplicationError("the backup was cancelled before it started", true, true);
    const backup = {
      "job-id": jobId,
      device,
      target: stageNode,
      "auto-dismiss": false,
      ...(input.speed ? { speed: input.speed } : {}),
      // The job then writes whole target clusters, each compressed alone (one that does not shrink is stored
      // plain); zeroes stay zero clusters. Works with every sync mode and through copy-before-write.
      // Otherwise the data goes by copy_file_range(2): the kernel copies it without passing it through QEMU's
      // buffers, 2-3x faster here. QEMU falls back to reads and writes where the file systems cannot.
      ...(input.compress ? { compress: true } : { "x-perf": { "use-copy-range": true } }),
    };
    const actions: TransactionAction[] =
      decision.kind === "full"
        ? [
            { type: "block-dirty-bitmap-add", data: { node: device, name: bitmap, persistent: true } },
            { type: "blockdev-backup", data: { ...backup, sync: "full" } },
          ]
        : [
            ...mergeAction(session, decision.bitmapLayers, bitmap),
            { type: "blockdev-backup", data: { ...backup, sync: "bitmap", bitmap, "bitmap-mode": "on-success" } },
          ];
    try {
      await client.execute("transaction", { actions });
    } catch (err) {
      if (err instanceof QmpError) throw new ReplicationError(`QEMU refused to start the backup: ${err.desc}`, true);
      throw new ReplicationError(`starting the backup: ${(err as Error).message}`, false);
    }
    started = true;
    const pointInTime = new Date();
    input.onPointInTime?.(pointInTime);
    try {
      const job = await BlockJob.attach(client, jobId, {
        signal: input.signal,
        pollIntervalMs: 200,
        onProgress: (p) => input.onProgress?.(p.current, p.total),
      });
      result = await job.done;
    } catch (err) {
      // The connection is gone (QEMU died, or the client was closed): what QEMU did with the bitmap is unknown.
      throw new ReplicationError(`the backup job was lost: ${(err as Error).message}`, false);
    }
    if (result.outcome !== "completed") {
      const why = result.outcome === "cancelled" ? "was cancelled" : `failed: ${result.error.desc}`;
      // QEMU reported the end itself: with on-success the marks were merged back, so tracking is intact.
      throw new ReplicationError(`the backup job ${why}`, true, result.outcome === "cancelled");
    }
    if (decision.kind === "full") warnings.push(...(await removeOtherBitmaps(session, device, bitmap)));
    return { pointInTime, warnings };
  } catch (err) {
    // A full that did not complete leaves no chain: its new bitmap would only cost writes.
    if (started && decision.kind === "full" && !client.closed) {
      await client.execute("block-dirty-bitmap-remove", { node: device, name: bitmap }).catch(() => undefined);
    }
    throw err;
  } finally {
    // Closing the node flushes the staging file.
    if (!client.closed) {
      await client.execute("blockdev-del", { "node-name": stageNode }).catch((err: Error) => {
        warnings.push(`could not close the staging node: ${err.message}`);
      });
    }
  }
}

function mergeAction(session: QemuSession, layers: readonly string[], bitmap: string): TransactionAction[] {
  const [active, ...older] = layers;
  if (!active || older.length === 0) return [];
  return [
    {
      type: "block-dirty-bitmap-merge",
      data: {
        node: session.nodeOf(active),
        target: bitmap,
        bitmaps: older.map((layer) => ({ node: session.nodeOf(layer), name: bitmap })),
      },
    },
  ];
}

/**
 * A new chain makes older chains' bitmaps useless (incrementals only continue the newest chain); they would
 * cost a little on every guest write. Removed on the active layer only: backing layers are read-only, and a
 * frozen bitmap costs nothing. Inconsistent ones (after a crash) can only be removed, which is what this does.
 */
async function removeOtherBitmaps(session: QemuSession, node: string, keep: string): Promise<string[]> {
  const warnings: string[] = [];
  const nodes = await session.client.execute("query-named-block-nodes", { flat: true });
  const bitmaps = nodes.find((n) => n["node-name"] === node)?.["dirty-bitmaps"] ?? [];
  for (const b of bitmaps) {
    if (!b.name || b.name === keep || !isCanopyBitmap(b.name)) continue;
    await session.client.execute("block-dirty-bitmap-remove", { node, name: b.name }).catch((err: Error) => {
      warnings.push(`could not remove the old bitmap ${b.name}: ${err.message}`);
    });
  }
  return warnings;
}

/**
 * The job's target. `-u`: the backing name (the previous backup) is written as it is, not opened: it is only
 * valid once the file is in its chain folder, and the job opens the target alone (`backing: null`).
 *
 * The default 64 KiB clusters are also the unit the job copies and compresses (QEMU takes the larger of 64 KiB
 * and the target's cluster): bigger clusters would compress a little better but make every incremental copy
 * whole big clusters. A file that will hold compressed clusters uses zstd, not qcow2's default zlib: the job
 * ran 3-5 times faster here and the files came out a little smaller (figures in README.md). Reading the file
 * needs QEMU >= 5.1 built with zstd (an incompatible-feature bit in the header), so only compressed backups
 * get it.
 */
export async function createStagingFile(
  file: string,
  size: number,
  backingName: string | null,
  opts: { compress?: boolean } = {},
): Promise<void> {
  // qemu-img follows a link at its target: it writes into this file, made without following one (a name taken in
  // any form is refused).
  await createExclusive(file, { mode: OWNER_ONLY_FILE });
  await img.create(file, {
    size,
    ...(backingName ? { backing: backingName, backingUnopened: true } : {}),
    ...(opts.compress ? { compressionType: "zstd" as const } : {}),
  });
}
