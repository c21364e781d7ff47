"use client";

import type { Plan } from "@/lib/ops/types";
import type { ActionResult } from "@/server/actions/types";
import type { DiskBackupState } from "@/server/backups/disk-backup-state";
import { diskBackupStateAction } from "@/server/actions/backups";
import { cancelJobAction, planOperationAction, startOperationAction } from "@/server/actions/operations";
import type { OperationRequest } from "./operation-request";

/**
 * The disk page's only door to the server actions: each call unwraps ActionResult into a value or an
 * ActionError whose message is written for the admin, so components deal in plain promises (and react-query's
 * error state) rather than result objects.
 */

export class ActionError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ActionError";
  }
}

function unwrap<T>(result: ActionResult<T>): T {
  if (result.ok) return result.data;
  throw new ActionError(result.error.code, result.error.message);
}

/** Plans without running anything; a refused plan is data (plan.refused), not an error. */
export async function planOperation(disk: string, request: OperationRequest): Promise<Plan> {
  return unwrap(await planOperationAction({ disk, request }));
}

/** Queues the job for the worker and returns its id at once. */
export async function startOperation(disk: string, request: OperationRequest): Promise<string> {
  return unwrap(await startOperationAction({ disk, request })).jobId;
}

export async function cancelJob(jobId: string): Promise<void> {
  unwrap(await cancelJobAction({ jobId }));
}

/** The backup panel's data: last backup, next scheduled run, bitmap health (each a state, never an error). */
export async function readDiskBackupState(disk: string): Promise<DiskBackupState> {
  return unwrap(await diskBackupStateAction({ disk }));
}

/** Any thrown value as one readable sentence (a dropped connection, a server restart, an ActionError). */
export function readableError(err: unknown): string {
  if (err instanceof ActionError) return err.message;
  if (err instanceof TypeError && /fetch/i.test(err.message)) {
    return "The dashboard could not reach the server. Check that it is running, then try again.";
  }
  if (err instanceof Error && err.message) return err.message;
  return "Something went wrong; the server log has the details.";
}
