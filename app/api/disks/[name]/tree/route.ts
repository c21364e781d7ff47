import { CanopyError } from "@/lib/errors";
import { decodeRouteParam } from "@/components/disks/load";
import { defineRoute } from "@/server/api/define-route";
import { getDiskTree } from "@/server/disks";

/** GET /api/disks/<name>/tree: the disk's DiskTreeView as last recorded. */
export const GET = defineRoute<{ name: string }>(async (_request, { params }) => {
  const name = decodeRouteParam(params.name);
  const tree = await getDiskTree(name);
  if (!tree) throw new CanopyError("not-found", `no disk named "${name}"`);
  return tree;
});
