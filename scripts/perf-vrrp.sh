#!/bin/sh
# Quick VRRP data-path measurement of keepalived-rs (no keepalived: see `make bench` for the
# side-by-side table).
#
#   scripts/perf-vrrp.sh [COUNT] [INTERVAL] [SECONDS]     (defaults: 1000 0.1 15)
#
# Two routers in two network namespaces joined by four veth pairs (four segments, eth0..eth3),
# COUNT VRRPv3 instances spread over the segments at INTERVAL seconds, the master at priority
# 200, the backup at 100. After the instances settle, for SECONDS: CPU % of each daemon (from
# /proc/PID/stat), RSS (VmRSS), the packets each router's interfaces transmitted (the backup
# must send none: each one is a spurious takeover), and with STRACE=1 a 5 s `strace -c` of each.
# Every namespace and file it makes is removed on every exit path.
# Needs root. BIN=path overrides target/release/keepalived-rs; IMPL=keepalived runs
# keepalived (KEEPALIVED=path, default /usr/sbin/keepalived) instead, in the same lab (CPU
# and RSS are summed over each router's processes).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
BIN=${BIN:-$root/target/release/keepalived-rs}
COUNT=${1:-1000}
IV=${2:-0.1}
SECS=${3:-15}
SEGS=4

[ "$(id -u)" = 0 ] || { echo "perf-vrrp: needs root" >&2; exit 1; }
IMPL=${IMPL:-keepalived-rs}
KEEPALIVED=${KEEPALIVED:-/usr/sbin/keepalived}
case $IMPL in
    keepalived-rs) [ -x "$BIN" ] || { echo "perf-vrrp: $BIN missing: cargo build --release" >&2; exit 1; };;
    keepalived) [ -x "$KEEPALIVED" ] || { echo "perf-vrrp: $KEEPALIVED missing" >&2; exit 1; };;
    *) echo "perf-vrrp: IMPL=$IMPL: keepalived-rs or keepalived" >&2; exit 1;;
esac

