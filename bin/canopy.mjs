#!/usr/bin/env node
// The CLI is TypeScript run through tsx, with the `react-server` condition so that the server-only modules it
// shares with the web app load outside Next. Node flags cannot be set from inside a running process, hence
// the one re-exec.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const tsx = pathToFileURL(require.resolve("tsx")).href;
const entry = path.join(here, "..", "server", "cli", "main.ts");
const res = spawnSync(
  process.execPath,
  ["--conditions=react-server", "--import", tsx, entry, ...process.argv.slice(2)],
  { stdio: "inherit" },
);
process.exit(res.status ?? 1);
