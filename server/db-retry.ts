import "server-only";

/**
 * SQLite lets one writer in at a time. A transaction that read first and then writes cannot wait for another
 * writer (its snapshot would be stale), so SQLite fails it at once with "database is locked" whatever the busy
 * timeout. The web server, the worker and the CLI share the file, so such a transaction is simply run again.
 */
export async function retryWhenBusy<T>(work: () => Promise<T>, attempts = 8): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await work();
    } catch (err) {
      if (!isSqliteBusy(err) || i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 20 * i + Math.random() * 50));
    }
  }
}

/**
 * Whether an error is SQLite's "database is locked". Prisma's driver adapter reports it as a timeout (P1008,
 * "Operation has timed out") and keeps SQLite's own code only deep in `meta.driverAdapterError.cause`, so the
 * message alone is not enough: the whole chain of causes and metadata is searched.
 */
export function isSqliteBusy(err: unknown, depth = 0): boolean {
  if (depth > 6 || err === null || typeof err !== "object") return typeof err === "string" && BUSY.test(err);
  const e = err as Record<string, unknown>;
  for (const key of ["message", "code", "originalCode", "originalMessage"]) {
    if (typeof e[key] === "string" && BUSY.test(e[key])) return true;
  }
  return ["cause", "meta", "driverAdapterError"].some((key) => e[key] !== undefined && isSqliteBusy(e[key], depth + 1));
}

const BUSY = /database is locked|SQLITE_BUSY/i;
