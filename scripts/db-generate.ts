// Generate the Prisma client for the provider DATABASE_URL implies, into server/generated/prisma.
//
//   npx tsx scripts/db-generate.ts [--force]
//
// A generated client is tied to one provider, so for PostgreSQL the client is generated from a
// rewritten copy of the schema. A stamp file in the output folder skips the ~1 s of work when
// nothing changed (schema, provider or Prisma version).
import "dotenv/config";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { databaseUrl, providerOf } from "../server/db-config";
import { SCHEMA_PATH, schemaFor } from "../server/migrations/files";
import { ROOT, fail } from "./db-schema";

const GENERATED_DIR = path.join(ROOT, "server", "generated"); // git-ignored
const OUTPUT_DIR = path.join(GENERATED_DIR, "prisma");
const STAMP = path.join(OUTPUT_DIR, ".canopy-stamp");

function main(): void {
  const provider = providerOf(databaseUrl());
  const require = createRequire(import.meta.url);
  const prismaCli = require.resolve("prisma/build/index.js");
  const versions = ["prisma", "@prisma/client"].map((p) => `${p}@${require(`${p}/package.json`).version}`);

  // Generate next to a copy of the schema, then swap the result in: a failed run leaves the
  // previous client whole, and a new one has no files left over from the other provider.
  const schema = schemaFor(provider).replace(/(\boutput\s*=\s*)"[^"]*"/, '$1"./prisma"');
  const stamp = crypto.createHash("sha256").update([provider, ...versions, schema].join("\n")).digest("hex");
  const force = process.argv.includes("--force");
  if (!force && fs.existsSync(path.join(OUTPUT_DIR, "client.ts")) && readOr(STAMP) === stamp) {
    console.log(`Prisma client (${provider}) is up to date`);
    return;
  }

  fs.mkdirSync(GENERATED_DIR, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(GENERATED_DIR, ".tmp-"));
  const schemaPath = path.join(tmp, "schema.prisma");
  fs.writeFileSync(schemaPath, schema);
  try {
    const run = spawnSync(process.execPath, [prismaCli, "generate", "--schema", schemaPath], {
      cwd: ROOT,
      encoding: "utf8",
      env: {
        ...process.env,
        // Prisma tries to download its native schema engine first; generate never runs it, so
        // any existing file will do (the schema itself: it would fail loudly if ever executed).
        PRISMA_SCHEMA_ENGINE_BINARY: SCHEMA_PATH,
        CHECKPOINT_DISABLE: "1",
        PRISMA_HIDE_UPDATE_MESSAGE: "1",
      },
    });
    if (run.status !== 0) {
      const out = `${run.stderr ?? ""}\n${run.stdout ?? ""}`
        .replace(/\x1b\[[0-9;]*m/g, "")
        .split("\n")
        .filter((l) => /error/i.test(l));
      throw new Error(out.join(" ") || run.error?.message || `prisma generate exited with ${run.status}`);
    }
    fs.writeFileSync(path.join(tmp, "prisma", path.basename(STAMP)), stamp);
    fs.rmSync(OUTPUT_DIR, { recursive: true, force: true });
    fs.renameSync(path.join(tmp, "prisma"), OUTPUT_DIR);
    console.log(`Generated Prisma client (${provider}) in ${path.relative(process.cwd(), OUTPUT_DIR)}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function readOr(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

try {
  main();
} catch (err) {
  fail("db-generate", err);
}
