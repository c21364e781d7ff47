"use server";
import "server-only";
import { z } from "zod";
import { MAX_NAME_LENGTH } from "@/lib/inventory/names";
import { cancelJob } from "../jobs/cancel-job";
import { JOB_EXECUTORS } from "../job-kinds/executors";
import { loadDiskState } from "../ops/disk-state";
import { operationSchema, planOperation } from "../ops/plan-operation";
import { runOperation } from "../ops/run-operation";
import { defineAction } from "./client";

// Thin on purpose: the planner, the jobs and their rules live in server/ops and server/jobs, shared with the CLI.

const operationInput = z.object({ disk: z.string().min(1).max(MAX_NAME_LENGTH), request: operationSchema });

/** The planner's plan for the confirmation dialog. A refused plan is an answer too (plan.refused), not an error. */
export const planOperationAction = defineAction(operationInput, async ({ disk, request }) =>
  planOperation(await loadDiskState(disk), request),
);

/** Plans again (the tree may have changed since the dialog opened), then queues the job for the worker. */
export const startOperationAction = defineAction(operationInput, async ({ disk, request }, { user }) => {
  const { job } = await runOperation(disk, request, { dryRun: false, background: true, requestedBy: user.name });
  if (!job) throw new Error("runOperation queued no job");
  return { jobId: job.id };
});

export const cancelJobAction = defineAction(z.object({ jobId: z.string().min(1).max(64) }), async ({ jobId }, { user }) =>
  cancelJob(jobId, user.name, JOB_EXECUTORS),
);
