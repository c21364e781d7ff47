import type { BadgeTone } from "@/components/ui/Badge";

/**
 * The words for the engine's codes (lib/backup: why a backup is full, a verify status), shared by the backups
 * page and the disk page's backup panel so both say the same thing.
 */

const REASONS: Record<string, string> = {
  "first-backup": "first backup",
  "requested-full": "full requested",
  "disk-resized": "disk resized",
  "disk-reverted": "disk reverted",
  "bitmap-missing": "bitmap missing",
  "bitmap-inconsistent": "bitmap inconsistent",
  "previous-failed-or-unverified": "previous failed / unverified",
  policy: "policy limit",
  incremental: "incremental",
};

/** "bitmap missing" for "bitmap-missing"; an unknown code (a newer engine) is shown as it is. */
export function reasonLabel(reason: string): string {
  return REASONS[reason] ?? reason;
}

const VERIFY_TONES: Record<string, BadgeTone> = { ok: "green", failed: "red", pending: "amber" };

export function verifyTone(status: string): BadgeTone {
  return VERIFY_TONES[status] ?? "neutral";
}

/** "verified", "failed", "pending". */
export function verifyLabel(status: string): string {
  return status === "ok" ? "verified" : status;
}
