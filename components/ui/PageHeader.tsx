import type { ReactNode } from "react";

interface PageHeaderProps {
  title: ReactNode;
  /** One line under the title: what the page shows, where from. */
  description?: ReactNode;
  /** Above the title, e.g. a breadcrumb back to the list. */
  eyebrow?: ReactNode;
  /** Right-hand side: stats now, actions later. */
  aside?: ReactNode;
}

export function PageHeader({ title, description, eyebrow, aside }: PageHeaderProps) {
  return (
    <header className="flex flex-wrap items-end justify-between gap-4">
      <div className="min-w-0">
        {eyebrow ? <div className="mb-1 text-sm text-slate-500">{eyebrow}</div> : null}
        <h1 className="truncate text-2xl font-semibold tracking-tight text-slate-900">{title}</h1>
        {description ? <p className="mt-1 text-sm text-slate-600">{description}</p> : null}
      </div>
      {aside ? <div className="flex flex-wrap items-center gap-2">{aside}</div> : null}
    </header>
  );
}
