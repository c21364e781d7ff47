import type { ReactNode } from "react";

export type BadgeTone = "red" | "amber" | "green" | "sky" | "slate" | "neutral";

const TONES: Record<BadgeTone, string> = {
  red: "bg-red-50 text-red-700 ring-red-600/25",
  amber: "bg-amber-50 text-amber-800 ring-amber-600/30",
  green: "bg-emerald-50 text-emerald-700 ring-emerald-600/25",
  sky: "bg-sky-50 text-sky-800 ring-sky-600/25",
  slate: "bg-slate-100 text-slate-700 ring-slate-500/25",
  neutral: "bg-white text-slate-600 ring-slate-300",
};

interface BadgeProps {
  tone?: BadgeTone;
  /** Shown on hover: the full text when the badge only shows a short label. */
  title?: string;
  children: ReactNode;
  className?: string;
}

export function Badge({ tone = "neutral", title, children, className = "" }: BadgeProps) {
  return (
    <span
      title={title}
      className={`inline-flex items-center gap-1 whitespace-nowrap rounded-md px-1.5 py-0.5 text-xs font-medium ring-1 ring-inset ${TONES[tone]} ${className}`}
    >
      {children}
    </span>
  );
}
