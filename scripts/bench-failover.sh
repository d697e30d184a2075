#!/bin/sh
# Failover latency, keepalived-rs against keepalived, in the same run and the same lab.
#
#   scripts/bench-failover.sh [RUNS] [INTERVALS...]     (defaults: 5 runs at 0.1 and 1 s)
#
# For each implementation and VRRPv3 advert interval: a master (priority 200) and a backup
# (priority 100) of the same implementation on one bridged segment (scripts/lab.sh); the
# master is SIGKILLed and a capture on the bridge gives
#   takeover = first advert of the backup - last advert of the master
#   excess   = takeover - Master_Down_Interval (3 x interval + 156/256 x interval)
# Prints mean / min / max per implementation and the ratio keepalived-rs / keepalived.
# Needs root, tcpdump, tshark, keepalived (BIN=path overrides target/release/keepalived-rs).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
lab="$here/lab.sh"
BIN=${BIN:-$root/target/release/keepalived-rs}
KEEPALIVED=${KEEPALIVED:-/usr/sbin/keepalived}
RUNS=${1:-5}
[ $# -gt 0 ] && shift
INTERVALS=${*:-0.1 1}

[ "$(id -u)" = 0 ] || { echo "bench-failover: needs root" >&2; exit 1; }
for t in tcpdump tshark; do
    command -v $t >/dev/null || { echo "bench-failover: $t missing" >&2; exit 1; }
done
if [ ! -x "$BIN" ]; then
    (cd "$root" && cargo build --release --quiet) || exit 1
fi
have_keepalived=1
[ -x "$KEEPALIVED" ] || { echo "bench-failover: $KEEPALIVED missing: keepalived-rs only" >&2; have_keepalived=0; }

P=kb$$
dir=$(mktemp -d /tmp/krs-bench.XXXXXX)
cleanup() { "$lab" down "$P" >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT INT TERM

conf() { # prio interval
    cat <<EOC
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 42
    priority $1
    advert_int $2
    version 3
    virtual_ipaddress {
        10.77.0.100/24
    }
}
EOC
}

has_vip() { ip -n "$P$1" -o addr show | grep -q ' 10.77.0.100/'; }

wait_until() { # seconds command...
    lim=$1; shift
    end=$(( $(date +%s) + lim ))
    while ! "$@"; do
        [ "$(date +%s)" -ge "$end" ] && return 1
        sleep 0.02
    done
}

nsclean() { # kill everything in a router namespace, drop the VIP
    for n in r1 r2; do
        pids=$(ip netns pids "$P$n" 2>/dev/null || true)
        [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
        ip -n "$P$n" addr del 10.77.0.100/24 dev eth0 2>/dev/null || true
    done
    sleep 0.2
}

start() { # impl node prio interval tag
    conf "$3" "$4" > "$dir/$5.conf"
    case $1 in
        keepalived-rs)
            ip netns exec "$P$2" "$BIN" -n -l -f "$dir/$5.conf" -p "$dir/$5.pid" \
                >"$dir/$5.log" 2>&1 &;;
        keepalived)
            ip netns exec "$P$2" "$KEEPALIVED" -n -l -D --vrrp -f "$dir/$5.conf" \
                -p "$dir/$5.pid" -r "$dir/$5.vrrp.pid" -c "$dir/$5.chk.pid" \
                >"$dir/$5.log" 2>&1 &;;
    esac
}

