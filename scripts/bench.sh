#!/bin/sh
# `make bench` after `cargo bench`: keepalived-rs beside keepalived 2.2.7 in the same run
# (issue 12). Builds the release binary, installs keepalived when it is missing (apt-get),
# then runs scripts/bench/suite.py in network namespaces of its own (prefix kb<PID>, all
# removed on every exit path) and writes the table of ratios to BENCHMARKS.md.
#
#   BENCH_QUICK=1     short windows and fewer runs, for development (about 4 minutes); the
#                     table goes to target/bench/BENCHMARKS.quick.md unless BENCH_OUT is set
#   BENCH_OUT=FILE    where the table goes (default BENCHMARKS.md, at the repository root)
#   BENCH_ONLY=...    some sections only: cpu,search,rss1,failover,check,size
#   BENCH_EXTRA=1     then also every other scripts/bench-*.sh driver (checkers under load,
#                     hostile configurations, ...), which are not part of the 15-minute budget
#   BIN=path          keepalived-rs binary to measure (default target/release/keepalived-rs)
#   KEEPALIVED=path   keepalived binary (default: the one on PATH)
# Needs root, iproute2, tcpdump, python3, binutils (strip), ldd.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")

if [ "$(id -u)" != 0 ]; then
    echo "scripts/bench.sh: needs root (network namespaces)"
    [ -n "${CI:-}" ] && exit 1
    exit 0
fi

if ! command -v "${KEEPALIVED:-keepalived}" >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        echo "bench: installing keepalived (apt-get)"
        apt-get install -y -qq --no-install-recommends keepalived >/dev/null ||
            { apt-get update -qq && apt-get install -y -qq --no-install-recommends keepalived >/dev/null; }
        # The package starts its own daemon: the benchmark runs its own.
        systemctl stop keepalived >/dev/null 2>&1 || true
    fi
    command -v "${KEEPALIVED:-keepalived}" >/dev/null 2>&1 ||
        { echo "bench: keepalived missing and not installable" >&2; exit 1; }
fi
for t in ip tcpdump python3 strip ldd; do
    command -v $t >/dev/null 2>&1 || { echo "bench: $t missing" >&2; exit 1; }
done

if [ -z "${BIN:-}" ]; then
    (cd "$root" && cargo build --release --quiet)
fi

prefix=kb$$
cleanup() {
    for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }' | grep -E "^${prefix}[a-z]$" || true); do
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
        ip netns del "$ns" 2>/dev/null || true
    done
}
py=
# The suite runs in the background so that a signal reaches this trap at once; the suite
# removes what it made on SIGTERM, and cleanup() removes whatever is left of the prefix.
stop() {
    if [ -n "$py" ]; then kill -TERM "$py" 2>/dev/null || true; wait "$py" 2>/dev/null || true; fi
    cleanup
}
trap cleanup EXIT
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap 'stop; exit 129' HUP

if [ -n "${BENCH_QUICK:-}" ] && [ "${BENCH_QUICK}" != 0 ]; then
    out=${BENCH_OUT:-$root/target/bench/BENCHMARKS.quick.md}
else
    out=${BENCH_OUT:-$root/BENCHMARKS.md}
fi
mkdir -p "$root/target/bench"
status=0
BENCH_PREFIX=$prefix python3 "$here/bench/suite.py" "$out" &
py=$!
wait "$py" || status=1
py=

if [ -n "${BENCH_EXTRA:-}" ] && [ "${BENCH_EXTRA}" != 0 ]; then
    for b in "$here"/bench-*.sh; do
        [ -x "$b" ] || continue
        echo "== $(basename "$b")"
        "$b" || status=1
    done
fi
exit $status
