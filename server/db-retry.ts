import "server-only";
import type { Db } from "./db";
import type { Prisma } from "./generated/prisma/client";

/**
 * A transaction that reads and then writes on what it read (the disk's active layer, the disk's lock) must not
 * let another writer in between, or that writer's change is lost. SQLite lets one writer in at a time and fails
 * such a transaction at once with "database is locked" when its read went stale; PostgreSQL, at its default
 * READ COMMITTED, would let the stale write through, so it is asked for SERIALIZABLE, and then fails the
 * transaction with a serialization failure instead. The web server, the worker and the CLI share the database,
 * so either failure is simply run again.
 */
export function writeTransaction<T>(db: Db, work: (tx: Prisma.TransactionClient) => Promise<T>, { timeoutMs = 5_000 } = {}): Promise<T> {
  return retryWhenBusy(() => db.$transaction(work, { isolationLevel: "Serializable", timeout: timeoutMs }));
}

/** Runs `work` again, a few times with a short random wait, while it fails because another writer came between. */
export async function retryWhenBusy<T>(work: () => Promise<T>, attempts = 8): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await work();
    } catch (err) {
      if (!isWriteConflict(err) || i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 20 * i + Math.random() * 50));
    }
  }
}

/** SQLite's "database is locked", or PostgreSQL's serialization failure or deadlock: worth running again. */
export function isWriteConflict(err: unknown): boolean {
  return isSqliteBusy(err) || inErrorChain(err, (key, value) => (key === "code" && value === "P2034") || POSTGRES_CONFLICT.test(value));
}

/**
 * Whether an error is SQLite's "database is locked". Prisma's driver adapter reports it as a timeout (P1008,
 * "Operation has timed out") and keeps SQLite's own code only deep in `meta.driverAdapterError.cause`, so the
 * message alone is not enough: the whole chain of causes and metadata is searched.
 */
function isSqliteBusy(err: unknown): boolean {
  return inErrorChain(err, (_key, value) => BUSY.test(value));
}

const BUSY = /database is locked|SQLITE_BUSY/i;
/** adapter-pg's name for SQLSTATE 40001 (serialization failure) and 40P01 (deadlock), or the codes themselves. */
const POSTGRES_CONFLICT = /^(TransactionWriteConflict|40001|40P01)$/;

/** Whether any string field of the error, its causes or its metadata satisfies `test`. */
function inErrorChain(err: unknown, test: (key: string, value: string) => boolean, depth = 0): boolean {
  if (depth > 6 || err === null || typeof err !== "object") return typeof err === "string" && test("", err);
  const e = err as Record<string, unknown>;
  for (const key of ["message", "code", "kind", "originalCode", "originalMessage"]) {
    if (typeof e[key] === "string" && test(key, e[key])) return true;
  }
  return ["cause", "meta", "driverAdapterError"].some((key) => e[key] !== undefined && inErrorChain(e[key], test, depth + 1));
}
