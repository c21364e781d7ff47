import { defineCommand } from "./define-command";
import { cancelJob } from "../../jobs/cancel-job";
import { JOB_EXECUTORS } from "../../job-kinds/executors";
import { cliActor } from "./actor";

export const cancel = defineCommand({
  name: "cancel",
  usage: "<job-id> [--json]",
  summary: "Stop a queued or running job (the tree stays consistent)",
  positionals: [1, 1],
  run: ({ positionals }) => cancelJob(positionals[0]!, cliActor(), JOB_EXECUTORS),
  human: (r) => `job ${r.id}: ${r.state}`,
});
