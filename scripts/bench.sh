#!/usr/bin/env bash
# `npm run bench [name]`: runs bench/<name>.ts, or every benchmark. They print ratios against a baseline run in
# the same process; they are measurements, not tests.
source "$(dirname "$0")/lib.sh"
ensure_qemu
ensure_node_modules
names=("$@")
[ ${#names[@]} -eq 0 ] && names=($(cd bench && ls *.ts | sed 's/\.ts$//'))
for n in "${names[@]}"; do
  say "bench/$n.ts"
  canopy_tsx "bench/$n.ts"
done
