/**
 * Dates arrive as ISO strings (views are plain JSON). Formatting is deterministic (no locale guessing) so
 * the server-rendered text and anything re-rendered in the browser agree.
 */

const pad = (n: number) => String(n).padStart(2, "0");

function parse(iso: string | null | undefined): Date | null {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** "2025-11-24 21:50:12" in the local time zone of whoever renders it. */
export function formatDateTime(iso: string | null | undefined): string {
  const d = parse(iso);
  if (!d) return "—";
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return `${date} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "just now", "5 min ago", "3 h ago", "2 days ago"; older than a month falls back to the date. */
export function formatAge(iso: string | null | undefined, now: Date = new Date()): string {
  const d = parse(iso);
  if (!d) return "—";
  const span = roughSpan((now.getTime() - d.getTime()) / 1000);
  if (span === null) return "just now";
  return span === "long" ? formatDateTime(iso).slice(0, 10) : `${span} ago`;
}

/** For what comes next (a scheduled run): "in 5 min", "in 3 h", "in 2 days"; further off, the date. */
export function formatUntil(iso: string | null | undefined, now: Date = new Date()): string {
  const d = parse(iso);
  if (!d) return "—";
  const span = roughSpan((d.getTime() - now.getTime()) / 1000);
  if (span === null) return "now";
  return span === "long" ? `on ${formatDateTime(iso).slice(0, 10)}` : `in ${span}`;
}

/** A distance in time as people say it: null under 45 s, "long" past a month. */
function roughSpan(secondsApart: number): string | null {
  const seconds = Math.round(secondsApart);
  if (seconds < 45) return null;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h`;
  const days = Math.round(hours / 24);
  if (days < 31) return days === 1 ? "1 day" : `${days} days`;
  return "long";
}

/** "0.4 s", "12 s", "3 min 05 s", "2 h 07 min": how long something took or has been running. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 10_000) return `${(ms / 1000).toFixed(1).replace(/\.0$/, "")} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${pad(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${pad(minutes % 60)} min`;
}
