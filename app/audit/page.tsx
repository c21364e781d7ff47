import type { Metadata } from "next";
import { AuditLog } from "@/components/audit/AuditLog";
import { errorMessage } from "@/components/disks/load";
import { PageHeader } from "@/components/ui/PageHeader";
import { EmptyState, ErrorState } from "@/components/ui/StatePanel";
import { listAuditEvents, type AuditEventView } from "@/server/audit-events";
import { requireUser } from "@/server/auth/current-user";

export const dynamic = "force-dynamic";

export const metadata: Metadata = { title: "Audit log" };

const LIMIT = 200;

export default async function AuditPage() {
  await requireUser();
  let events: AuditEventView[] | null = null;
  let failure: string | null = null;
  try {
    events = await listAuditEvents({ limit: LIMIT });
  } catch (err) {
    console.error("listing audit events failed:", err);
    failure = errorMessage(err);
  }

  return (
    <div className="mx-auto w-full max-w-7xl space-y-6 px-8 py-8">
      <PageHeader
        title="Audit log"
        description={`Who did what and when: every finished operation with its plan, logins and cancel requests (the latest ${LIMIT}).`}
      />
      {failure !== null ? (
        <ErrorState title="Could not load the audit log">
          <p className="font-mono text-[13px]">{failure}</p>
          <p className="mt-2">Check that the database is reachable and has been migrated, then reload.</p>
        </ErrorState>
      ) : events && events.length > 0 ? (
        <AuditLog events={events} />
      ) : (
        <EmptyState title="Nothing recorded yet">
          <p>Finished operations, logins and cancel requests are recorded here as they happen.</p>
        </EmptyState>
      )}
    </div>
  );
}
