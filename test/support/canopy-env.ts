import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { createSeedRoot, SEED_LAYERS, type SeedLayer } from "@/lib/demo/seed";
import { run } from "@/lib/proc/run";
import { freshDatabaseUrl } from "./test-database";
import { makeTempDir } from "./tmp";

const REPO = path.resolve(import.meta.dirname, "../..");
const CLI = path.join(REPO, "bin/canopy.mjs");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The one JSON object a --json command prints, when it printed one. */
  json: any;
}

/**
 * A throw-away Canopy installation: its own storage root (seeded), backup root and database (a SQLite file, or
 * a PostgreSQL database in the PostgreSQL pass: see ./test-database.ts), driven through the real CLI in a child
 * process exactly as an admin would.
 */
export interface CanopyEnv {
  dir: string;
  root: string;
  env: NodeJS.ProcessEnv;
  cli(...args: string[]): Promise<CliResult>;
  /** Starts `node server/worker/main.ts` in its own process group, so a test can kill it like a crash would. */
  startWorker(): Started;
  /** Starts the CLI the same way, to be killed in the middle of its command. */
  startCli(...args: string[]): Started;
}

export interface Started {
  pid: number;
  kill(signal?: NodeJS.Signals): void;
  exited: Promise<void>;
}

/**
 * `setUp: false` leaves the database as freshDatabaseUrl made it (no migrations, nothing scanned), for tests of
 * what the CLI does on first use.
 */
export async function makeCanopyEnv(layers: SeedLayer[] = SEED_LAYERS, size?: number, { setUp = true } = {}): Promise<CanopyEnv> {
  const dir = await makeTempDir("canopy-env-");
  const root = path.join(dir, "storage");
  await createSeedRoot(root, layers, size);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CANOPY_STORAGE_ROOT: root,
    CANOPY_BACKUP_ROOT: path.join(dir, "backups"),
    CANOPY_RUN_DIR: path.join(dir, "run"),
    DATABASE_URL: await freshDatabaseUrl(dir),
    CANOPY_WORKER_POLL_MS: "200",
  };
  if (setUp) await run("npx", ["--no-install", "tsx", "scripts/db-migrate.ts", "deploy"], { cwd: REPO, env, timeoutMs: 60_000 });
  const cli = async (...args: string[]): Promise<CliResult> => {
    const res = await run(process.execPath, [CLI, ...args], { cwd: REPO, env, timeoutMs: 300_000, okExitCodes: [0, 1, 2] });
    let json: unknown = null;
    if (args.includes("--json")) {
      try {
        json = JSON.parse(res.stdout);
      } catch {
        json = null;
      }
    }
    return { code: res.exitCode, stdout: res.stdout, stderr: res.stderr, json };
  };
  if (setUp) await cli("scan");
  const startDetached = (args: string[]): Started => {
    const child = spawn(process.execPath, args, { cwd: REPO, env, detached: true, stdio: "ignore" });
    let killed = false;
    // After a kill, "exited" also waits for the rest of the group: a qemu-img child still dying under load holds
    // its image's lock for a moment after the CLI itself is gone, and a check of the image then fails on the lock.
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve())).then(() =>
      killed ? groupGone(child.pid!) : undefined,
    );
    return {
      pid: child.pid!,
      // Negative pid: the whole group, so a qemu-img child dies with its worker or CLI, as under a service manager.
      kill: (signal: NodeJS.Signals = "SIGKILL") => {
        killed = true;
        process.kill(-child.pid!, signal);
      },
      exited,
    };
  };
  const tsx = path.join(REPO, "node_modules/tsx/dist/loader.mjs");
  const startWorker = () => startDetached(["--conditions=react-server", "--import", `file://${tsx}`, "server/worker/main.ts"]);
  const startCli = (...args: string[]) => startDetached([CLI, ...args]);
  return { dir, root, env, cli, startWorker, startCli };
}

/**
 * Points this test process at the installation (database, storage, backup and run roots), for tests that call
 * server modules directly: import them after this, since some read the environment when they load.
 */
export function adoptCanopyEnv(env: CanopyEnv): void {
  for (const key of ["DATABASE_URL", "CANOPY_STORAGE_ROOT", "CANOPY_BACKUP_ROOT", "CANOPY_RUN_DIR"]) process.env[key] = env.env[key];
}

/** Resolves once no live process (zombies do not count: their files are closed) is left in process group `pgid`. */
async function groupGone(pgid: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const members = () =>
    readdirSync("/proc")
      .filter((e) => /^\d+$/.test(e))
      .filter((pid) => {
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
          const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
          return Number(fields[2]) === pgid && !/^[ZX]/.test(fields[0]!);
        } catch {
          return false; // gone while we looked
        }
      });
  while (members().length > 0) {
    if (Date.now() > deadline) throw new Error(`process group ${pgid} still has live processes ${timeoutMs} ms after the kill`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function withoutLayers(names: string[], layers: SeedLayer[] = SEED_LAYERS): SeedLayer[] {
  return layers.filter((l) => !names.includes(l.name));
}
