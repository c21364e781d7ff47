import "server-only";
import type { OperationKind } from "@/lib/ops/types";
import type { ExecutorTable } from "../jobs/executor";
import { treeExecutor } from "../ops/tree-executor";
import { backupExecutor } from "../backups/start-backup";
import { verifyExecutor } from "../backups/verify";
import { restoreExecutor } from "../backups/restore";

/**
 * Every kind of job, by the kind stored on its row, and the executor that does its work (server/jobs runs the
 * lifecycle around it). The worker runs queued and orphaned jobs through this table, and a cancel that takes
 * over a dead job settles it through it. A new kind of job adds its executor here.
 */
const TREE_OPERATIONS: Record<OperationKind, ExecutorTable[string]> = {
  snapshot: treeExecutor,
  revert: treeExecutor,
  "merge-down": treeExecutor,
  "merge-up": treeExecutor,
  delete: treeExecutor,
  flatten: treeExecutor,
  protect: treeExecutor,
  unprotect: treeExecutor,
  "make-active": treeExecutor,
};

export const JOB_EXECUTORS: ExecutorTable = {
  ...TREE_OPERATIONS,
  backup: backupExecutor,
  verify: verifyExecutor,
  restore: restoreExecutor,
};
