import type { Metadata } from "next";
import Link from "next/link";
import { requireUser } from "@/server/auth/current-user";
import { loadBackupsOverview, type BackupsOverview as Overview } from "@/server/backups/overview";
import { BackupsOverview } from "@/components/backups/BackupsOverview";
import { errorMessage } from "@/components/disks/load";
import { PageHeader } from "@/components/ui/PageHeader";
import { ErrorState } from "@/components/ui/StatePanel";

// Backups and the inventory change with every job and scan: never prerender.
export const dynamic = "force-dynamic";

export const metadata: Metadata = { title: "Backups" };

export default async function BackupsPage() {
  await requireUser();
  let overview: Overview | null = null;
  let failure: string | null = null;
  try {
    overview = await loadBackupsOverview();
  } catch (err) {
    console.error("loading the backups overview failed:", err);
    failure = errorMessage(err);
  }

  return (
    <div className="mx-auto w-full max-w-7xl space-y-6 px-8 py-8">
      <PageHeader
        title="Backups"
        description="Every disk's last backup and its check, its chain toward the policy's limit, what the backups take, and the next run."
        aside={
          <Link href="/backups/policy" className="rounded-md px-3 py-1.5 text-sm font-medium text-sky-700 ring-1 ring-inset ring-slate-300 hover:bg-slate-50">
            Backup policy
          </Link>
        }
      />
      {overview ? (
        <BackupsOverview overview={overview} />
      ) : (
        <ErrorState title="Could not load the backups">
          <p className="font-mono text-[13px]">{failure}</p>
          <p className="mt-2">Check that the database is reachable and has been migrated, then reload.</p>
        </ErrorState>
      )}
    </div>
  );
}
