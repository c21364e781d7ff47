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
      const busy = /database is locked|SQLITE_BUSY/i.test(err instanceof Error ? err.message : String(err));
      if (!busy || i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 20 * i + Math.random() * 50));
    }
  }
}
