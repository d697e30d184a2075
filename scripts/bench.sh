#!/bin/sh
# Benchmarks that need the real system (called by `make bench` after `cargo bench`): builds
# the release binary once, then runs every scripts/bench-*.sh (failover latency against
# keepalived, and any other bench-* driver present). Needs root.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
if [ "$(id -u)" != 0 ]; then
    echo "scripts/bench.sh: needs root (network namespaces): skipped"
    exit 0
fi
(cd "$root" && cargo build --release --quiet)
status=0
for b in "$here"/bench-*.sh; do
    [ -x "$b" ] || continue
    echo "== $(basename "$b")"
    "$b" || status=1
done
exit $status
