import type { BackupRecord, ChainManifest } from "./types";

/**
 * What may be deleted from a disk's backups. Pure: the caller passes the disk's chains (from the manifests).
 *
 * 1. Every backup of a chain depends on the one before it (its qcow2 backing file), so a backup goes only with
 *    everything stacked on it: deleting one takes the backups above it along (the plan names them in `along`),
 *    and deleting the full takes the whole chain.
 * 2. Nothing of a chain may go until a newer full backup exists (a newer chain whose full verified): until then
 *    the chain is what the disk's next incremental builds on, and the disk's newest restore points.
 * A refusal says why, names what depends on what, and says how to get there (a full backup first). Retention
 * (keep the newest N chains) deletes whole chains only, never one of the N newest usable ones, and previews
 * exactly what it would delete.
 */

export type DeleteRequest = { chainId: string } | { backupIds: string[] };

export interface DeletedBackup {
  chainId: string;
  id: string;
  file: string;
  fileSize: number;
}

export interface Dependency {
  backup: string;
  dependsOn: string;
}

export type DeletePlan =
  | {
      allowed: true;
      /** Chains removed whole (their folders go). */
      chains: string[];
      /** Every backup removed, chains' included, newest first within a chain. */
      backups: DeletedBackup[];
      /** Backups not asked for that go because they are stacked on one that was, oldest first. */
      along: string[];
      bytes: number;
      summary: string;
    }
  | { allowed: false; reason: string; dependents: Dependency[] };

const byAge = (chains: readonly ChainManifest[]) => [...chains].sort((a, b) => a.chainId.localeCompare(b.chainId));

/** A chain the disk could be restored from: it holds a full and every backup verified. */
export function isUsableChain(chain: ChainManifest): boolean {
  return chain.backups.length > 0 && chain.backups.every((b) => b.verify.status === "ok");
}

function newerFull(chains: readonly ChainManifest[], chain: ChainManifest): ChainManifest | undefined {
  return byAge(chains).find((c) => c.chainId > chain.chainId && c.backups[0]?.verify.status === "ok");
}

function deleted(chain: ChainManifest, backups: readonly BackupRecord[]): DeletedBackup[] {
  return [...backups]
    .sort((a, b) => b.seq - a.seq)
    .map((b) => ({ chainId: chain.chainId, id: b.id, file: b.file, fileSize: b.fileSize }));
}

