import path from "node:path";

/**
 * Canopy's configuration, from environment variables with defaults under ./data. Free of `server-only` so
 * the setup scripts read exactly the same values as the server, the worker and the CLI.
 */
export interface CanopyConfig {
  storageRoot: string;
  backupRoot: string;
  /** Run folders of the qemu-storage-daemons Canopy starts (sockets, pid files). */
  runRoot: string;
  port: number;
  host: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): CanopyConfig {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`PORT must be a port number (got "${env.PORT}")`);
  return {
    storageRoot: path.resolve(cwd, env.CANOPY_STORAGE_ROOT ?? "data/storage"),
    backupRoot: path.resolve(cwd, env.CANOPY_BACKUP_ROOT ?? "data/backups"),
    runRoot: path.resolve(cwd, env.CANOPY_RUN_DIR ?? "data/run"),
    port,
    host: env.HOST ?? "127.0.0.1",
  };
}
