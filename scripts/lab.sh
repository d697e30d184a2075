#!/bin/sh
# Network-namespace lab for keepalived-rs end-to-end and interop tests.
#
#   lab.sh up   PREFIX N [SEGMENTS]   N routers PREFIXr1..PREFIXrN, each with eth0..eth(S-1),
#                                     one bridge per segment (br0..) in switch namespace
#                                     PREFIXsw (multicast snooping off). Router i gets
#                                     10.(77+s).0.i/24 on eth<s> (set LAB_NO_ADDR=1 to skip).
#   lab.sh down PREFIX                remove every namespace of the lab (and what runs there)
#   lab.sh exec PREFIX NODE CMD...    run CMD in PREFIX<NODE> (NODE: r1, r2, ..., sw)
#   lab.sh list PREFIX                the lab's namespaces
#
# PREFIX must be short (interface names are derived from it) and unique, e.g. "k$$".
# Everything is created inside the lab's own namespaces; nothing touches the host's.
set -eu

die() { echo "lab.sh: $*" >&2; exit 1; }

check_prefix() {
    case "$1" in
        ''|*[!A-Za-z0-9_]*) die "bad prefix '$1' (letters, digits, _)";;
    esac
    [ "${#1}" -le 8 ] || die "prefix '$1' longer than 8 characters"
}

up() {
    prefix=$1; n=$2; segs=${3:-1}
    check_prefix "$prefix"
    case "$n$segs" in *[!0-9]*) die "N and SEGMENTS must be numbers";; esac
    sw=${prefix}sw
    ip netns add "$sw"
    ip -n "$sw" link set lo up
    s=0
    while [ "$s" -lt "$segs" ]; do
        ip -n "$sw" link add "br$s" type bridge
        ip -n "$sw" link set "br$s" type bridge mcast_snooping 0 forward_delay 0 stp_state 0
        ip -n "$sw" link set "br$s" up
        s=$((s + 1))
    done
    i=1
    while [ "$i" -le "$n" ]; do
        r=${prefix}r$i
        ip netns add "$r"
        ip -n "$r" link set lo up
        ip netns exec "$r" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
            net.ipv6.conf.default.accept_dad=0 >/dev/null
        s=0
        while [ "$s" -lt "$segs" ]; do
            tmp=${prefix}t$i$s
            ip link add "$tmp" netns "$r" type veth peer name "p$i$s" netns "$sw"
            ip -n "$r" link set "$tmp" name "eth$s"
            ip -n "$sw" link set "p$i$s" master "br$s" up
            ip -n "$r" link set "eth$s" up
            if [ -z "${LAB_NO_ADDR:-}" ]; then
                ip -n "$r" addr add "10.$((77 + s)).0.$i/24" dev "eth$s"
            fi
            s=$((s + 1))
        done
        i=$((i + 1))
    done
}

list() {
    check_prefix "$1"
    ip netns list | awk '{print $1}' | grep -E "^$1(sw|r[0-9]+)\$" || true
}

down() {
    for ns in $(list "$1"); do
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
        ip netns del "$ns" 2>/dev/null || true
    done
}

cmd=${1:-}; [ $# -gt 0 ] && shift
case "$cmd" in
    up)   [ $# -ge 2 ] || die "usage: lab.sh up PREFIX N [SEGMENTS]"
          trap 'down "$1"' EXIT INT TERM
          up "$@"
          trap - EXIT INT TERM;;
    down) [ $# -eq 1 ] || die "usage: lab.sh down PREFIX"; down "$1";;
    exec) [ $# -ge 3 ] || die "usage: lab.sh exec PREFIX NODE CMD..."
          p=$1; node=$2; shift 2; check_prefix "$p"
          exec ip netns exec "$p$node" "$@";;
    list) [ $# -eq 1 ] || die "usage: lab.sh list PREFIX"; list "$1";;
    *)    die "usage: lab.sh up|down|exec|list ...";;
esac
