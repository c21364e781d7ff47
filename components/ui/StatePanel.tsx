import type { ReactNode } from "react";
import { DiskIcon, WarningIcon } from "./icons";

interface StatePanelProps {
  title: string;
  children?: ReactNode;
  testId?: string;
}

/** Nothing to show yet: says why, and what to do about it. */
export function EmptyState({ title, children, testId = "empty-state" }: StatePanelProps) {
  return (
    <div
      data-testid={testId}
      className="flex flex-col items-center rounded-lg border border-dashed border-slate-300 bg-white px-6 py-14 text-center"
    >
      <DiskIcon className="size-10 text-slate-400" />
      <h2 className="mt-3 text-base font-semibold text-slate-900">{title}</h2>
      {children ? <div className="mt-1 max-w-xl text-sm text-slate-600">{children}</div> : null}
    </div>
  );
}

/** Something failed while loading: the message is shown as-is, because admins need it to fix the cause. */
export function ErrorState({ title, children, testId = "error-state" }: StatePanelProps) {
  return (
    <div role="alert" data-testid={testId} className="rounded-lg border border-red-200 bg-red-50 px-5 py-4">
      <div className="flex items-center gap-2">
        <WarningIcon className="size-5 text-red-600" />
        <h2 className="text-base font-semibold text-red-800">{title}</h2>
      </div>
      {children ? <div className="mt-2 text-sm text-red-900">{children}</div> : null}
    </div>
  );
}
