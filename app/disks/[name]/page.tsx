import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { getDiskTree } from "@/server/disks";
import { requireUser } from "@/server/auth/current-user";
import { getDiskActivity, type DiskActivity } from "@/server/disk-activity";
import type { DiskTreeView } from "@/lib/inventory/views";
import { decodeRouteParam, errorMessage } from "@/components/disks/load";
import { DiskWorkspace } from "@/components/disk-tree/DiskWorkspace";
import { packTree } from "@/components/disk-tree/packed-tree";
import { ErrorState } from "@/components/ui/StatePanel";

// Read from the database on every request: the tree changes with every scan and every operation.
export const dynamic = "force-dynamic";

interface DiskPageProps {
  params: Promise<{ name: string }>;
}

export async function generateMetadata({ params }: DiskPageProps): Promise<Metadata> {
  const { name } = await params;
  return { title: decodeRouteParam(name) };
}

export default async function DiskPage({ params }: DiskPageProps) {
  // The layout checks too, but Next renders this segment alongside it: the page must refuse on its own.
  await requireUser();
  const name = decodeRouteParam((await params).name);
  let tree: DiskTreeView | null;
  try {
    tree = await getDiskTree(name);
  } catch (err) {
    console.error(`loading disk ${name} failed:`, err);
    return (
      <div className="space-y-6 px-8 py-8">
        <p>
          <Link href="/" className="text-sm text-sky-700 hover:underline">
            ← Disks
          </Link>
        </p>
        <ErrorState title={`Could not load disk ${name}`}>
          <p className="font-mono text-[13px]">{errorMessage(err)}</p>
        </ErrorState>
      </div>
    );
  }
  if (!tree) notFound();

  // A job already holding the disk (started from the CLI, say) disables the actions from the first paint; if the
  // read fails outright, the page asks again from the browser. The backup state is not read here: on a deep chain
  // its preview rescans the disk and reads every layer's header, a quarter of a second and more of the server's
  // event loop (a chain 1,000 deep, bench/disk-page.ts) that held back the tree, so its panel asks for it once
  // the page is up.
  const activity = await getDiskActivity(name).catch((err: unknown): DiskActivity | null => {
    console.error(`reading the current job of ${name} failed:`, err);
    return null;
  });
  // The client side takes it from here: the graph, its actions, and refetching the tree after each job. Keyed
  // by disk, so nothing one disk's page remembers (picks, a job's bar) carries over to another's. The tree goes
  // packed: a layer's fields that its place in the tree tells are left out (packed-tree.ts).
  return (
    <DiskWorkspace
      key={tree.name}
      initialTree={packTree(tree)}
      initialActivity={activity}
    />
  );
}
