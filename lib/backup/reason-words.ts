/**
 * The words for why a backup is full (the engine's reason codes), said the same way by the dashboard, the
 * CLI and the job list.
 */
const REASON_WORDS: Record<string, string> = {
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
export function reasonWords(reason: string): string {
  return REASON_WORDS[reason] ?? reason;
}
