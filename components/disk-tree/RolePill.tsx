import type { LayerRole } from "./layer-roles";

const PILL: Record<Exclude<LayerRole, "inner">, { text: string; className: string }> = {
  active: { text: "Active", className: "bg-emerald-600 text-white" },
  template: { text: "Template", className: "bg-slate-600 text-white" },
  tip: { text: "Branch tip", className: "bg-sky-100 text-sky-800 ring-1 ring-inset ring-sky-300" },
};

/** The role as a small uppercase pill; inner layers get none, so the marked ones stand out. */
export function RolePill({ role }: { role: LayerRole }) {
  if (role === "inner") return null;
  const pill = PILL[role];
  return (
    <span
      className={`shrink-0 rounded-full px-2 py-0.5 text-[10px] font-bold uppercase leading-4 tracking-wider ${pill.className}`}
    >
      {pill.text}
    </span>
  );
}
