#!/bin/sh
# Adverts on time while checkers run: one keepalived-rs daemon with 1 000 VRRP instances at
# 100 ms adverts (4 segments x 250 VRIDs, all Master) and 5 000 TCP_CHECK real servers at
# delay_loop 1 (50 virtual servers x 100 real servers; listeners on 10 addresses x 500
# ports in another namespace that accept and close), in the same loop.
#
#   scripts/bench-checkers.sh [SECONDS]        (default 10 s of capture per phase)
#
# Two phases in the same lab: VRRP alone, then VRRP + checkers. For each, a capture of the
# daemon's own interfaces gives every instance's advert times; lateness = gap between two
# adverts of one instance - the 100 ms interval. Prints, per phase: adverts captured /
# expected, worst and p99.9 / p99 lateness, gaps late by more than 1 ms, the daemon's CPU
# (utime + stime over the capture) and RSS, the checks the servers accepted per second,
# and the loop's own view (keepalived.stats, cleared with STATS_CLEAR as the capture
# starts: its timer runs, those late by more than 1 ms, the largest lateness). The
# lateness seen on the wire also includes the kernel's sending time and the machine's
# load (printed first).
# Needs root, tcpdump, python3 (BIN=path overrides target/release/keepalived-rs).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
lab="$here/lab.sh"
BIN=${BIN:-$root/target/release/keepalived-rs}
SECS=${1:-10}
INSTANCES_PER_SEG=250
SEGS=4
# keepalived runs its VRRP process at a real-time priority (vrrp_rt_priority); the daemon
# runs under SCHED_RR here too, so the figures are the loop's, not the machine's load
# (RT= to run it at normal priority).
if [ -z "${RT+set}" ]; then
    RT=""
    command -v chrt >/dev/null && RT="chrt -r 10"
fi
VS=50
RS_PER_VS=100

[ "$(id -u)" = 0 ] || { echo "bench-checkers: needs root" >&2; exit 1; }
for t in tcpdump python3; do
    command -v $t >/dev/null || { echo "bench-checkers: $t missing" >&2; exit 1; }
done
if [ ! -x "$BIN" ]; then
    (cd "$root" && cargo build --release --quiet) || exit 1
fi

P=kc$$
dir=$(mktemp -d /tmp/krs-bench-checkers.XXXXXX)
cleanup() { "$lab" down "$P" >/dev/null 2>&1 || true; if [ -n "${KEEP:-}" ]; then echo "kept $dir"; else rm -rf "$dir"; fi; }
trap cleanup EXIT INT TERM
"$lab" up "$P" 2 "$SEGS" >/dev/null

# --- the real servers: 10 addresses x 500 ports on r2, accept and close -----------------
a=11
while [ $a -le 20 ]; do
    ip -n "${P}r2" addr add "10.77.0.$a/24" dev eth0
    a=$((a + 1))
done
cat > "$dir/servers.py" <<'EOF'
import selectors, socket, sys, time
out = sys.argv[1]
sel = selectors.DefaultSelector()
for a in range(11, 21):
    for p in range(20000, 20500):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("10.77.0.%d" % a, p))
        s.listen(1024)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
count, last = 0, time.monotonic()
with open(out, "w") as f:
    f.write("ready\n"); f.flush()
    while True:
        for key, _ in sel.select(0.5):
            while True:
                try:
                    c, _ = key.fileobj.accept()
                except (BlockingIOError, InterruptedError):
                    break
                c.close()
                count += 1
        now = time.monotonic()
        if now - last >= 1:
            f.write("%.3f %d\n" % (now, count)); f.flush()
            last = now
EOF
ip netns exec "${P}r2" sh -c "ulimit -n 20000; exec python3 '$dir/servers.py' '$dir/accepted'" \
    >"$dir/servers.log" 2>&1 &
i=0
until grep -qs ready "$dir/accepted"; do
    i=$((i + 1)); [ $i -gt 100 ] && { echo "bench-checkers: servers did not start" >&2; cat "$dir/servers.log" >&2; exit 1; }
    sleep 0.1
done

# --- configurations -------------------------------------------------------------------------
vrrp_conf() {
    s=0
    while [ $s -lt $SEGS ]; do
        v=1
        while [ $v -le $INSTANCES_PER_SEG ]; do
            cat <<EOC
vrrp_instance VI_${s}_$v {
    state MASTER
    interface eth$s
    virtual_router_id $v
    priority 200
    advert_int 0.1
    version 3
    virtual_ipaddress {
        10.$((200 + s)).$v.1/32
    }
}
EOC
            v=$((v + 1))
        done
        s=$((s + 1))
    done
}