P=pv$$
dir=$(mktemp -d /tmp/krs-perf.XXXXXX)
cleanup() {
    for n in m b; do
        pids=$(ip netns pids "$P$n" 2>/dev/null || true)
        [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
        ip netns del "$P$n" 2>/dev/null || true
    done
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "${P}m"
ip netns add "${P}b"
s=0
while [ $s -lt $SEGS ]; do
    ip netns exec "${P}m" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
    ip netns exec "${P}b" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
    ip link add "${P}a$s" netns "${P}m" type veth peer name "${P}z$s" netns "${P}b"
    ip -n "${P}m" link set "${P}a$s" name "eth$s"
    ip -n "${P}b" link set "${P}z$s" name "eth$s"
    ip -n "${P}m" addr add "10.$((90 + s)).0.1/16" dev "eth$s"
    ip -n "${P}b" addr add "10.$((90 + s)).0.2/16" dev "eth$s"
    ip -n "${P}m" link set "eth$s" up
    ip -n "${P}b" link set "eth$s" up
    s=$((s + 1))
done
for n in m b; do
    ip -n "$P$n" link set lo up
    # IPv4 only: no IPv6 DAD / MLD packets in the transmit counters.
    ip netns exec "$P$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
done

conf() { # priority
    awk -v n="$COUNT" -v segs="$SEGS" -v iv="$IV" -v prio="$1" 'BEGIN {
        for (i = 0; i < n; i++) {
            s = i % segs; v = int(i / segs) + 1
            printf "vrrp_instance VI_%d {\n    state BACKUP\n    interface eth%d\n", i, s
            printf "    virtual_router_id %d\n    priority %d\n    advert_int %s\n", v, prio, iv
            printf "    version 3\n    virtual_ipaddress {\n        10.%d.%d.%d/16\n    }\n}\n",
                90 + s, 1 + int(v / 250), 1 + v % 250
        }
    }'
}
conf 200 > "$dir/m.conf"
conf 100 > "$dir/b.conf"

start() { # node
    if [ "$IMPL" = keepalived ]; then
        ip netns exec "$P$1" "$KEEPALIVED" -n -l -D --vrrp -f "$dir/$1.conf" -p "$dir/$1.pid" \
            -r "$dir/$1.vrrp.pid" -c "$dir/$1.chk.pid" >"$dir/$1.log" 2>&1 &
    else
        ip netns exec "$P$1" "$BIN" -n -l -f "$dir/$1.conf" -p "$dir/$1.pid" \
            >"$dir/$1.log" 2>&1 &
    fi
    echo $!
}
bpid=$(start b)
sleep 0.5
mpid=$(start m)

txsum() { # node
    ip netns exec "$P$1" cat /proc/net/dev | awk '$1 ~ /^eth[0-9]+:$/ { s += $11 } END { print s + 0 }'
}
rxsum() { # node
    ip netns exec "$P$1" cat /proc/net/dev | awk '$1 ~ /^eth[0-9]+:$/ { s += $3 } END { print s + 0 }'
}
# Summed over the processes of the router's namespace (keepalived has a parent and a child).
ticks() { # node
    for p in $(ip netns pids "$P$1"); do cat "/proc/$p/stat" 2>/dev/null; done |
        awk '{ s += $14 + $15 } END { print s + 0 }'
}
rss() { # node [field]
    for p in $(ip netns pids "$P$1"); do cat "/proc/$p/status" 2>/dev/null; done |
        awk -v f="${2:-VmRSS}:" '$1 == f { s += $2 } END { print s + 0 }'
}

# Settle: Master_Down_Interval at most ~3.6 intervals, plus start-up of COUNT instances.
settle=$(awk -v i="$IV" 'BEGIN { printf "%d", 4 * i + 4 }')
sleep "$settle"
for p in $mpid $bpid; do
    kill -0 "$p" 2>/dev/null || { echo "perf-vrrp: a daemon died" >&2; cat "$dir"/*.log >&2; exit 1; }
done
hz=$(getconf CLK_TCK)
m0=$(ticks m); b0=$(ticks b)
mt0=$(txsum m); bt0=$(txsum b); br0=$(rxsum b)
t0=$(date +%s.%N)
sleep "$SECS"
m1=$(ticks m); b1=$(ticks b)
mt1=$(txsum m); bt1=$(txsum b); br1=$(rxsum b)
t1=$(date +%s.%N)
vips=$(ip -n "${P}m" -o addr show | grep -c ' 10\.9[0-9]\.[0-9]*\.[0-9]*/16' || true)
vips=$((vips - SEGS))
awk -v n="$COUNT" -v iv="$IV" -v hz="$hz" -v t0="$t0" -v t1="$t1" \
    -v m0="$m0" -v m1="$m1" -v b0="$b0" -v b1="$b1" -v mt="$((mt1 - mt0))" -v bt="$((bt1 - bt0))" -v brx="$((br1 - br0))" \
    -v mr="$(rss m)" -v br="$(rss b)" -v ma="$(rss m RssAnon)" -v ba="$(rss b RssAnon)" -v impl="$IMPL" -v vips="$vips" 'BEGIN {
    d = t1 - t0
    printf "%s: instances %d @ %s s over %.1f s (master holds %d VIPs)\n", impl, n, iv, d, vips
    # CPU per packet: comparable between runs even when a loaded machine slows the rate.
    printf "  master: CPU %6.2f %%  RSS %6.1f MB (anon %.1f)  sent %d pkt (%.0f/s, %.2f us CPU each)\n", 100 * (m1 - m0) / hz / d, mr / 1024, ma / 1024, mt, mt / d, mt ? 1e6 * (m1 - m0) / hz / mt : 0
    printf "  backup: CPU %6.2f %%  RSS %6.1f MB (anon %.1f)  sent %d pkt, received %d (%.2f us CPU each)\n", 100 * (b1 - b0) / hz / d, br / 1024, ba / 1024, bt, brx, brx ? 1e6 * (b1 - b0) / hz / brx : 0
}'
if [ "${STRACE:-0}" = 1 ] && command -v strace >/dev/null; then
    for r in m b; do
        eval p=\$${r}pid
        echo "--- strace -c, 5 s, $r"
        timeout -s INT 5 strace -c -f -p "$p" 2>&1 | head -14 || true
    done
fi
if [ -n "${PERF:-}" ] && command -v perf >/dev/null; then
    echo "--- perf record, 10 s, master -> $PERF"
    perf record -g -o "$PERF" -p "$mpid" -- sleep 10 >/dev/null 2>&1 || true
    [ -n "${PERFB:-}" ] && { perf record -g -o "$PERFB" -p "$bpid" -- sleep 10 >/dev/null 2>&1 || true; }
fi