one_run() { # impl interval run -> prints takeover seconds
    impl=$1; iv=$2; tag="$impl-$iv-$3"
    nsclean
    start "$impl" r1 200 "$iv" "$tag-m"
    start "$impl" r2 100 "$iv" "$tag-b"
    settle=$(awk -v i="$iv" 'BEGIN { printf "%d", 5 * i + 4 }')
    wait_until "$settle" has_vip r1 || { echo "NaN"; return; }
    sleep "$(awk -v i="$iv" 'BEGIN { print 2 * i + 0.3 }')"
    ip netns exec "${P}sw" tcpdump --immediate-mode -i br0 -n -U -w "$dir/$tag.pcap" \
        'ip proto 112' 2>"$dir/$tag.tcpdump" &
    cap=$!
    wait_until 5 grep -qs 'listening on' "$dir/$tag.tcpdump" || true
    sleep "$(awk -v i="$iv" 'BEGIN { print 3 * i + 0.2 }')"
    # keepalived's VRRP child gets SIGTERM when its parent dies (PDEATHSIG) and would send a
    # priority-0 advert: kill the child first, as a crash would.
    [ -f "$dir/$tag-m.vrrp.pid" ] && kill -9 "$(cat "$dir/$tag-m.vrrp.pid")" 2>/dev/null || true
    pids=$(ip netns pids "${P}r1")
    kill -9 $pids 2>/dev/null || true
    wait_until "$settle" has_vip r2 || true
    sleep "$(awk -v i="$iv" 'BEGIN { print 2 * i + 0.3 }')"
    kill -INT $cap 2>/dev/null || true
    wait $cap 2>/dev/null || true
    tshark -r "$dir/$tag.pcap" -Y vrrp -T fields -e frame.time_epoch -e ip.src -e vrrp.prio \
        2>/dev/null | awk '
        $2 == "10.77.0.2" && $3 > 0 && !done { if (last) printf "%.6f\n", $1 - last; else print "NaN"; done = 1 }
        $2 == "10.77.0.1" && !done { last = $1 }
        END { if (!done) print "NaN" }'
}

"$lab" up "$P" 2 >/dev/null
impls="keepalived-rs"
[ "$have_keepalived" = 1 ] && impls="keepalived-rs keepalived"

printf '%-14s %8s %5s %10s %10s %10s %10s %10s\n' implementation interval runs \
    "MDI(ms)" "median" "mean" "min" "max"
for iv in $INTERVALS; do
    mdi=$(awk -v i="$iv" 'BEGIN { print (3 * i + 156 * i / 256) * 1000 }')
    for impl in $impls; do
        r=1
        : > "$dir/results-$impl-$iv"
        while [ "$r" -le "$RUNS" ]; do
            one_run "$impl" "$iv" "$r" >> "$dir/results-$impl-$iv"
            r=$((r + 1))
        done
        grep -v NaN "$dir/results-$impl-$iv" | sort -n | awk -v impl="$impl" -v iv="$iv" -v mdi="$mdi" '
            { v[++n] = $1 * 1000; s += $1 * 1000 }
            END {
                if (n == 0) { printf "%-14s %8s %5d %10.1f %10s\n", impl, iv, 0, mdi, "failed"; exit }
                med = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
                printf "%-14s %8s %5d %10.1f %10.1f %10.1f %10.1f %10.1f\n", impl, iv, n, mdi, med, s / n, v[1], v[n]
                printf "%s %s %.3f\n", impl, iv, med - mdi > "/dev/stderr"
            }' 2>>"$dir/excess"
    done
done
nsclean
if [ "$have_keepalived" = 1 ]; then
    echo
    echo "excess over Master_Down_Interval (median):"
    for iv in $INTERVALS; do
        awk -v iv="$iv" '
            $2 == iv && $1 == "keepalived-rs" { a = $3 }
            $2 == iv && $1 == "keepalived" { b = $3 }
            END {
                if (a == "" || b == "") { printf "  %s s: n/a\n", iv; exit }
                printf "  %s s: keepalived-rs %+.2f ms, keepalived %+.2f ms\n", iv, a, b
            }' "$dir/excess"
    done
    echo "takeover time ratio (keepalived-rs / keepalived, medians):"
    median() { grep -v NaN "$1" | sort -n | awk '{ v[++n] = $1 } END { if (n) print (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }'; }
    for iv in $INTERVALS; do
        a=$(median "$dir/results-keepalived-rs-$iv")
        b=$(median "$dir/results-keepalived-$iv")
        awk -v iv="$iv" -v a="$a" -v b="$b" 'BEGIN {
            if (a == "" || b == "" || b == 0) printf "  %s s: n/a\n", iv
            else printf "  %s s: %.3f\n", iv, a / b }'
    done
fi
