#!/usr/bin/env bash
# `npm start`: from a fresh machine to a running dashboard. Installs what is missing, migrates, creates the demo
# storage root when the configured root is empty, builds if needed, then runs the job worker and the server.
source "$(dirname "$0")/lib.sh"

ensure_qemu
ensure_node_modules
ensure_database
canopy_tsx scripts/prepare-storage.ts
ensure_build

PORT="${PORT:-3000}"
HOST="${HOST:-127.0.0.1}"
start_worker
start_demo_live
trap 'kill $WORKER_PID $DEMO_PID 2>/dev/null || true' EXIT INT TERM
say "dashboard on http://$HOST:$PORT (worker pid $WORKER_PID)"
NODE_ENV=production HOST="$HOST" PORT="$PORT" node server/web/main.mjs
