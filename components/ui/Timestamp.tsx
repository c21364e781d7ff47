import { formatAge, formatDateTime } from "@/components/format/time";

/**
 * "3 min ago", with the exact time on hover and in the markup (`<time dateTime>`). The age depends on when it
 * renders, so a client re-render may differ from the server's text by design: hence suppressHydrationWarning.
 */
export function Timestamp({ iso, className }: { iso: string | null | undefined; className?: string }) {
  if (!iso) return <span className={className}>—</span>;
  return (
    <time dateTime={iso} suppressHydrationWarning title={formatDateTime(iso)} className={className}>
      {formatAge(iso)}
    </time>
  );
}
