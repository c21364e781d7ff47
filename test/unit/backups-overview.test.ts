import { describe, expect, it } from "vitest";
import { overviewRows, summarizeOverview, type BackupFacts, type PolicyFacts } from "@/lib/views/backup-overview";
import { filterOverviewRows, toggleFilter } from "@/components/backups/overview-filter";

const now = new Date("2026-03-04T10:15:30"); // local time, as the schedule is

let seqOf = 0;
function backup(disk: string, chainId: string, seq: number, at: string, extra: Partial<BackupFacts> = {}): BackupFacts {
  seqOf++;
  return {
    id: `${chainId}-${seq}`,
    disk,
    chainId,
    seq,
    kind: seq === 0 ? "full" : "incremental",
    reason: seq === 0 ? "first-backup" : "incremental",
    reasonDetail: "",
    pointInTime: new Date(at),
    completedAt: new Date(at),
    fileSize: 1000 * (seqOf % 7 + 1),
    verifyStatus: "ok",
    verifyProblems: "[]",
    verifiedAt: new Date(at),
    ...extra,
  };
}

const DEFAULT: PolicyFacts = { maxIncrementals: 63, schedule: null, scheduleOverridden: false };

describe("the backups overview's rows", () => {
  const disks = [
    { name: "vm-10", status: "stopped" as const, usedBytes: 5_000 },
    { name: "vm-2", status: "running" as const, usedBytes: 40_000 },
    { name: "empty", status: "stopped" as const, usedBytes: 100 },
  ];
  const backups = [
    // vm-2: an old chain of two, then the current chain of three (listed out of order, as a query may return them).
    backup("vm-2", "c2", 1, "2026-03-03T10:00:00Z"),
    backup("vm-2", "c1", 0, "2026-03-01T10:00:00Z"),
    backup("vm-2", "c2", 2, "2026-03-03T11:00:00Z"),
    backup("vm-2", "c1", 1, "2026-03-01T11:00:00Z", { verifyStatus: "failed", verifyProblems: '["sha256 mismatch"]' }),
    backup("vm-2", "c2", 0, "2026-03-02T10:00:00Z"),
    // vm-10: one full that failed its check.
    backup("vm-10", "d1", 0, "2026-03-04T09:00:00Z", { verifyStatus: "failed", verifyProblems: '["header unreadable"]' }),
    // old-vm: its folder is gone, its backup is not.
    backup("old-vm", "e1", 0, "2026-02-01T09:00:00Z", { verifyStatus: "pending", verifyProblems: "not json" }),
  ];
  const policyOf = (disk: string): PolicyFacts =>
    disk === "vm-2" ? { maxIncrementals: 7, schedule: "0 3 * * *", scheduleOverridden: true } : DEFAULT;
  const rows = overviewRows(disks, backups, policyOf, now);
  const row = (disk: string) => rows.find((r) => r.disk === disk)!;

  it("lists every disk and every gone disk with backups, by name as people sort (vm-2 before vm-10)", () => {
    expect(rows.map((r) => r.disk)).toEqual(["empty", "old-vm", "vm-2", "vm-10"]);
    expect(row("old-vm")).toMatchObject({ status: "gone", usedBytes: null, next: null, backups: 1, chains: 1 });
    expect(row("empty")).toMatchObject({ status: "stopped", backups: 0, chains: 0, storedBytes: 0, last: null, failedVerifies: 0 });
  });

  it("gives the newest backup with its chain's count toward the disk's own limit", () => {
    const r = row("vm-2");
    expect(r.last).toMatchObject({ id: "c2-2", kind: "incremental", seq: 2, chainIncrementals: 2, verifyStatus: "ok" });
    expect(r.maxIncrementals).toBe(7);
    expect(r).toMatchObject({ status: "running", backups: 5, chains: 2, usedBytes: 40_000 });
    expect(r.storedBytes).toBe(backups.filter((b) => b.disk === "vm-2").reduce((n, b) => n + b.fileSize, 0));
  });

  it("counts failed verifications in every chain, and keeps the newest backup's problems", () => {
    expect(row("vm-2").failedVerifies).toBe(1); // an older chain's incremental
    expect(row("vm-10").failedVerifies).toBe(1);
    expect(row("vm-10").last).toMatchObject({ kind: "full", verifyStatus: "failed", verifyProblems: ["header unreadable"], chainIncrementals: 0 });
    // A problems column that is not JSON reads as none rather than failing the page.
    expect(row("old-vm").last).toMatchObject({ verifyStatus: "pending", verifyProblems: [] });
  });

  it("says when the newest backup restores through one that failed, though it passed its own check", () => {
    expect(row("vm-2").last?.failedBefore).toEqual([]); // the failure is in the older chain
    expect(row("vm-10").last).toMatchObject({ verifyStatus: "failed", failedBefore: [] }); // itself, nothing before it
    const broken = overviewRows(
      [{ name: "b", status: "stopped", usedBytes: 1 }],
      [
        backup("b", "c", 0, "2026-03-01T10:00:00Z", { verifyStatus: "failed" }),
        backup("b", "c", 1, "2026-03-02T10:00:00Z"),
        backup("b", "c", 2, "2026-03-03T10:00:00Z"),
      ],
      () => DEFAULT,
      now,
    )[0]!;
    expect(broken.last).toMatchObject({ seq: 2, verifyStatus: "ok" });
    expect(broken).toMatchObject({ last: { failedBefore: [0] }, failedVerifies: 1 });
  });

  it("breaks a tie in point in time by sequence", () => {
    const tie = overviewRows(
      [{ name: "t", status: "stopped", usedBytes: 1 }],
      [backup("t", "c", 1, "2026-03-03T10:00:00Z"), backup("t", "c", 0, "2026-03-03T10:00:00Z")],
      () => DEFAULT,
      now,
    );
    expect(tie[0]!.last!.id).toBe("c-1");
  });

  it("works the next run out from the disk's policy; a gone disk has none (the schedule skips it)", () => {
    expect(row("vm-2").next).toEqual({ state: "scheduled", schedule: "0 3 * * *", at: new Date("2026-03-05T03:00:00").toISOString(), fromOverride: true });
    expect(row("vm-10").next).toEqual({ state: "none", fromOverride: false });
    expect(row("old-vm").next).toBeNull();
  });

  it("sums up: disks never backed up, failed verifications, bytes stored against bytes used", () => {
    expect(summarizeOverview(rows)).toEqual({
      disks: 3,
      withoutBackup: 1,
      failedVerifies: 2,
      disksWithFailedVerifies: 2,
      storedBytes: backups.reduce((n, b) => n + b.fileSize, 0),
      usedBytes: 45_100,
    });
  });

  it("filters to the disks that need a look; a second press shows them all", () => {
    expect(filterOverviewRows(rows, "no-backup").map((r) => r.disk)).toEqual(["empty"]);
    expect(filterOverviewRows(rows, "failed-verify").map((r) => r.disk)).toEqual(["vm-2", "vm-10"]);
    expect(filterOverviewRows(rows, "all")).toHaveLength(4);
    expect(toggleFilter("all", "no-backup")).toBe("no-backup");
    expect(toggleFilter("no-backup", "no-backup")).toBe("all");
    expect(toggleFilter("no-backup", "failed-verify")).toBe("failed-verify");
  });
});
