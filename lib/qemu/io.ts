import { spawn, type ChildProcessByStdio } from "node:child_process";
import type { Writable } from "node:stream";
import { run } from "../proc/run";

/**
 * qemu-io for writing and reading recognisable patterns: the demo uses it to give every layer its own data,
 * and the tests use it to read back the guest-visible bytes of every layer. The only code that names its binary.
 */

const QEMU_IO = process.env.CANOPY_QEMU_IO ?? "qemu-io";
const TIMEOUT_MS = 120_000;

export interface PatternRange {
  /** One byte, 0..255, that fills the range. */
  pattern: number;
  offset: number;
  length: number;
}

export async function writePatterns(path: string, ranges: PatternRange[]): Promise<void> {
  if (ranges.length === 0) return;
  const args = ["-f", "qcow2"];
  for (const r of ranges) args.push("-c", `write -P 0x${r.pattern.toString(16)} ${r.offset} ${r.length}`);
  args.push(path);
  await run(QEMU_IO, args, { timeoutMs: TIMEOUT_MS });
}

/**
 * True when every range reads back as its pattern. qemu-io exits 1 on a mismatch but keeps going through the
 * other commands, so the output decides which reads failed.
 */
export async function readPatternsMatch(
  path: string,
  ranges: PatternRange[],
  opts: { shareLocks?: boolean } = {},
): Promise<boolean> {
  const args = ["-f", "qcow2", "-r", ...(opts.shareLocks ? ["-U"] : [])];
  for (const r of ranges) args.push("-c", `read -P 0x${r.pattern.toString(16)} ${r.offset} ${r.length}`);
  args.push(path);
  const { stdout, stderr } = await run(QEMU_IO, args, { timeoutMs: TIMEOUT_MS, okExitCodes: [0, 1] });
  const out = stdout + stderr;
  const reads = (out.match(/^read \d+\/\d+ bytes/gm) ?? []).length;
  return reads === ranges.length && !/verification failed|error/i.test(out);
}

/**
 * An interactive qemu-io on `target` (a file or an NBD URI): one command a line on its stdin, output discarded.
 * It runs until its stdin ends (write "quit\n" and end it), so it has no timeout and does not go through run():
 * the demo's stand-in guest, which writes for as long as the demo runs.
 */
export function startInteractive(target: string, format: "raw" | "qcow2"): ChildProcessByStdio<Writable, null, null> {
  return spawn(QEMU_IO, ["-f", format, target], { stdio: ["pipe", "ignore", "ignore"] });
}
