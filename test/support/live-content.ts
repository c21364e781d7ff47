import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { MiB, SEED_VIRTUAL_SIZE } from "@/lib/demo/seed";
import { run } from "@/lib/proc/run";
import { makeTempDir } from "./tmp";
import type { WriteRecord } from "./live-writer";

/**
 * What a disk image should read as, unit by unit (4 KiB), as the set of byte values each unit may hold: one
 * value where the outcome is certain, several where it legitimately is not (a write in flight while a
 * snapshot was taken, a write that failed, a cancelled commit that copied part of its data). Checked against
 * the whole guest-visible image, read back with qemu-img convert once QEMU has let go of the files.
 */

export const UNIT = 4096;
export type Units = Array<Set<number>>;

/** From per-MiB seed blocks (lib/demo/seed.ts visibleBlocks). */
export function unitsFromBlocks(blocks: number[], size = SEED_VIRTUAL_SIZE): Units {
  return Array.from({ length: size / UNIT }, (_, u) => new Set([blocks[Math.floor((u * UNIT) / MiB)] ?? 0]));
}

/**
 * The writer's writes on top of `units`. Without a cut, every answered-ok write landed and a failed one may or
 * may not have. With a cut (a snapshot taken somewhere in [from, to]), a write answered before `from` is in,
 * one sent after `to` is out, and one in between may be either.
 */
export function withWrites(units: Units, writes: WriteRecord[], cut?: { from: number; to: number }): Units {
  const out = units.map((s) => new Set(s));
  const bySlot = new Map<number, WriteRecord[]>();
  for (const w of [...writes].sort((a, b) => a.index - b.index)) {
    const list = bySlot.get(w.offset) ?? [];
    list.push(w);
    bySlot.set(w.offset, list);
  }
  for (const [offset, list] of bySlot) {
    let allowed = new Set(units[offset / UNIT]!);
    for (const w of list) {
      const surelyIn = w.ok && (!cut || w.endedAt <= cut.from);
      const surelyOut = cut !== undefined && w.startedAt >= cut.to;
      if (surelyOut) continue;
      if (surelyIn) allowed = new Set([w.pattern]);
      else allowed.add(w.pattern);
    }
    for (let u = offset / UNIT; u < (offset + list[0]!.length) / UNIT; u++) out[u] = new Set(allowed);
  }
  return out;
}

/** Either outcome is acceptable, unit by unit (a partly copied commit: each unit old or new). */
export function eitherOf(a: Units, b: Units): Units {
  return a.map((s, i) => new Set([...s, ...b[i]!]));
}

/** The guest-visible bytes of an image (through its backing chain), as one buffer. */
export async function readImage(file: string, opts: { shareLocks?: boolean } = {}): Promise<Buffer> {
  const dir = await makeTempDir("canopy-live-read-");
  const raw = path.join(dir, "image.raw");
  await run("qemu-img", ["convert", ...(opts.shareLocks ? ["-U"] : []), "-O", "raw", file, raw], { timeoutMs: 60_000 });
  try {
    return await readFile(raw);
  } finally {
    await rm(raw, { force: true });
  }
}

/** Lists the units that hold a value they may not (at most `limit`, for a readable failure). */
export function mismatches(image: Buffer, units: Units, limit = 8): string[] {
  const bad: string[] = [];
  if (image.length !== units.length * UNIT) bad.push(`size ${image.length}, expected ${units.length * UNIT}`);
  for (let u = 0; u < units.length && bad.length < limit; u++) {
    const allowed = units[u]!;
    const start = u * UNIT;
    for (let i = start; i < start + UNIT; i++) {
      if (!allowed.has(image[i]!)) {
        bad.push(`offset ${i} (unit ${u}): 0x${image[i]!.toString(16)}, allowed ${[...allowed].map((v) => `0x${v.toString(16)}`).join("|")}`);
        break;
      }
    }
  }
  return bad;
}

export async function imageMismatches(file: string, units: Units, opts: { shareLocks?: boolean } = {}): Promise<string[]> {
  return mismatches(await readImage(file, opts), units);
}
