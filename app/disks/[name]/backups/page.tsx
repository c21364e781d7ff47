import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { requireUser } from "@/server/auth/current-user";
import { getDiskTree } from "@/server/disks";
import { listDiskBackups, type DiskBackupsView } from "@/server/backups/list-backups";
import { decodeRouteParam, errorMessage } from "@/components/disks/load";
import { BackupsView } from "@/components/backups/BackupsView";
import { ErrorState } from "@/components/ui/StatePanel";
import { diskHref } from "@/components/disks/disk-links";

export const dynamic = "force-dynamic";

interface Props {
  params: Promise<{ name: string }>;
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: `Backups of ${decodeRouteParam((await params).name)}` };
}

export default async function DiskBackupsPage({ params }: Props) {
  await requireUser();
  const name = decodeRouteParam((await params).name);
  const tree = await getDiskTree(name).catch(() => null);
  let data: DiskBackupsView;
  try {
    data = await listDiskBackups(name);
  } catch (err) {
    console.error(`listing backups of ${name} failed:`, err);
    return (
      <div className="space-y-6 px-8 py-8">
        <Link href={diskHref(name)} className="text-sm text-sky-700 hover:underline">
          ← {name}
        </Link>
        <ErrorState title={`Could not list the backups of ${name}`}>
          <p className="font-mono text-[13px]">{errorMessage(err)}</p>
        </ErrorState>
      </div>
    );
  }
  // A disk whose folder is gone may still have backups (restore them as a new disk); nothing at all is a 404.
  if (!tree && data.backups.length === 0) notFound();
  const usedBytes = tree ? tree.layers.filter((l) => !l.template).reduce((n, l) => n + l.fileSize, 0) : 0;
  return (
    <BackupsView
      data={data}
      diskExists={!!tree}
      running={tree?.status === "running"}
      activeLayer={tree?.activeLayer ?? null}
      usedBytes={usedBytes}
    />
  );
}
