import "dotenv/config";
import { mkdir } from "node:fs/promises";
import { mkdirOwnerOnly, tightenToOwner } from "@/lib/owner-only";
import { createSeedRoot, isEmptyRoot } from "@/lib/demo/seed";
import { ensureAdmin } from "@/server/auth/ensure-admin";
import { loadConfig } from "@/server/config";
import { scanAndRecord } from "@/server/sync-inventory";
import { getDb } from "@/server/db";

/**
 * Creates the demo storage root when the configured root is empty (and only then: an existing root is never
 * written to), then scans it into the database, and makes sure the admin account exists (printing its
 * password the one time it is generated).
 */
const { storageRoot, backupRoot } = loadConfig();
await mkdirOwnerOnly(backupRoot);
await tightenToOwner(backupRoot);
let demoCreated = false;
if (await isEmptyRoot(storageRoot)) {
  await mkdir(storageRoot, { recursive: true });
  console.log(`canopy: creating the demo storage root in ${storageRoot}`);
  await createSeedRoot(storageRoot);
  demoCreated = true;
}
const result = await scanAndRecord(storageRoot);
const problems = result.disks.reduce((n, d) => n + d.problems.length, 0);
console.log(
  `canopy: ${result.disks.length} disk(s) under ${storageRoot} (${problems} problem(s)), scanned in ${result.durationMs} ms`,
);

if (demoCreated) {
  // The demo shows one running disk (scripts/demo-live.ts starts it).
  await getDb().setting.upsert({ where: { key: "demo.liveDisk" }, create: { key: "demo.liveDisk", value: "vm-2" }, update: {} });
}

const admin = await ensureAdmin();
if (admin.action === "created" && admin.generatedPassword) {
  console.log(`canopy: created the dashboard account "${admin.name}"; its password, shown only this once:`);
  console.log(`canopy:     ${admin.generatedPassword}`);
  console.log("canopy: (set CANOPY_ADMIN_PASSWORD to choose the password instead, or to reset it later)");
} else if (admin.action === "created") {
  console.log(`canopy: created the dashboard account "${admin.name}" with the password in CANOPY_ADMIN_PASSWORD`);
} else if (admin.action === "password-reset") {
  console.log(`canopy: the password of "${admin.name}" is now the one in CANOPY_ADMIN_PASSWORD (its sessions were ended)`);
}
