/**
 * A chain's incrementals toward the policy's limit, as a bar and "12/63". At the limit the bar turns amber:
 * the next backup is full.
 */
export function ChainMeter({ incrementals, max, barClassName = "w-28" }: { incrementals: number; max: number; barClassName?: string }) {
  const fraction = max > 0 ? Math.min(1, incrementals / max) : 1;
  return (
    <div className="flex items-center gap-2" title={`${incrementals} of ${max} incrementals before the next backup is full`}>
      <div className={`h-1.5 overflow-hidden rounded-full bg-slate-200 ${barClassName}`}>
        <div className={`h-full rounded-full ${fraction >= 1 ? "bg-amber-500" : "bg-sky-600"}`} style={{ width: `${fraction * 100}%` }} />
      </div>
      <span className="text-xs font-medium tabular-nums text-slate-700" data-testid="chain-count">
        {incrementals}/{max}
      </span>
    </div>
  );
}
