import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import type { Page } from "@playwright/test";

/**
 * What the browser benchmarks share: the scripts that migrate and scan a data folder, the production build and
 * its server, the job worker, the admin's login, and how much memory a process takes.
 */

/**
 * Node's arguments for tsx and the react-server condition, as the CLI and the worker run: this process's own,
 * since scripts/bench.sh starts every benchmark that way (scripts/lib.sh canopy_tsx).
 */
export function tsxArgs(): string[] {
  return [...process.execArgv];
}

/** Runs a TypeScript script the way the CLI and the worker run (tsx loader, react-server condition). */
export function runScript(script: string, env: NodeJS.ProcessEnv): void {
  const res = spawnSync(process.execPath, [...tsxArgs(), script, ...(script.endsWith("db-migrate.ts") ? ["deploy"] : [])], {
    env,
    encoding: "utf8",
  });
  if (res.status !== 0) throw new Error(`${script} failed:\n${res.stdout}\n${res.stderr}`);
}

/** Builds when any source is newer than the build (scripts/lib.sh ensure_build). */
export function ensureBuild(env: NodeJS.ProcessEnv): void {
  const build = spawnSync("bash", ["-c", "source scripts/lib.sh && ensure_build"], { env, encoding: "utf8" });
  if (build.status !== 0) throw new Error(`next build failed:\n${build.stdout}\n${build.stderr}`);
}

/**
 * Starts the production server on 127.0.0.1:port and waits until it answers. `server/web/main.mjs` is what
 * `npm start` and the e2e tests run; `next start` is the bare one. Each runs in a process group of its own.
 */
export async function startServer(
  env: NodeJS.ProcessEnv,
  port: number,
  how: "main.mjs" | "next start" = "next start",
): Promise<ChildProcess> {
  ensureBuild(env);
  const args =
    how === "main.mjs"
      ? ["server/web/main.mjs"]
      : ["node_modules/next/dist/bin/next", "start", "-H", "127.0.0.1", "-p", String(port)];
  const server = spawn(process.execPath, args, {
    env: { ...env, NODE_ENV: "production", HOST: "127.0.0.1", PORT: String(port) },
    stdio: "ignore",
    detached: true,
  });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (await fetch(`http://127.0.0.1:${port}/login`).then((r) => r.ok, () => false)) return server;
    await new Promise((r) => setTimeout(r, 250));
  }
  stopGroup(server);
  throw new Error(`the server did not answer on port ${port} within 60 s`);
}

/** The job worker as `npm start` runs it (scripts/lib.sh start_worker), in a process group of its own. */
export function startWorker(env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [...tsxArgs(), "server/worker/main.ts"], { env, stdio: "ignore", detached: true });
}

/** Stops a process started here and everything it started (next start forks a worker). */
export function stopGroup(child: ChildProcess): void {
  if (!child.pid) return;
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    // already gone
  }
}

export async function logIn(page: Page, baseUrl: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel("User name").fill("admin");
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL((u) => !u.pathname.startsWith("/login"));
}

/** Resident memory of a process and all its descendants, in bytes (Linux /proc). */
export function treeRss(pid: number): number {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name may hold spaces and parentheses: the fields after the last ")" are fixed.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // the process ended meanwhile
    }
  }
  const inTree = (p: number): boolean => {
    for (let cur: number | undefined = p, hops = 0; cur !== undefined && hops < 64; cur = parentOf.get(cur), hops++) {
      if (cur === pid) return true;
    }
    return false;
  };
  let total = 0;
  for (const p of parentOf.keys()) {
    if (!inTree(p)) continue;
    try {
      const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, "utf8"))?.[1];
      total += Number(kb ?? 0) * 1024;
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

export const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
export const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
