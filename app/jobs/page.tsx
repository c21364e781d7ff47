import type { Metadata } from "next";
import { JobsView } from "@/components/jobs/JobsView";
import { errorMessage } from "@/components/disks/load";
import { PageHeader } from "@/components/ui/PageHeader";
import { ErrorState } from "@/components/ui/StatePanel";
import type { JobView } from "@/lib/views/job";
import { requireUser } from "@/server/auth/current-user";
import { listJobViews } from "@/server/job-views";

export const dynamic = "force-dynamic";

export const metadata: Metadata = { title: "Jobs" };

/** How many jobs the page lists: the running ones are always among the newest. */
const LIMIT = 50;

export default async function JobsPage() {
  await requireUser();
  let jobs: JobView[] | null = null;
  let failure: string | null = null;
  try {
    jobs = await listJobViews({ limit: LIMIT });
  } catch (err) {
    console.error("listing jobs failed:", err);
    failure = errorMessage(err);
  }

  return (
    <div className="mx-auto w-full max-w-7xl space-y-6 px-8 py-8">
      <PageHeader
        title="Jobs"
        description={`Running and recent operations, from the dashboard and the CLI alike (the latest ${LIMIT}).`}
      />
      {jobs ? (
        <JobsView initialJobs={jobs} limit={LIMIT} />
      ) : (
        <ErrorState title="Could not load the jobs">
          <p className="font-mono text-[13px]">{failure}</p>
          <p className="mt-2">Check that the database is reachable and has been migrated, then reload.</p>
        </ErrorState>
      )}
    </div>
  );
}
