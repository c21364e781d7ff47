import { CanopyError } from "@/lib/errors";
import { defineCommand } from "./define-command";
import { exitOnStopSignals, runWorkerLoop, runWorkerOnce, type RanJob } from "../../worker/loop";

/**
 * The job worker in the foreground, for an admin without the dashboard: it finishes what a killed CLI left
 * running and runs the jobs queued with --background. Its log goes to stderr with --once, so that stdout holds
 * only the list of jobs (or the one JSON object).
 */
export const worker = defineCommand({
  name: "worker",
  usage: "[--once] [--json]",
  summary: "Run the job worker in the foreground; --once: finish interrupted and queued jobs, then exit",
  positionals: [0, 0],
  options: { once: { type: "boolean", description: "resume interrupted jobs, run the queued ones, then exit" } },
  async run({ options, json }): Promise<{ jobs: RanJob[] }> {
    exitOnStopSignals();
    if (options.once !== true) {
      if (json) throw new CanopyError("invalid-input", "--json goes with --once (the worker's loop prints log lines)");
      return runWorkerLoop((line) => process.stdout.write(`canopy worker: ${line}\n`));
    }
    return { jobs: await runWorkerOnce((line) => process.stderr.write(`canopy worker: ${line}\n`)) };
  },
  human: ({ jobs }) => (jobs.length ? jobs.map(jobLine).join("\n") : "no interrupted or queued jobs"),
  exitCode: ({ jobs }) => (jobs.every((j) => j.state === "succeeded" || j.state === "cancelled") ? 0 : 1),
});

function jobLine(j: RanJob): string {
  const what = `${j.summary ?? j.kind}${j.resumed ? ", resumed" : ""}`;
  return `job ${j.id} (${what}): ${j.state}${j.error ? `: ${j.error}` : ""}`;
}
