import { w, MiB, type SeedLayer } from "@/lib/demo/seed";

/**
 * Disks for the crash tests: big enough (a few hundred MiB of data) that a kill can land inside a copy, small
 * enough for a test to make in seconds. Each layer writes its own patterns, so every layer's content is known.
 * B2's data lies in the second 512 MiB of the disk: a commit into B0 then needs a second L2 table, whose
 * allocation writes B0's refcounts while the first table's new entries are still only in qemu-img's memory, so
 * a kill after that point leaves leaked clusters in B0 (measured: about 50 at 130 MiB copied, 2700 at 256).
 */
export const CRASH_SIZE = 1024 * MiB;
/** B0 has grown by this much when a commit of B1..B2 into it is copying B2's data (and leaks if killed). */
export const COMMIT_LEAKS_AFTER = 150 * MiB;
export const LINEAR: SeedLayer[] = [
  { folder: "big", name: "B0", parent: null, writes: [w(0x10, 0, 64)] },
  { folder: "big", name: "B1", parent: "B0", writes: [w(0x11, 64, 96), w(0x12, 0, 16)] },
  { folder: "big", name: "B2", parent: "B1", writes: [w(0x13, 600, 160), w(0x14, 32, 16)] },
  { folder: "big", name: "B3", parent: "B2", writes: [w(0x15, 300, 8), w(0x16, 70, 4)] },
];
/** B1 has two children, so deleting it cannot merge down: it is pulled into B2 and into X. */
export const BRANCHED: SeedLayer[] = [...LINEAR, { folder: "big", name: "X", parent: "B1", writes: [w(0x17, 400, 4)] }];
