import { run, type RunOptions } from "../proc/run";

/**
 * `qemu-img bitmap` on an image nothing else holds open: the offline way to add, enable, disable, merge and
 * remove persistent dirty bitmaps (the snapshot and merge code call it through dirty-tracking.ts).
 */

const QEMU_IMG = process.env.CANOPY_QEMU_IMG ?? "qemu-img";
const TIMEOUT_MS = 120_000;

export type BitmapChange =
  | { op: "add"; granularity?: number }
  | { op: "remove" }
  | { op: "enable" }
  | { op: "disable" }
  /** Sets in `bitmap` every bit set in `source` (a bitmap of `from`, or of the image itself). */
  | { op: "merge"; source: string; from?: string };

export async function changeBitmap(
  image: string,
  bitmap: string,
  change: BitmapChange,
  opts: Pick<RunOptions, "signal"> = {},
): Promise<void> {
  const args = ["bitmap", "-f", "qcow2"];
  switch (change.op) {
    case "add":
      args.push("--add", ...(change.granularity ? ["-g", String(change.granularity)] : []));
      break;
    case "merge":
      args.push("--merge", change.source, ...(change.from ? ["-b", change.from, "-F", "qcow2"] : []));
      break;
    default:
      args.push(`--${change.op}`);
  }
  args.push(image, bitmap);
  await run(QEMU_IMG, args, { timeoutMs: TIMEOUT_MS, ...opts });
}
