import "server-only";
import { assertName } from "@/lib/inventory/names";
import { syncDiskBackups, type ChainView } from "./mirror";
import { effectivePolicy } from "./policy";

export interface DiskBackupsView {
  disk: string;
  policy: Awaited<ReturnType<typeof effectivePolicy>>;
  chains: ChainView[];
  /** Every backup, oldest first. */
  backups: ChainView["backups"];
}

/** A disk's backups as the repository holds them now (the mirror is brought up to date first). */
export async function listDiskBackups(disk: string): Promise<DiskBackupsView> {
  assertName("disk", disk);
  const chains = await syncDiskBackups(disk);
  return { disk, policy: await effectivePolicy(disk), chains, backups: chains.flatMap((c) => c.backups) };
}
