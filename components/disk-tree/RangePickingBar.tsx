import { Button } from "@/components/actions/Button";

interface RangePickingBarProps {
  /** The first end while the admin picks the second; null when only a notice is left to show. */
  anchor: string | null;
  /** Why the last pick made no range. */
  notice: string | null;
  onCancel: () => void;
}

/** Floats over the top of the graph while a merge range is being picked: what to do next, and how to stop. */
export function RangePickingBar({ anchor, notice, onCancel }: RangePickingBarProps) {
  return (
    <div
      role="status"
      data-testid="range-picking"
      className="absolute inset-x-3 top-3 z-10 flex flex-wrap items-center gap-x-3 gap-y-1 rounded-lg border border-violet-300 bg-white/95 px-3 py-2 text-sm shadow-md"
    >
      <div className="min-w-0 flex-1">
        {anchor ? (
          <p className="text-slate-800">
            <span className="font-semibold text-violet-700">Merge range from {anchor}:</span> click the other end, a
            layer above or below it on the same chain (or Tab to it and press Enter). Escape cancels.
          </p>
        ) : null}
        {notice ? (
          <p className="text-amber-800" data-testid="range-notice">
            {notice}
          </p>
        ) : null}
      </div>
      <Button variant="secondary" onClick={onCancel} className="py-1">
        {anchor ? "Cancel" : "Dismiss"}
      </Button>
    </div>
  );
}
