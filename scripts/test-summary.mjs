// Adds up the JSON reports of the run (vitest on SQLite, vitest on PostgreSQL, playwright) into one line each and
// a closing total, "N passed, N failed", so a reader (or CI) sees every pass and the whole run's count at a
// glance. A missing report counts as a failure: a runner that did not report did not pass; so does a report in
// which nothing passed (a pass whose tests were all skipped proves nothing).
import { readFileSync } from "node:fs";
import path from "node:path";

const total = { passed: 0, failed: 0, skipped: 0 };
const line = (c) => `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`;

for (const file of process.argv.slice(2)) {
  const name = path.basename(file, ".json");
  const counts = countsOf(file);
  if (!counts) {
    console.error(`${name}: no readable report at ${file}`);
    total.failed += 1;
    continue;
  }
  if (counts.passed === 0) counts.failed += 1;
  console.log(`${name}: ${line(counts)}`);
  for (const key of Object.keys(total)) total[key] += counts[key];
}
console.log(`total: ${line(total)}`);
process.exit(total.failed > 0 || total.passed === 0 ? 1 : 0);

function countsOf(file) {
  let report;
  try {
    report = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return null;
  }
  if (Array.isArray(report.testResults)) {
    // vitest (jest-compatible shape)
    return {
      passed: report.numPassedTests ?? 0,
      failed: (report.numFailedTests ?? 0) + (report.numRuntimeErrorTestSuites ?? 0),
      skipped: (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0),
    };
  }
  if (report.stats) {
    // playwright
    return {
      passed: (report.stats.expected ?? 0) + (report.stats.flaky ?? 0),
      failed: (report.stats.unexpected ?? 0) + (report.errors ?? []).length,
      skipped: report.stats.skipped ?? 0,
    };
  }
  return null;
}
