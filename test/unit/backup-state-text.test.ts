import { describe, expect, it } from "vitest";
import { describeHealth, describeLastBackup, describeNextRun } from "@/components/backups/backup-state-text";
import { formatAge, formatUntil } from "@/components/format/time";
import { scheduleOutlook } from "@/lib/backup/cron";
import type { LastBackup } from "@/server/backups/disk-backup-state";

const at = (s: string) => new Date(s); // local time (no Z), as the schedule is

describe("the next scheduled run", () => {
  const now = at("2026-03-04T10:15:30");

  it("comes from the schedule, in local time; no schedule, a bad one and one that never runs are answers", () => {
    expect(scheduleOutlook(null, now)).toEqual({ state: "none" });
    expect(scheduleOutlook("0 3 * * *", now)).toEqual({ state: "scheduled", schedule: "0 3 * * *", at: at("2026-03-05T03:00:00").toISOString() });
    expect(scheduleOutlook("0 0 30 2 *", now)).toEqual({ state: "never", schedule: "0 0 30 2 *" });
    const invalid = scheduleOutlook("61 * * * *", now);
    expect(invalid).toMatchObject({ state: "invalid", schedule: "61 * * * *" });
    expect(invalid.state === "invalid" && invalid.message).toContain('minute field "61"');
  });

  it("says how long until it, when, and whose schedule it is", () => {
    const next = { ...scheduleOutlook("0 3 * * *", now), fromOverride: false };
    expect(describeNextRun(next, now)).toEqual({
      tone: "neutral",
      headline: "in 17 h",
      detail: '2026-03-05 03:00 · the default schedule "0 3 * * *"',
    });
    const own = { ...scheduleOutlook("*/5 * * * *", now), fromOverride: true };
    expect(describeNextRun(own, now)).toMatchObject({ headline: "in 5 min", detail: '2026-03-04 10:20 · this disk\'s schedule "*/5 * * * *"' });
  });

  it("without a schedule it is plain; a schedule that can never run is amber, with the reason", () => {
    expect(describeNextRun({ state: "none", fromOverride: false }, now)).toEqual({ tone: "neutral", headline: "No schedule", detail: null });
    expect(describeNextRun({ ...scheduleOutlook("0 0 30 2 *", now), fromOverride: true }, now)).toMatchObject({
      tone: "amber",
      headline: "Never runs",
    });
    const bad = describeNextRun({ ...scheduleOutlook("61 * * * *", now), fromOverride: false }, now);
    expect(bad).toMatchObject({ tone: "amber", headline: "Invalid schedule" });
    expect(bad.detail).toMatch(/minute field "61".*the worker skips it$/);
  });
});

describe("bitmap health", () => {
  it("an incremental next means healthy bitmaps (green)", () => {
    expect(describeHealth({ state: "checked", kind: "incremental", reason: "incremental", detail: "changes tracked on 1C since backup b-1" })).toEqual({
      tone: "green",
      headline: "Healthy: next backup is incremental",
      detail: "changes tracked on 1C since backup b-1",
    });
  });

  it("a planned full (first backup, policy limit) is no alarm; any other reason is amber, said in words", () => {
    expect(describeHealth({ state: "checked", kind: "full", reason: "first-backup", detail: "the disk has no backup yet" })).toMatchObject({
      tone: "neutral",
      headline: "Next backup is full (first backup)",
    });
    expect(describeHealth({ state: "checked", kind: "full", reason: "policy", detail: "63 incrementals" }).tone).toBe("neutral");
    for (const [reason, words] of [
      ["bitmap-missing", "bitmap missing"],
      ["bitmap-inconsistent", "bitmap inconsistent"],
      ["disk-reverted", "disk reverted"],
      ["previous-failed-or-unverified", "previous failed / unverified"],
    ]) {
      const line = describeHealth({ state: "checked", kind: "full", reason: reason!, detail: "why" });
      expect(line, reason).toEqual({ tone: "amber", headline: `Next backup is full (${words})`, detail: "why" });
    }
  });

  it("a preview that failed is an error line; a job on the disk postpones the check", () => {
    expect(describeHealth({ state: "failed", message: "backing loop" })).toEqual({ tone: "red", headline: "Could not check the bitmaps", detail: "backing loop" });
    expect(describeHealth({ state: "busy", jobId: "j1", jobKind: "merge-down" })).toMatchObject({
      tone: "neutral",
      headline: "A merge-down job is running on this disk",
    });
  });
});

describe("the last backup", () => {
  const last: LastBackup = {
    id: "c-1",
    kind: "full",
    reason: "first-backup",
    reasonDetail: "the disk has no backup yet",
    seq: 1,
    pointInTime: "2026-03-04T10:00:00.000Z",
    completedAt: "2026-03-04T10:00:05.000Z",
    verifyStatus: "ok",
    verifyProblems: [],
    verifiedAt: "2026-03-04T10:00:05.000Z",
    chainIncrementals: 0,
    failedBefore: [],
  };

  it("verified is green and says why it was full; an incremental says what it holds", () => {
    expect(describeLastBackup(last)).toEqual({ tone: "green", headline: "Verified", detail: "first backup: the disk has no backup yet" });
    expect(describeLastBackup({ ...last, kind: "incremental", reason: "incremental", seq: 4 }).detail).toBe("changes since #3");
  });

  it("failed verification is red with the problems; not verified yet is amber", () => {
    expect(describeLastBackup({ ...last, verifyStatus: "failed", verifyProblems: ["sha256 differs", "qemu-img check: 2 errors"] })).toEqual({
      tone: "red",
      headline: "Failed verification",
      detail: "sha256 differs; qemu-img check: 2 errors",
    });
    expect(describeLastBackup({ ...last, verifyStatus: "pending" })).toMatchObject({ tone: "amber", headline: "Not verified yet" });
  });

  it("an incremental that passed its own check is red when a backup it restores through failed", () => {
    const inc = { ...last, kind: "incremental" as const, reason: "incremental", seq: 3 };
    expect(describeLastBackup({ ...inc, failedBefore: [0] })).toEqual({
      tone: "red",
      headline: "Chain failed verification",
      detail: "#0 of its chain failed verification; this backup restores through it",
    });
    expect(describeLastBackup({ ...inc, failedBefore: [0, 1, 2] }).detail).toBe(
      "#0, #1 and #2 of its chain failed verification; this backup restores through them",
    );
  });
});

describe("times before and after now", () => {
  const now = at("2026-03-04T10:00:00");
  it("past as an age, future as a wait, both in the same steps", () => {
    expect(formatAge("2026-03-04T09:55:00", now)).toBe("5 min ago");
    expect(formatUntil("2026-03-04T10:05:00", now)).toBe("in 5 min");
    expect(formatUntil("2026-03-04T13:00:00", now)).toBe("in 3 h");
    expect(formatUntil("2026-03-06T10:00:00", now)).toBe("in 2 days");
    expect(formatUntil("2026-03-04T10:00:20", now)).toBe("now");
    expect(formatUntil("2026-06-01T03:00:00", now)).toBe("on 2026-06-01");
    expect(formatAge("2026-03-04T10:00:20", now)).toBe("just now"); // a little clock skew stays "just now"
  });
});
