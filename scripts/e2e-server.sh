#!/usr/bin/env bash
# The server the e2e tests run against: a fresh data folder (demo storage root, its own database) under
# e2e/artifacts/data, the job worker, and the web server (server/web/main.mjs: `next start` that also reports
# the peer's address) on port 3100. Tests read the layers on disk there.
source "$(dirname "$0")/lib.sh"

DATA="$CANOPY_DIR/e2e/artifacts/data"
# A daemon left by an earlier run still holds files in the old folder: stop it before the folder goes.
pkill -f "qemu-storage-daemon.*$DATA/" 2>/dev/null || true
rm -rf "$DATA"
mkdir -p "$DATA"
export CANOPY_STORAGE_ROOT="$DATA/storage"
export CANOPY_BACKUP_ROOT="$DATA/backups"
export DATABASE_URL="file:$DATA/canopy.db"
export CANOPY_RUN_DIR="$DATA/run"
export CANOPY_WORKER_POLL_MS=200
# The admin's password the tests log in with (e2e/fixtures.ts reads the same variable, with the same default).
export CANOPY_ADMIN_PASSWORD="${CANOPY_ADMIN_PASSWORD:-e2e-admin-password}"

ensure_database
canopy_tsx scripts/prepare-storage.ts
ensure_build
start_worker
start_demo_live
trap 'kill $WORKER_PID $DEMO_PID 2>/dev/null || true' EXIT INT TERM
NODE_ENV=production HOST=127.0.0.1 PORT="${E2E_PORT:-3100}" node server/web/main.mjs
