import "dotenv/config";
import { scanAndRecord } from "../sync-inventory";
import { loadConfig } from "../config";

/**
 * The job worker runs outside any web request. For now it keeps the inventory fresh: it rescans the storage
 * root periodically so disks created or changed by other tools show up without a manual scan.
 */
const intervalMs = Number(process.env.CANOPY_SCAN_INTERVAL_MS ?? 30_000);
let stopping = false;
let timer: NodeJS.Timeout | undefined;

async function tick(): Promise<void> {
  try {
    await scanAndRecord(loadConfig().storageRoot);
  } catch (err) {
    console.error(`canopy worker: scan failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!stopping) timer = setTimeout(tick, intervalMs);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    stopping = true;
    if (timer) clearTimeout(timer);
    process.exit(0);
  });
}

console.log(`canopy worker: pid ${process.pid}, rescanning every ${intervalMs} ms`);
await tick();