checker_conf() {
    n=0 vs=1
    while [ $vs -le $VS ]; do
        echo "virtual_server 10.210.0.$vs 80 {"
        echo "    delay_loop 1"
        echo "    lb_algo rr"
        echo "    lb_kind NAT"
        echo "    protocol TCP"
        r=0
        while [ $r -lt $RS_PER_VS ]; do
            addr=$((11 + n % 10)); port=$((20000 + n / 10))
            echo "    real_server 10.77.0.$addr $port {"
            echo "        TCP_CHECK {"
            echo "            connect_timeout 3"
            echo "        }"
            echo "    }"
            r=$((r + 1)); n=$((n + 1))
        done
        echo "}"
        vs=$((vs + 1))
    done
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# Time the hypervisor gave to other guests (all CPUs), in ticks: a capture with steal is
# not the loop's figure.
steal_ticks() { awk '/^cpu / { print $9 }' /proc/stat; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }

masters() { ip -n "${P}r1" -o addr show | grep -c ' 10\.20[0-3]\.' || true; }

# One phase: start the daemon with CONF, wait for 1 000 Masters, capture SECS seconds.
phase() { # name conf
    name=$1
    mkdir -p "$dir/$name.dump"
    ip netns exec "${P}r1" $RT "$BIN" -n -l -f "$2" -p "$dir/$name.pid" --dump-dir "$dir/$name.dump" \
        >"$dir/$name.log" 2>&1 &
    pid=$!
    i=0
    while [ "$(masters)" -lt $((SEGS * INSTANCES_PER_SEG)) ]; do
        i=$((i + 1))
        if [ $i -gt 600 ] || ! kill -0 $pid 2>/dev/null; then
            echo "bench-checkers: $name: only $(masters) Masters" >&2
            tail -20 "$dir/$name.log" >&2
            kill -9 $pid 2>/dev/null || true
            return 1
        fi
        sleep 0.1
    done
    sleep 3 # first check rounds, GARP bursts
    caps=""
    s=0
    while [ $s -lt $SEGS ]; do
        ip netns exec "${P}r1" tcpdump --immediate-mode --time-stamp-precision=nano -B 16384 \
            -i "eth$s" -Q out -n -U -w "$dir/$name.$s.pcap" 'ip proto 112' \
            2>"$dir/$name.$s.tcpdump" &
        caps="$caps $!"
        s=$((s + 1))
    done
    for s in $(seq 0 $((SEGS - 1))); do
        i=0
        until grep -qs 'listening on' "$dir/$name.$s.tcpdump"; do
            i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.05
        done
    done
    # STATS_CLEAR: the loop's largest timer lateness restarts with the capture; the count
    # of late timer runs is read from this dump and from the one at the end.
    kill -s "$("$BIN" --signum=STATS_CLEAR)" $pid
    i=0
    until [ -s "$dir/$name.dump/keepalived.stats" ]; do
        i=$((i + 1)); [ $i -gt 50 ] && break; sleep 0.1
    done
    mv "$dir/$name.dump/keepalived.stats" "$dir/$name.stats0" 2>/dev/null || true
    acc0=$(tail -1 "$dir/accepted" | awk '{ print $2 }')
    t0=$(cpu_ticks $pid)
    st0=$(steal_ticks)
    sleep "$SECS"
    t1=$(cpu_ticks $pid)
    st1=$(steal_ticks)
    acc1=$(tail -1 "$dir/accepted" | awk '{ print $2 }')
    rss=$(rss_kb $pid); hwm=$(hwm_kb $pid)
    kill -INT $caps 2>/dev/null || true
    for c in $caps; do wait "$c" 2>/dev/null || true; done
    # After the capture: writing the dump is an operator's request, not the steady state.
    kill -USR2 $pid 2>/dev/null || true # keepalived.stats: the loop's own timer lateness
    i=0
    until [ -s "$dir/$name.dump/keepalived.stats" ]; do
        i=$((i + 1)); [ $i -gt 50 ] && break; sleep 0.1
    done
    kill -TERM $pid 2>/dev/null || true
    i=0
    while kill -0 $pid 2>/dev/null; do
        i=$((i + 1)); [ $i -gt 100 ] && { kill -9 $pid 2>/dev/null || true; break; }
        sleep 0.1
    done
    wait $pid 2>/dev/null || true
    hz=$(getconf CLK_TCK)
    drops=$(cat "$dir/$name".*.tcpdump | awk '/dropped by kernel/ { d += $1 } END { print d + 0 }')
    python3 - "$name" "$SECS" "$SEGS" "$INSTANCES_PER_SEG" "$dir/$name".*.pcap <<'EOF'
import struct, sys
name, secs, segs, per = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
files = sys.argv[5:]
times = {}
for fi, path in enumerate(files):
    data = open(path, "rb").read()
    if len(data) < 24:
        continue
    magic = struct.unpack("<I", data[:4])[0]
    endian, nano = {0xa1b2c3d4: ("<", False), 0xa1b23c4d: ("<", True),
                    0xd4c3b2a1: (">", False), 0x4d3cb2a1: (">", True)}[magic]
    link = struct.unpack(endian + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        pkt = data[off + 16: off + 16 + incl]
        off += 16 + incl
        t = sec + frac / (1e9 if nano else 1e6)
        ip = pkt[14:] if link == 1 else pkt[16:]
        if len(ip) < 22 or ip[0] >> 4 != 4 or ip[9] != 112:
            continue
        ihl = (ip[0] & 15) * 4
        vrid = ip[ihl + 1]
        times.setdefault((fi, vrid), []).append(t)
late, n = [], 0
for ts in times.values():
    ts.sort()
    n += len(ts)
    late += [(b - a - 0.1) * 1000 for a, b in zip(ts, ts[1:])]
late.sort()
def pct(p):
    return late[min(len(late) - 1, int(p * len(late)))] if late else float("nan")
over = sum(1 for l in late if l > 1.0)
expected = int(segs * per * secs / 0.1)
print("%-9s adverts %d/%d (%d instances seen)  lateness ms: worst %.3f  p99.9 %.3f  p99 %.3f  "
      "median %.3f  gaps late > 1 ms: %d (%.3f%%)" % (
      name, n, expected, len(times), late[-1] if late else float("nan"), pct(0.999), pct(0.99),
      pct(0.5), over, 100.0 * over / max(1, len(late))))
EOF
    awk -v t0="$t0" -v t1="$t1" -v hz="$hz" -v s="$SECS" -v rss="$rss" -v hwm="$hwm" \
        -v a0="$acc0" -v a1="$acc1" -v d="$drops" -v name="$name" -v st=$((st1 - st0)) 'BEGIN {
        printf "%-9s CPU %.1f%% of one core  RSS %.1f MB (peak %.1f MB)  checks accepted/s %.0f  capture drops %d  steal %d ms%s\n",
            name, 100 * (t1 - t0) / hz / s, rss / 1024, hwm / 1024, (a1 - a0) / s, d,
            1000 * st / hz, (st > 0 ? " (the hypervisor took CPU time: lateness includes it)" : "") }'
    if [ -s "$dir/$name.dump/keepalived.stats" ]; then
        late0=$(awk -F': ' '/^timer runs late by more than 1 ms/ { print $2 }' "$dir/$name.stats0" 2>/dev/null)
        late1=$(awk -F': ' '/^timer runs late by more than 1 ms/ { print $2 }' "$dir/$name.dump/keepalived.stats")
        runs0=$(awk -F': ' '/^engine timer runs/ { print $2 }' "$dir/$name.stats0" 2>/dev/null)
        runs1=$(awk -F': ' '/^engine timer runs/ { print $2 }' "$dir/$name.dump/keepalived.stats")
        max=$(awk -F': ' '/^max timer lateness/ { print $2 }' "$dir/$name.dump/keepalived.stats")
        printf '%-9s loop (during the capture): timer runs %s, late by more than 1 ms %s, max lateness %s\n' \
            "$name" $((${runs1:-0} - ${runs0:-0})) $((${late1:-0} - ${late0:-0})) "$max"
    fi
}

vrrp_conf > "$dir/vrrp.conf"
{ vrrp_conf; checker_conf; } > "$dir/checkers.conf"
echo "bench-checkers: $((SEGS * INSTANCES_PER_SEG)) VRRP instances at 100 ms;" \
    "$((VS * RS_PER_VS)) TCP_CHECK at delay_loop 1; ${SECS} s per phase;" \
    "$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); daemon under '${RT:-normal priority}'"
phase vrrp-only "$dir/vrrp.conf"
phase checkers "$dir/checkers.conf"
if grep -qi "not implemented\|ignored" "$dir/checkers.log"; then
    echo "daemon notes:"; grep -i "not implemented\|ignored" "$dir/checkers.log" | sort | uniq -c | head -5
fi
