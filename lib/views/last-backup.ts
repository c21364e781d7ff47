/**
 * A disk's newest backup as the dashboard shows it (the disk page's backup strip, the Backups overview), made
 * from Backup rows by one function so both say the same thing. Plain data in, plain data out: no database.
 */

/** What is needed of one Backup row. */
export interface BackupFacts {
  id: string;
  disk: string;
  chainId: string;
  seq: number;
  kind: string;
  reason: string;
  reasonDetail: string;
  pointInTime: Date;
  completedAt: Date;
  fileSize: number;
  verifyStatus: string;
  /** JSON array, as the table stores it. */
  verifyProblems: string;
  verifiedAt: Date | null;
}

export interface LastBackup {
  id: string;
  kind: "full" | "incremental";
  reason: string;
  reasonDetail: string;
  seq: number;
  pointInTime: string;
  completedAt: string;
  verifyStatus: "pending" | "ok" | "failed";
  verifyProblems: string[];
  verifiedAt: string | null;
  /** Incrementals in its chain so far, toward the policy's limit. */
  chainIncrementals: number;
  /**
   * Sequence numbers of the earlier backups of its chain that failed verification. Verify checks each file by
   * itself, so a backup can pass while the full it restores through failed: it cannot be restored either.
   */
  failedBefore: number[];
}

/** `backups`: the disk's Backup rows (at least those of the newest one's chain, it included). */
export function toLastBackup(newest: BackupFacts, backups: readonly BackupFacts[]): LastBackup {
  const chain = backups.filter((b) => b.chainId === newest.chainId);
  return {
    id: newest.id,
    kind: newest.kind === "incremental" ? "incremental" : "full",
    reason: newest.reason,
    reasonDetail: newest.reasonDetail,
    seq: newest.seq,
    pointInTime: newest.pointInTime.toISOString(),
    completedAt: newest.completedAt.toISOString(),
    verifyStatus: newest.verifyStatus === "ok" || newest.verifyStatus === "failed" ? newest.verifyStatus : "pending",
    verifyProblems: parseProblems(newest.verifyProblems),
    verifiedAt: newest.verifiedAt?.toISOString() ?? null,
    chainIncrementals: Math.max(0, chain.length - 1),
    failedBefore: chain
      .filter((b) => b.seq < newest.seq && b.verifyStatus === "failed")
      .map((b) => b.seq)
      .sort((a, b) => a - b),
  };
}

/** A row written by hand or by an older version must not take a page down. */
function parseProblems(json: string): string[] {
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? value.map(String) : [];
  } catch {
    return [];
  }
}

/** Failed backups a restore of this one reads: those before it in its chain, and itself. */
export function failuresOnRestorePath(last: LastBackup): number {
  return last.failedBefore.length + (last.verifyStatus === "failed" ? 1 : 0);
}
