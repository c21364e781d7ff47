import Link from "next/link";
import { CanopyMark, UserIcon } from "@/components/ui/icons";
import { LogoutButton } from "./LogoutButton";
import { SidebarNav } from "./SidebarNav";

/**
 * The dark left rail: product name, the sections, and who is logged in with the way out. New sections are
 * added in SidebarNav's NAV list.
 */
export function AppSidebar({ userName }: { userName: string }) {
  return (
    <aside className="flex w-52 shrink-0 flex-col bg-slate-900 text-slate-100">
      <Link href="/" className="flex items-center gap-2.5 px-5 pb-6 pt-5">
        <span className="grid size-8 place-items-center rounded-lg bg-emerald-500/15 text-emerald-400 ring-1 ring-emerald-400/30">
          <CanopyMark className="size-5" />
        </span>
        <span>
          <span className="block text-base font-semibold leading-tight tracking-tight">Canopy</span>
          <span className="block text-[11px] leading-tight text-slate-400">QCOW2 snapshot trees</span>
        </span>
      </Link>
      <SidebarNav />
      <div className="mt-auto border-t border-slate-800 px-3 py-3">
        <div className="flex items-center gap-2 px-2.5 pb-2 text-sm text-slate-300" data-testid="current-user">
          <UserIcon className="size-4 text-slate-500" />
          <span className="truncate" title={`Logged in as ${userName}`}>
            {userName}
          </span>
        </div>
        <LogoutButton />
      </div>
    </aside>
  );
}
