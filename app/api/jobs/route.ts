import { z } from "zod";
import { CanopyError } from "@/lib/errors";
import { defineRoute } from "@/server/api/define-route";
import { listJobViews } from "@/server/job-views";

const query = z.object({
  disk: z.string().min(1).max(255).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

/** GET /api/jobs?disk=<name>&limit=N: JobView[], newest first (50 unless told). */
export const GET = defineRoute(async (request) => {
  const params = Object.fromEntries(new URL(request.url).searchParams);
  const parsed = query.safeParse(params);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new CanopyError("invalid-input", `bad query (${why})`);
  }
  return listJobViews(parsed.data);
});
