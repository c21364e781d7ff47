import { defineCommand } from "./define-command";
import { listJobViews } from "../../job-views";
import { formatBytes } from "./format";

export const jobs = defineCommand({
  name: "jobs",
  usage: "[--json]",
  summary: "List running and recent jobs",
  positionals: [0, 0],
  // The same rows the Jobs page shows, summary and all.
  run: async () => ({ jobs: await listJobViews({ limit: 50 }) }),
  human({ jobs }) {
    if (!jobs.length) return "no jobs yet";
    return jobs
      .map((j) => {
        const pct = j.progressTotal ? ` ${Math.round((100 * j.progressDone) / j.progressTotal)}% of ${formatBytes(j.progressTotal)}` : "";
        const what = j.summary ? `  ${j.summary}` : "";
        return `${j.id}  ${j.disk ?? "-"}  ${j.kind}  ${j.state}${pct}  ${j.createdAt}${what}${j.error ? `  error: ${j.error}` : ""}`;
      })
      .join("\n");
  },
});
