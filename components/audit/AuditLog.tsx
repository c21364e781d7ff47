import Link from "next/link";
import type { AuditEventView } from "@/server/audit-events";
import { Badge, type BadgeTone } from "@/components/ui/Badge";
import { ChevronRightIcon } from "@/components/ui/icons";
import { Timestamp } from "@/components/ui/Timestamp";
import { formatDateTime } from "@/components/format/time";
import { PlanDetails } from "./PlanDetails";
import { diskHref } from "@/components/disks/disk-links";

const OUTCOME_TONE: Record<string, BadgeTone> = {
  succeeded: "green",
  failed: "red",
  cancelled: "amber",
  cancelling: "amber",
};

/**
 * Who did what, newest first. An operation's row opens (a native <details>, so it works before any script
 * has loaded) to the plan it ran; logins, failed logins, logouts and cancel requests are one line each.
 */
export function AuditLog({ events }: { events: readonly AuditEventView[] }) {
  return (
    <ol className="divide-y divide-slate-100 overflow-hidden rounded-lg border border-slate-200 bg-white shadow-sm" data-testid="audit-log">
      {events.map((event) => (
        <li key={event.id} data-testid={`audit-event-${event.action}`}>
          {event.plan ? (
            <details className="group">
              <summary className="flex cursor-pointer list-none items-start gap-3 px-4 py-3 hover:bg-slate-50 focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-indigo-500 [&::-webkit-details-marker]:hidden">
                <ChevronRightIcon className="mt-0.5 size-4 shrink-0 text-slate-500 transition-transform group-open:rotate-90" />
                <EventLine event={event} />
              </summary>
              <div className="border-t border-slate-100 bg-slate-50/60 py-4 pl-11 pr-4">
                {event.error ? (
                  <p className="mb-4 whitespace-pre-line break-words rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-900">
                    {event.error}
                  </p>
                ) : null}
                <PlanDetails plan={event.plan} />
                {event.jobId ? <p className="mt-4 text-xs text-slate-500">Job <span className="font-mono">{event.jobId}</span></p> : null}
              </div>
            </details>
          ) : (
            <div className="flex items-start gap-3 px-4 py-3">
              <span className="size-4 shrink-0" aria-hidden="true" />
              <EventLine event={event} />
            </div>
          )}
        </li>
      ))}
    </ol>
  );
}

function EventLine({ event }: { event: AuditEventView }) {
  return (
    <div className="grid min-w-0 flex-1 grid-cols-[8.5rem_7rem_minmax(0,1fr)_auto] items-start gap-x-4 text-sm">
      <span className="whitespace-nowrap text-slate-600" title={formatDateTime(event.createdAt)}>
        <Timestamp iso={event.createdAt} />
      </span>
      <span className="truncate font-medium text-slate-800" title={event.actor}>
        {event.actor}
      </span>
      <span className="min-w-0">
        <span className="mr-2 font-mono text-xs font-semibold uppercase tracking-wide text-slate-500">{event.action}</span>
        {event.disk ? (
          <Link href={diskHref(event.disk)} className="mr-2 font-medium text-sky-700 hover:underline">
            {event.disk}
          </Link>
        ) : null}
        <span className="text-slate-800">{describe(event)}</span>
      </span>
      <span className="flex justify-end">
        {event.outcome ? <Badge tone={OUTCOME_TONE[event.outcome] ?? "slate"}>{event.outcome}</Badge> : null}
      </span>
    </div>
  );
}

function describe(event: AuditEventView): string {
  if (event.summary) return event.summary;
  switch (event.action) {
    case "login":
      return typeof event.extra.ip === "string" ? `logged in from ${event.extra.ip}` : "logged in";
    case "login-failed": {
      const from = typeof event.extra.ip === "string" ? ` from ${event.extra.ip}` : "";
      const reason = typeof event.extra.reason === "string" ? `: ${event.extra.reason}` : "";
      return `failed to log in${from}${reason}`;
    }
    case "logout":
      return "logged out";
    case "cancel":
      return `asked to cancel job ${event.jobId ?? ""}`.trim();
    default:
      return "";
  }
}