export function planDeletion(chains: readonly ChainManifest[], request: DeleteRequest): DeletePlan {
  const refuse = (reason: string, dependents: Dependency[] = []): DeletePlan => ({ allowed: false, reason, dependents });

  // Group the request by chain; a chain id stands for all of its backups.
  const wanted = new Map<ChainManifest, Set<string>>();
  if ("chainId" in request) {
    const chain = chains.find((c) => c.chainId === request.chainId);
    if (!chain) return refuse(`there is no backup chain ${request.chainId}`);
    wanted.set(chain, new Set(chain.backups.map((b) => b.id)));
  } else {
    if (request.backupIds.length === 0) return refuse("no backup named");
    for (const id of request.backupIds) {
      const chain = chains.find((c) => c.backups.some((b) => b.id === id));
      if (!chain) return refuse(`there is no backup ${id}`);
      const set = wanted.get(chain) ?? new Set<string>();
      set.add(id);
      wanted.set(chain, set);
    }
  }

  const plan: Extract<DeletePlan, { allowed: true }> = { allowed: true, chains: [], backups: [], along: [], bytes: 0, summary: "" };
  for (const [chain, ids] of wanted) {
    // Rule 1: the lowest backup asked for takes everything above it along.
    const first = chain.backups.findIndex((b) => ids.has(b.id));
    const gone = first < 0 ? [] : chain.backups.slice(first);
    const along = gone.filter((b) => !ids.has(b.id)).map((b) => b.id);
    // Rule 2: an empty chain (a full that never completed) is no one's base.
    const newer = chain.backups.length ? newerFull(chains, chain) : undefined;
    if (chain.backups.length && !newer) {
      const tip = chain.backups.at(-1)!;
      const asked = "chainId" in request ? chain.backups[0]! : chain.backups[first]!;
      const stacked = chain.backups.slice(chain.backups.indexOf(asked) + 1).map((b) => b.id);
      return refuse(
        `chain ${chain.chainId} has no newer full backup: the disk's next incremental builds on ${tip.id} and these are ` +
          `its newest restore points. Take a full backup first (canopy backup ${chain.disk} --full, or Full backup); once it ` +
          `has verified, this delete takes ${asked.id}` +
          (stacked.length ? ` with what is stacked on it (${stacked.join(", ")} ${stacked.length === 1 ? "depends" : "depend"} on it)` : "") +
          (stacked.length === chain.backups.length - 1 ? `: the whole chain` : ""),
        [{ backup: "(the next incremental)", dependsOn: tip.id }],
      );
    }
    if (gone.length === chain.backups.length) plan.chains.push(chain.chainId);
    plan.backups.push(...deleted(chain, gone));
    plan.along.push(...along);
  }
  plan.bytes = plan.backups.reduce((sum, b) => sum + b.fileSize, 0);
  plan.summary =
    plan.chains.length && plan.chains.length === wanted.size
      ? `delete chain${plan.chains.length > 1 ? "s" : ""} ${plan.chains.join(", ")} (${plan.backups.length} backups, ${plan.bytes} bytes)`
      : `delete ${plan.backups.map((b) => b.id).join(", ")} (${plan.bytes} bytes)`;
  if (plan.along.length) {
    plan.summary += `; ${plan.along.join(", ")} ${plan.along.length === 1 ? "goes" : "go"} along, stacked on what was named`;
  }
  return plan;
}

export interface RetentionPreview {
  /** Chains kept, newest first. */
  keep: string[];
  /** Chains retention deletes, whole, oldest first; empty when there is nothing to do. */
  delete: string[];
  plan: DeletePlan;
}

/**
 * Keep the newest `keepChains` usable chains (and anything newer than the oldest of them); delete every chain
 * older. With fewer usable chains than that, nothing goes: a broken newer chain never pushes out a good one.
 */
export function planRetention(chains: readonly ChainManifest[], policy: { keepChains: number }): RetentionPreview {
  const keepChains = Math.max(1, Math.floor(policy.keepChains));
  const newestFirst = byAge(chains).reverse();
  let usable = 0;
  let cut = newestFirst.length;
  for (const [i, chain] of newestFirst.entries()) {
    if (isUsableChain(chain)) usable++;
    if (usable === keepChains) {
      cut = i + 1;
      break;
    }
  }
  const keep = newestFirst.slice(0, cut).map((c) => c.chainId);
  const doomed = newestFirst.slice(cut).reverse();
  if (doomed.length === 0) {
    return { keep, delete: [], plan: { allowed: true, chains: [], backups: [], along: [], bytes: 0, summary: "nothing to delete" } };
  }
  const plans = doomed.map((c) => planDeletion(chains, { chainId: c.chainId }));
  const refused = plans.find((p) => !p.allowed);
  if (refused) return { keep, delete: [], plan: refused };
  const allowed = plans.filter((p): p is Extract<DeletePlan, { allowed: true }> => p.allowed);
  const bytes = allowed.reduce((sum, p) => sum + p.bytes, 0);
  const chainIds = allowed.flatMap((p) => p.chains);
  return {
    keep,
    delete: doomed.map((c) => c.chainId),
    plan: {
      allowed: true,
      chains: chainIds,
      backups: allowed.flatMap((p) => p.backups),
      along: [],
      bytes,
      summary: `delete chain${chainIds.length > 1 ? "s" : ""} ${chainIds.join(", ")} (${bytes} bytes), keep the newest ${keepChains}`,
    },
  };
}
