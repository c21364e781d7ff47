import type { NextRun } from "@/lib/backup/cron";
import type { LastBackup } from "@/lib/views/last-backup";
import type { BitmapHealth } from "@/server/backups/disk-backup-state";
import { formatDateTime, formatUntil } from "@/components/format/time";
import { chainFailureWords, reasonLabel } from "./backup-labels";

/**
 * What the disk page's backup panel says, and in which colour, as plain functions of the server's answer (so
 * the wording is tested without a browser). Red: a backup that failed verification. Amber: something an admin
 * should look at (the next backup is full because of a problem, a schedule that never runs). Green: healthy.
 */

export type PanelTone = "green" | "amber" | "red" | "neutral";

export interface PanelLine {
  tone: PanelTone;
  headline: string;
  detail: string | null;
}

/** Fulls that are part of the plan: nothing to fix. Any other reason means the bitmaps could not be used. */
const PLANNED_FULL = new Set(["first-backup", "policy", "requested-full"]);

export function describeHealth(health: BitmapHealth): PanelLine {
  switch (health.state) {
    case "busy":
      return {
        tone: "neutral",
        headline: `A ${health.jobKind} job is running on this disk`,
        detail: "The bitmaps are checked again when it ends.",
      };
    case "failed":
      return { tone: "red", headline: "Could not check the bitmaps", detail: health.message };
    case "checked":
      if (health.kind === "incremental") {
        return { tone: "green", headline: "Healthy: next backup is incremental", detail: health.detail };
      }
      return {
        tone: PLANNED_FULL.has(health.reason) ? "neutral" : "amber",
        headline: `Next backup is full (${reasonLabel(health.reason)})`,
        detail: health.detail,
      };
  }
}

export function describeNextRun(next: NextRun, now: Date = new Date()): PanelLine {
  if (next.state === "none") return { tone: "neutral", headline: "No schedule", detail: null };
  const where = next.fromOverride ? "this disk's schedule" : "the default schedule";
  switch (next.state) {
    case "scheduled":
      return {
        tone: "neutral",
        headline: formatUntil(next.at, now),
        // Cron works in minutes: the seconds would only be noise.
        detail: `${formatDateTime(next.at).slice(0, 16)} · ${where} "${next.schedule}"`,
      };
    case "never":
      return { tone: "amber", headline: "Never runs", detail: `${where} "${next.schedule}" matches no date in the next four years` };
    case "invalid":
      return { tone: "amber", headline: "Invalid schedule", detail: `${next.message}; the worker skips it` };
  }
}

/** The verify state as the headline (its badge); the detail says why the backup is what it is, or what failed. */
export function describeLastBackup(last: LastBackup): PanelLine {
  if (last.verifyStatus === "failed") {
    return { tone: "red", headline: "Failed verification", detail: last.verifyProblems.join("; ") || "no problem was recorded" };
  }
  // Its own file checked out, but a restore of it reads the failed one too: it is no restore point.
  if (last.failedBefore.length > 0) {
    return { tone: "red", headline: "Chain failed verification", detail: `${chainFailureWords(last.failedBefore)}; this backup restores through ${last.failedBefore.length === 1 ? "it" : "them"}` };
  }
  return {
    tone: last.verifyStatus === "ok" ? "green" : "amber",
    headline: last.verifyStatus === "ok" ? "Verified" : "Not verified yet",
    detail: last.kind === "full" ? `${reasonLabel(last.reason)}: ${last.reasonDetail}` : `changes since #${last.seq - 1}`,
  };
}
