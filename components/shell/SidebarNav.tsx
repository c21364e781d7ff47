"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { ActivityIcon, ArchiveIcon, AuditIcon, DiskIcon, LockIcon } from "@/components/ui/icons";
import type { ComponentType } from "react";

interface NavItem {
  href: string;
  label: string;
  icon: ComponentType<{ className?: string }>;
  /**
   * Other path prefixes that belong to this section (a disk's page, its backups page too, is under Disks).
   * Backups and Backup policy claim none: /backups/policy is not part of /backups' section, nor the reverse.
   */
  matches: string[];
}

const NAV: NavItem[] = [
  { href: "/", label: "Disks", icon: DiskIcon, matches: ["/disks"] },
  { href: "/jobs", label: "Jobs", icon: ActivityIcon, matches: [] },
  { href: "/backups", label: "Backups", icon: ArchiveIcon, matches: [] },
  { href: "/backups/policy", label: "Backup policy", icon: LockIcon, matches: [] },
  { href: "/audit", label: "Audit log", icon: AuditIcon, matches: [] },
];

function isCurrent(item: NavItem, pathname: string): boolean {
  if (pathname === item.href) return true;
  return item.matches.some((m) => pathname === m || pathname.startsWith(`${m}/`));
}

export function SidebarNav() {
  const pathname = usePathname() ?? "/";
  return (
    <nav aria-label="Main" className="flex flex-col gap-0.5 px-3">
      {NAV.map((item) => {
        const current = isCurrent(item, pathname);
        const Icon = item.icon;
        return (
          <Link
            key={item.href}
            href={item.href}
            aria-current={current ? "page" : undefined}
            className={`flex items-center gap-2.5 rounded-md px-2.5 py-2 text-sm font-medium transition-colors ${
              current ? "bg-slate-800 text-white" : "text-slate-400 hover:bg-slate-800/60 hover:text-slate-100"
            }`}
          >
            <Icon className={`size-4 ${current ? "text-emerald-400" : ""}`} />
            {item.label}
          </Link>
        );
      })}
    </nav>
  );
}
