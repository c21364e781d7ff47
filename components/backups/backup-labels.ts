import type { BadgeTone } from "@/components/ui/Badge";
import { reasonWords } from "@/lib/backup/reason-words";

/**
 * The words for the engine's codes (lib/backup: why a backup is full, a verify status), shared by the backups
 * page and the disk page's backup panel so both say the same thing (the reasons' words live in lib/backup, where
 * the job list's summaries use them too).
 */

/** "bitmap missing" for "bitmap-missing". */
export const reasonLabel = reasonWords;

const VERIFY_TONES: Record<string, BadgeTone> = { ok: "green", failed: "red", pending: "amber" };

export function verifyTone(status: string): BadgeTone {
  return VERIFY_TONES[status] ?? "neutral";
}

/** "verified", "failed", "pending". */
export function verifyLabel(status: string): string {
  return status === "ok" ? "verified" : status;
}

/** "#0 of its chain failed verification", "#0 and #3 of its chain failed verification". */
export function chainFailureWords(failedSeqs: readonly number[]): string {
  const names = failedSeqs.map((s) => `#${s}`);
  const list = names.length > 1 ? `${names.slice(0, -1).join(", ")} and ${names.at(-1)}` : (names[0] ?? "");
  return `${list} of its chain failed verification`;
}
