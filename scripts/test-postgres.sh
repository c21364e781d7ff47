#!/usr/bin/env bash
# The PostgreSQL pass of `npm test`: the integration tests that use the database for real, run again against a
# throw-away PostgreSQL cluster, so that what the README promises for PostgreSQL is proven on every run.
#
#   bash scripts/test-postgres.sh [report.json]      (default test-results/vitest-postgresql.json)
#
# The generated Prisma client is tied to one provider, and the rest of the run uses the SQLite one in
# server/generated/, so the pass works in a copy of the sources (node_modules linked, not copied) whose client is
# generated for PostgreSQL. The cluster lives in a temporary folder, listens on a unix socket there only (no
# port to collide with), and is stopped and removed when the pass ends, whatever way it ends.
source "$(dirname "$0")/lib.sh"

# What uses the database: migrations and the client (db), the CLI's first use of a database (cli-setup);
# sessions and the login limits (auth, login-throttling, action-client); inventory sync, operation jobs from the
# dashboard and the CLI, a job's holder and end (server-actions, disk-activity); jobs claimed by a worker,
# recovered after a kill, cancelled (crash-recovery); the backup table, policies, retention and the worker's schedule (disk-backup-state,
# backups-overview, backup-schedule, backup-cli).
TESTS=(
  test/integration/db.test.ts
  test/integration/cli-setup.test.ts
  test/integration/auth.test.ts
  test/integration/login-throttling.test.ts
  test/integration/action-client.test.ts
  test/integration/server-actions.test.ts
  test/integration/disk-activity.test.ts
  test/integration/crash-recovery.test.ts
  test/integration/disk-backup-state.test.ts
  test/integration/backups-overview.test.ts
  test/integration/backup-schedule.test.ts
  test/integration/backup-cli.test.ts
  # Recording at scale (5,000 layers, a chain 1,000 deep) in bounded statements, a disk that cannot be recorded,
  # the worker's liveness check when a scan fails.
  test/integration/inventory-scale.test.ts
)
REPORT="$(realpath -m "${1:-test-results/vitest-postgresql.json}")"
rm -f "$REPORT"
mkdir -p "$(dirname "$REPORT")"

ensure_postgres
ensure_node_modules

WORK="$(mktemp -d "${TMPDIR:-/tmp}/canopy-pg-test.XXXXXX")"
PGDIR="$WORK/pg" # data folder, socket and log; owned by whoever runs the server
SRC="$WORK/src"
PORT_NUMBER=5432 # names the socket file only: nothing listens on TCP

# PostgreSQL refuses to run as root: as root, the server runs as Debian's `postgres` user.
as_server_user() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
  [ -z "${VITEST_GROUP:-}" ] || kill -- "-$VITEST_GROUP" 2>/dev/null || true
  # The workers and daemons the tests start are detached, as under a service manager; one that a failed or
  # interrupted test did not stop would outlive the pass, so whatever still runs inside the copy goes with it.
  cd "$WORK"
  local proc
  for proc in /proc/[0-9]*; do
    if [[ "$(readlink "$proc/cwd" 2>/dev/null)" == "$SRC"* ]]; then kill -9 "${proc#/proc/}" 2>/dev/null || true; fi
  done
  if [ -f "$PGDIR/data/postmaster.pid" ]; then
    as_server_user "$PG_BIN/pg_ctl" -D "$PGDIR/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "PostgreSQL pass: a throw-away cluster ($("$PG_BIN/postgres" --version))"
mkdir -p "$PGDIR"
cd "$WORK" # a folder the server's user may enter
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || die "no \"postgres\" user to run the PostgreSQL server as (Debian's postgresql package makes it)"
  chmod 755 "$WORK"
  chown postgres: "$PGDIR"
fi
as_server_user timeout 120 "$PG_BIN/initdb" -D "$PGDIR/data" -U canopy --auth=trust --no-locale -E UTF8 --no-sync >"$WORK/initdb.log" 2>&1 ||
  { cat "$WORK/initdb.log" >&2; die "initdb failed"; }
# Durability is of no use to a cluster that is deleted in a minute, and costs much on a shared disk.
cat >>"$PGDIR/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$PGDIR'
port = $PORT_NUMBER
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
as_server_user "$PG_BIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 60 start >/dev/null ||
  { tail -20 "$PGDIR/server.log" >&2; die "the PostgreSQL server did not start"; }

# The sources as they are now, without what is built, installed or generated.
mkdir -p "$SRC"
tar -C "$CANOPY_DIR" -cf - --exclude=./node_modules --exclude=./.git --exclude=./.next --exclude=./data \
  --exclude=./test-results --exclude=./playwright-report --exclude=./e2e/artifacts --exclude=./server/generated \
  --exclude='*.tsbuildinfo' . | tar -C "$SRC" -xf -
ln -s "$CANOPY_DIR/node_modules" "$SRC/node_modules"
cd "$SRC"

url_of() { printf 'postgresql://canopy@localhost:%s/%s?host=%s' "$PORT_NUMBER" "$1" "$PGDIR"; }
# Tests make a database per installation on this server (test/support/test-database.ts).
export CANOPY_TEST_POSTGRES_URL="$(url_of postgres)"
export DATABASE_URL="$(url_of canopy)"
timeout 120 npx --no-install tsx scripts/db-generate.ts
# Applied once up front too, so that a migration PostgreSQL refuses is reported as such, not as every test failing.
timeout 60 "$PG_BIN/createdb" -h "$PGDIR" -p "$PORT_NUMBER" -U canopy canopy
timeout 120 npx --no-install tsx scripts/db-migrate.ts deploy
# --no-cache: the linked node_modules holds the main run's record of test durations; this pass leaves it alone.
# In the background, so that an interrupted pass can stop it (timeout runs it in a process group of its own).
timeout 1200 npx --no-install vitest run "${TESTS[@]}" --no-cache --reporter=default --reporter=json \
  --outputFile.json="$REPORT" &
VITEST_GROUP=$!
wait "$VITEST_GROUP"
