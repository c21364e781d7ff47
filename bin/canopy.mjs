#!/usr/bin/env node
// The CLI is TypeScript run through tsx, with the `react-server` condition so that the server-only modules it
// shares with the web app load outside Next. Node flags cannot be set from inside a running process, hence
// the one re-exec.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const checkout = path.join(here, "..");
const require = createRequire(import.meta.url);
const tsx = pathToFileURL(require.resolve("tsx")).href;
const entry = path.join(checkout, "server", "cli", "main.ts");

// The Prisma client is generated, not committed: right after `npm ci` it is not there yet (`npm start` makes it;
// a CLI-only admin should not need to know). Its messages go to stderr, so that --json output stays one object.
if (!existsSync(path.join(checkout, "server", "generated", "prisma", "client.ts"))) {
  const generate = spawnSync(process.execPath, ["--import", tsx, path.join(checkout, "scripts", "db-generate.ts")], {
    cwd: checkout,
    stdio: ["ignore", process.stderr, process.stderr],
    timeout: 120_000,
  });
  if (generate.status !== 0) process.exit(2);
}

const child = spawn(process.execPath, ["--conditions=react-server", "--import", tsx, entry, ...process.argv.slice(2)], {
  stdio: "inherit",
});
// A stop signal sent to this process alone (a service manager stopping `canopy worker`, `kill <pid>`) must reach
// the process doing the work, or it would run on without its parent.
const forwarded = ["SIGINT", "SIGTERM", "SIGHUP"];
for (const signal of forwarded) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => {
  if (signal) {
    // End the way the child ended, so a caller sees the same signal.
    for (const s of forwarded) process.removeAllListeners(s);
    process.kill(process.pid, signal);
  }
  process.exit(code ?? 1);
});
