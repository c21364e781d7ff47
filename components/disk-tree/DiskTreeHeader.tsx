import Link from "next/link";
import type { DiskTreeView } from "@/lib/inventory/views";
import { PageHeader } from "@/components/ui/PageHeader";
import { Stat } from "@/components/ui/Stat";
import { Timestamp } from "@/components/ui/Timestamp";
import { ChevronRightIcon } from "@/components/ui/icons";
import { branchCount } from "./layer-roles";
import { diskBackupsHref } from "@/components/disks/disk-links";

export function DiskTreeHeader({ tree }: { tree: DiskTreeView }) {
  const branches = branchCount(tree);
  // Counted like the disks list: the disk's own layers; shared templates are mentioned apart.
  const templates = tree.layers.filter((l) => l.template).length;
  const own = tree.layers.length - templates;
  return (
    <PageHeader
      eyebrow={
        <nav aria-label="Breadcrumb" className="flex items-center gap-1">
          <Link href="/" className="text-sky-700 hover:underline">
            Disks
          </Link>
          <ChevronRightIcon className="size-3.5 text-slate-400" />
          <span aria-current="page">{tree.name}</span>
        </nav>
      }
      title={tree.name}
      aside={
        <>
          <Link
            href={diskBackupsHref(tree.name)}
            className="rounded-md bg-white px-3 py-2 text-sm font-medium text-sky-700 ring-1 ring-inset ring-slate-300 hover:bg-slate-50"
          >
            Backups
          </Link>
          <Stat label="Status" title={tree.status === "running" ? "A QEMU process holds the active layer; operations go through QMP, live" : "No process holds the disk; operations use qemu-img"}>
            <span
              data-testid="disk-status"
              className={tree.status === "running" ? "inline-flex items-center gap-1.5 text-emerald-700" : "text-slate-600"}
            >
              {tree.status === "running" ? <span className="size-2 animate-pulse rounded-full bg-emerald-500" aria-hidden /> : null}
              {tree.status === "running" ? "Running" : "Stopped"}
            </span>
          </Stat>
          <Stat label="Active layer">
            {tree.activeLayer ? (
              <span className="font-mono text-emerald-700">{tree.activeLayer}</span>
            ) : (
              <span className="text-amber-700">none</span>
            )}
          </Stat>
          <Stat label="Layers" title={templates ? "The disk's own layers, plus shared templates" : undefined}>
            {own}
            {templates ? (
              <span className="ml-1 text-xs font-normal text-slate-500">
                + {templates} template{templates === 1 ? "" : "s"}
              </span>
            ) : null}
          </Stat>
          <Stat label="Branches">{branches}</Stat>
          <Stat label="Scanned">
            <Timestamp iso={tree.scannedAt} />
          </Stat>
        </>
      }
    />
  );
}
