#!/usr/bin/env bash
# `npm test`: every test, unit, integration (real QEMU), the database's integration tests again on PostgreSQL,
# and e2e (Debian's chromium). Sets up what is missing first, like `npm start`, then exits 0 only if everything
# passed.
source "$(dirname "$0")/lib.sh"

ensure_qemu
ensure_chromium
ensure_postgres
ensure_node_modules
ensure_database

mkdir -p test-results
status=0
say "type check"
npx --no-install tsc --noEmit -p . || status=1

say "unit and integration tests (vitest)"
# These tests get a SQLite file each; only the PostgreSQL pass, in its own copy, sends them to PostgreSQL.
env -u CANOPY_TEST_POSTGRES_URL npx --no-install vitest run --reporter=default --reporter=json \
  --outputFile.json=test-results/vitest.json || status=1

say "the database's integration tests on PostgreSQL (vitest, throw-away cluster)"
bash scripts/test-postgres.sh test-results/vitest-postgresql.json || status=1

say "end-to-end tests (playwright, chromium)"
ensure_build
PLAYWRIGHT_JSON_OUTPUT_NAME=test-results/playwright.json \
  npx --no-install playwright test --reporter=list,json || status=1
# The e2e server's demo disk daemon outlives the server, as a VM would; the test run is over, so stop it.
pkill -f "qemu-storage-daemon.*$CANOPY_DIR/e2e/artifacts/data/" 2>/dev/null || true

node scripts/test-summary.mjs test-results/vitest.json test-results/vitest-postgresql.json test-results/playwright.json || status=1
exit $status
