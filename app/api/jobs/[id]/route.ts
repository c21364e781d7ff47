import { CanopyError } from "@/lib/errors";
import { decodeRouteParam } from "@/components/disks/load";
import { defineRoute } from "@/server/api/define-route";
import { getJobView } from "@/server/job-views";

/** GET /api/jobs/<id>: one JobView. */
export const GET = defineRoute<{ id: string }>(async (_request, { params }) => {
  const id = decodeRouteParam(params.id);
  const job = await getJobView(id);
  if (!job) throw new CanopyError("not-found", `no job with id "${id}"`);
  return job;
});
