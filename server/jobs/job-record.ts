import "server-only";
import type { Plan } from "@/lib/ops/types";

/**
 * What Job.plan holds: a tree operation's plan, or the record of a job that runs one piece of work (a backup, a
 * verify, a restore). The job views and the audit log read `disk` and `summary` from either.
 */
export type JobRecord = Plan | TaskRecord;

export interface TaskRecord {
  /** The job's kind; a plan has `operation` instead. */
  task: string;
  disk: string;
  params: Record<string, unknown>;
  summary: string;
  /** What the work returned (or a failure's details), once it ended. */
  result: unknown;
}

export function isTaskRecord(record: JobRecord): record is TaskRecord {
  return "task" in record;
}

/** The stored record, or null when there is none or it does not read. */
export function parseJobRecord(json: string | null): JobRecord | null {
  if (!json) return null;
  try {
    return JSON.parse(json) as JobRecord;
  } catch {
    return null;
  }
}
