# Shared steps of `npm start`, `npm test` and CI. Each step checks first and does only what is missing, so a
# second run is quick and touches no existing data.
set -euo pipefail

CANOPY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$CANOPY_DIR"
export NEXT_TELEMETRY_DISABLED=1
# Prisma's CLI downloads a native schema engine first; it cannot be reached here and is never run (migrations
# use the WebAssembly engine, scripts/db-migrate.ts). Any existing file satisfies the check.
export PRISMA_SCHEMA_ENGINE_BINARY="${PRISMA_SCHEMA_ENGINE_BINARY:-/bin/true}"
export PRISMA_SKIP_POSTINSTALL_GENERATE=1
[ -f .env ] && set -a && . ./.env && set +a

say() { printf '\033[1;32mcanopy:\033[0m %s\n' "$*"; }
die() { printf '\033[1;31mcanopy:\033[0m %s\n' "$*" >&2; exit 1; }

# ensure_packages PKG:CMD ... installs each Debian package whose command is missing.
ensure_packages() {
  local missing=()
  for pair in "$@"; do
    local pkg="${pair%%:*}"
    command -v "${pair#*:}" >/dev/null 2>&1 || [[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] || install_packages "${missing[@]}"
}

# install_packages PKG ... installs Debian packages with apt-get as root, or stops with the command to run.
install_packages() {
  if [ "$(id -u)" -ne 0 ]; then
    die "missing system packages: $*. Install them as root: sudo apt-get install -y $*"
  fi
  say "installing $* (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  timeout 300 apt-get update -qq >/dev/null
  timeout 900 apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_qemu() {
  ensure_packages qemu-utils:qemu-img qemu-utils:qemu-io qemu-system-common:qemu-storage-daemon
}

ensure_chromium() {
  ensure_packages chromium:chromium
}

# Debian keeps the server programs (initdb, pg_ctl, postgres) off PATH, in /usr/lib/postgresql/<major>/bin;
# prints the newest such folder.
postgres_bin_dir() {
  local dir found=""
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
    [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && found="$dir"
  done
  [ -n "$found" ] && printf '%s\n' "$found"
}

# Sets PG_BIN to the folder holding initdb and pg_ctl, installing Debian's postgresql when there is none.
ensure_postgres() {
  PG_BIN="$(postgres_bin_dir)" && return 0
  install_packages postgresql
  PG_BIN="$(postgres_bin_dir)" || die "no initdb and pg_ctl under /usr/lib/postgresql/*/bin after installing postgresql"
}

ensure_node_modules() {
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "installing node modules (npm ci; the first time compiles better-sqlite3, about 1-2 minutes)"
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

ensure_database() {
  npx --no-install tsx scripts/db-generate.ts
  npx --no-install tsx scripts/db-migrate.ts deploy
}

# Builds when there is no build yet or any source is newer than it.
ensure_build() {
  if [ -f .next/BUILD_ID ] && [ -z "$(find app components lib server public proxy.ts next.config.js package-lock.json \
      -newer .next/BUILD_ID -type f -print -quit 2>/dev/null)" ]; then
    return 0
  fi
  say "building the dashboard (next build)"
  npx --no-install next build >/tmp/canopy-build.$$.log 2>&1 || { tail -40 /tmp/canopy-build.$$.log >&2; die "next build failed"; }
  rm -f /tmp/canopy-build.$$.log
}

# Node with tsx and the react-server condition (so server-only modules load outside Next), as the CLI runs.
TSX_LOADER=""
canopy_node_args() {
  [ -n "$TSX_LOADER" ] || TSX_LOADER="$(node -p 'require("url").pathToFileURL(require.resolve("tsx")).href')"
  printf '%s\n' --conditions=react-server --import "$TSX_LOADER"
}
canopy_tsx() {
  local args
  mapfile -t args < <(canopy_node_args)
  node "${args[@]}" "$@"
}
# Starts the job worker in the background and sets WORKER_PID to the node process itself, so it can be stopped.
start_worker() {
  local args
  mapfile -t args < <(canopy_node_args)
  node "${args[@]}" server/worker/main.ts &
  WORKER_PID=$!
}

# The demo's running disk and its stand-in guest (scripts/demo-live.ts); DEMO_PID is the writer's process.
start_demo_live() {
  local args
  mapfile -t args < <(canopy_node_args)
  node "${args[@]}" scripts/demo-live.ts &
  DEMO_PID=$!
}
