/** A disk's state as a dot and a word: narrow enough for a table column. */
export type DiskState = "running" | "stopped" | "gone";

const LOOK: Record<DiskState, { label: string; text: string; dot: string; title: string }> = {
  running: { label: "Running", text: "text-emerald-700", dot: "bg-emerald-500", title: "A QEMU process holds the disk: operations go through it" },
  stopped: { label: "Stopped", text: "text-slate-600", dot: "bg-slate-300", title: "No QEMU process holds the disk" },
  gone: {
    label: "Folder gone",
    text: "text-amber-800",
    dot: "bg-amber-500",
    title: "The disk's folder is no longer under the storage root; its backups can still be restored as a new disk",
  },
};

export function StatusBadge({ status }: { status: DiskState }) {
  const look = LOOK[status];
  return (
    <span className={`inline-flex items-center gap-1.5 whitespace-nowrap ${look.text}`} title={look.title} data-status={status}>
      <span className={`size-2 rounded-full ${look.dot}`} aria-hidden="true" />
      {look.label}
    </span>
  );
}
