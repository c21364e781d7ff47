/** What a page shows while its server data loads: its title, and grey bars where the rows will be. */
export function PageSkeleton({ title, rows = 5 }: { title: string; rows?: number }) {
  return (
    <div className="mx-auto w-full max-w-7xl space-y-6 px-8 py-8" aria-busy="true" aria-live="polite">
      <header>
        <h1 className="text-2xl font-semibold tracking-tight text-slate-900">{title}</h1>
        <div className="mt-2 h-4 w-80 animate-pulse rounded bg-slate-200" />
      </header>
      <div className="space-y-px overflow-hidden rounded-lg border border-slate-200 bg-white shadow-sm">
        <span className="sr-only">Loading…</span>
        {Array.from({ length: rows }, (_, i) => (
          <div key={i} className="flex items-center gap-4 px-4 py-4">
            <div className="h-4 w-20 animate-pulse rounded bg-slate-200" />
            <div className="h-4 flex-1 animate-pulse rounded bg-slate-100" />
            <div className="h-4 w-32 animate-pulse rounded bg-slate-200" />
          </div>
        ))}
      </div>
    </div>
  );
}
