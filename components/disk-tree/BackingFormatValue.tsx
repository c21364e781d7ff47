import { WarningIcon } from "@/components/ui/icons";

/** Why a missing format is worth a warning (qemu-img info warns about it too); on hover and for screen readers. */
const PROBE_RISK =
  "The header names no backing format, so QEMU guesses it from the backing file's content. " +
  "A raw file that happens to look like qcow2 would be opened as qcow2. " +
  "Record it with: qemu-img rebase -u -F qcow2 -b <backing file> <this layer>";

/** The backing file's format as the header records it; amber when none is. Only for layers with a backing file. */
export function BackingFormatValue({ format }: { format: string | null }) {
  if (format) return <>{format}</>;
  return (
    <span title={PROBE_RISK} className="inline-flex items-center gap-1 text-amber-800" data-testid="backing-format-missing">
      <WarningIcon className="size-3.5 shrink-0" />
      not recorded — QEMU will probe it
      <span className="sr-only">: {PROBE_RISK}</span>
    </span>
  );
}
