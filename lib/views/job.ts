// The job as pages show it: plain data shared by the server (which makes it) and the components (which draw it).

/** A job as pages show it: plain data, numbers not BigInts. */
export interface JobView {
  id: string;
  disk: string | null;
  kind: string;
  state: "queued" | "running" | "succeeded" | "failed" | "cancelled";
  stage: string | null;
  progressDone: number;
  progressTotal: number;
  requestedBy: string;
  cancelRequested: boolean;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  error: string | null;
  summary: string | null;
}

export const TERMINAL_JOB_STATES = ["succeeded", "failed", "cancelled"] as const;
