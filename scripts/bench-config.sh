#!/usr/bin/env bash
# Configuration check time, keepalived-rs against keepalived 2.2, in the same run.
#
# Generates the 10 000-instance / 40-interface configuration of benches/config_parse.rs,
# creates a network namespace holding eth0..eth39 (both checkers look the interfaces up),
# then times `-t -f FILE` of each binary (median of RUNS runs) and prints the ratio.
# Needs root and keepalived; called by scripts/bench.sh (`make bench`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-5}
ns="kbcfg$$"
work=$(mktemp -d)
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM

command -v keepalived >/dev/null || { echo "bench-config: keepalived not installed"; exit 1; }
bin="$root/target/release/keepalived-rs"
[ -x "$bin" ] || (cd "$root" && cargo build --release --quiet)
(cd "$root" && cargo bench --quiet --bench config_parse -- --write "$work/big.conf" >/dev/null)

ip netns add "$ns"
for i in $(seq 0 39); do
    ip -n "$ns" link add "eth$i" type veth peer name "p$i"
done

# median wall time in ms of "$@" run RUNS times inside the namespace
median_ms() {
    local t=()
    for _ in $(seq "$RUNS"); do
        local a b
        a=$(date +%s%N)
        ip netns exec "$ns" "$@" >/dev/null 2>&1 || true
        b=$(date +%s%N)
        t+=($(( (b - a) / 1000 )))
    done
    printf '%s\n' "${t[@]}" | sort -n | awk '{v[NR]=$1} END {printf "%.1f", v[int((NR+1)/2)]/1000}'
}

rs=$(median_ms "$bin" -t -f "$work/big.conf")
ka=$(median_ms keepalived -t -f "$work/big.conf")
echo "config check, 10000 instances / 40 interfaces (median of $RUNS, whole process):"
echo "  keepalived-rs -t: ${rs} ms"
echo "  keepalived -t:    ${ka} ms"
awk -v a="$rs" -v b="$ka" 'BEGIN { printf "  ratio keepalived-rs / keepalived: %.3f (%.1fx faster)\n", a/b, b/a }'
