import { CanopyError } from "@/lib/errors";
import { decodeRouteParam } from "@/components/disks/load";
import { defineRoute } from "@/server/api/define-route";
import { getDiskActivity } from "@/server/disk-activity";

/** GET /api/disks/<name>/activity: the job holding the disk (whoever started it) and the newest ended one. */
export const GET = defineRoute<{ name: string }>(async (_request, { params }) => {
  const name = decodeRouteParam(params.name);
  const activity = await getDiskActivity(name);
  if (!activity) throw new CanopyError("not-found", `no disk named "${name}"`);
  return activity;
});
