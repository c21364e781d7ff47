import type { Metadata } from "next";
import { listDisks, storageRoot, type DiskListEntry } from "@/server/disks";
import { requireUser } from "@/server/auth/current-user";
import { DiskTable } from "@/components/disks/DiskTable";
import { PageHeader } from "@/components/ui/PageHeader";
import { EmptyState, ErrorState } from "@/components/ui/StatePanel";
import { errorMessage, readStorageRoot } from "@/components/disks/load";

// The inventory lives in the database and changes with every scan: never prerender.
export const dynamic = "force-dynamic";

export const metadata: Metadata = { title: "Disks" };

export default async function DisksPage() {
  await requireUser();
  const root = readStorageRoot(storageRoot);
  let disks: DiskListEntry[] | null = null;
  let failure: string | null = null;
  try {
    disks = await listDisks();
  } catch (err) {
    console.error("listing disks failed:", err);
    failure = errorMessage(err);
  }

  return (
    <div className="mx-auto w-full max-w-7xl space-y-6 px-8 py-8">
      <PageHeader
        title="Disks"
        description={
          <>
            {disks ? `${disks.length} ${disks.length === 1 ? "disk" : "disks"} under ` : "Storage root "}
            <code className="rounded bg-slate-200/70 px-1.5 py-0.5 font-mono text-[13px] text-slate-800">{root}</code>
          </>
        }
      />
      {failure !== null ? (
        <ErrorState title="Could not load the disks">
          <p className="font-mono text-[13px]">{failure}</p>
          <p className="mt-2">Check that the database is reachable and has been migrated, then reload.</p>
        </ErrorState>
      ) : disks && disks.length > 0 ? (
        <DiskTable disks={disks} />
      ) : (
        <EmptyState title="No disks under the storage root">
          <p>
            <code className="font-mono text-slate-800">{root}</code>
          </p>
          <p className="mt-2">
            Each folder there holding <code className="font-mono">*.qcow2</code> files shows up as one disk after the
            next scan.
          </p>
        </EmptyState>
      )}
    </div>
  );
}
