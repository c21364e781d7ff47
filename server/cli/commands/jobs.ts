import { defineCommand } from "../command";
import { getDb } from "../../db";
import { formatBytes } from "../format";

export const jobs = defineCommand({
  name: "jobs",
  usage: "[--json]",
  summary: "List running and recent jobs",
  positionals: [0, 0],
  async run() {
    const rows = await getDb().job.findMany({ orderBy: { createdAt: "desc" }, take: 50, include: { disk: true } });
    return {
      jobs: rows.map((j) => ({
        id: j.id,
        disk: j.disk?.name ?? null,
        kind: j.kind,
        state: j.state,
        stage: j.stage,
        progressDone: Number(j.progressDone),
        progressTotal: Number(j.progressTotal),
        requestedBy: j.requestedBy,
        createdAt: j.createdAt.toISOString(),
        startedAt: j.startedAt?.toISOString() ?? null,
        endedAt: j.endedAt?.toISOString() ?? null,
        error: j.error,
      })),
    };
  },
  human({ jobs }) {
    if (!jobs.length) return "no jobs yet";
    return jobs
      .map((j) => {
        const pct = j.progressTotal ? ` ${Math.round((100 * j.progressDone) / j.progressTotal)}% of ${formatBytes(j.progressTotal)}` : "";
        return `${j.id}  ${j.disk ?? "-"}  ${j.kind}  ${j.state}${pct}  ${j.createdAt}${j.error ? `  error: ${j.error}` : ""}`;
      })
      .join("\n");
  },
});
