import { defineCommand } from "../command";
import { cancelJob } from "../../jobs/cancel-job";

export const cancel = defineCommand({
  name: "cancel",
  usage: "<job-id> [--json]",
  summary: "Stop a queued or running job (the tree stays consistent)",
  positionals: [1, 1],
  run: ({ positionals }) => cancelJob(positionals[0]!, `cli:${process.env.USER ?? "unknown"}`),
  human: (r) => `job ${r.id}: ${r.state}`,
});
