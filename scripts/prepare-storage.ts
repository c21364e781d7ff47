import "dotenv/config";
import { mkdir } from "node:fs/promises";
import { createSeedRoot, isEmptyRoot } from "@/lib/demo/seed";
import { loadConfig } from "@/server/config";
import { scanAndRecord } from "@/server/sync-inventory";

/**
 * Creates the demo storage root when the configured root is empty (and only then: an existing root is never
 * written to), then scans it into the database.
 */
const { storageRoot, backupRoot } = loadConfig();
await mkdir(backupRoot, { recursive: true });
if (await isEmptyRoot(storageRoot)) {
  await mkdir(storageRoot, { recursive: true });
  console.log(`canopy: creating the demo storage root in ${storageRoot}`);
  await createSeedRoot(storageRoot);
}
const result = await scanAndRecord(storageRoot);
const problems = result.disks.reduce((n, d) => n + d.problems.length, 0);
console.log(
  `canopy: ${result.disks.length} disk(s) under ${storageRoot} (${problems} problem(s)), scanned in ${result.durationMs} ms`,
);
