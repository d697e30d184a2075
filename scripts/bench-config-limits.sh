#!/usr/bin/env bash
# Cost of hostile and very large configurations, keepalived-rs against keepalived 2.2, in
# the same run (issue 7: bounded parsing). For each generated file, `-t -f FILE` of both
# binaries under /usr/bin/time: wall time and maximum resident memory.
#
#   token10m   one 10 MB word              (target: < 1 s and < 64 MB)
#   braces100k 100 000 nested braces       (target: < 1 s and < 64 MB)
#   vrrp10m    10 MB of vrrp_instance blocks (unicast, in a namespace with the interface)
#   lvs10m     10 MB of virtual_server blocks (two real servers with TCP_CHECK each)
#
# Needs root (a network namespace) and python3; keepalived is measured when installed
# (it takes about 30 s on vrrp10m). Called by scripts/bench.sh (`make bench`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ns="kblim$$"
work=$(mktemp -d)
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM

bin="$root/target/release/keepalived-rs"
[ -x "$bin" ] || (cd "$root" && cargo build --release --quiet)
[ -x /usr/bin/time ] || { echo "bench-config-limits: /usr/bin/time (package time) missing"; exit 1; }

python3 - "$work" <<'PY'
import sys
w = sys.argv[1]
open(f"{w}/token10m.conf", "w").write("a" * 10_000_000 + "\n")
open(f"{w}/braces100k.conf", "w").write("global_defs " + "{\n" * 100_000 + "}\n" * 100_000)
def fill(name, block):
    out, size, i = [], 0, 0
    while size < 10_000_000:
        s = block(i)
        out.append(s)
        size += len(s)
        i += 1
    open(f"{w}/{name}.conf", "w").write("".join(out))
def vrrp(i):
    a, b = divmod(i, 250)
    return (f"vrrp_instance VI_{i} {{\n    state BACKUP\n    interface bl0\n"
            f"    virtual_router_id {b + 1}\n    priority {100 + i % 100}\n    advert_int 1\n"
            f"    unicast_src_ip 10.255.0.1\n    unicast_peer {{\n        10.{a // 250}.{a % 250}.{b + 1}\n    }}\n"
            f"    authentication {{\n        auth_type PASS\n        auth_pass secret{i % 10}\n    }}\n"
            f"    virtual_ipaddress {{\n        172.{16 + a // 250 % 16}.{a % 250}.{b + 1}/32\n    }}\n}}\n")
def lvs(i):
    a, b = divmod(i, 250)
    rs = "".join(
        f"    real_server 192.168.{a % 250}.{b + k} 80 {{\n        weight 1\n"
        f"        TCP_CHECK {{\n            connect_timeout 3\n        }}\n    }}\n" for k in (1, 2))
    return (f"virtual_server 10.{a // 250}.{a % 250}.{b + 1} 80 {{\n    delay_loop 6\n    lb_algo rr\n"
            f"    lb_kind NAT\n    protocol TCP\n{rs}}}\n")
fill("vrrp10m", vrrp)
fill("lvs10m", lvs)
PY

ip netns add "$ns"
ip -n "$ns" link add bl0 type veth peer name bl1

# "<seconds> s <max RSS> MB" of "$@" inside the namespace.
measure() {
    ip netns exec "$ns" /usr/bin/time -o "$work/time" -f '%e %M' "$@" >/dev/null 2>&1 || true
    tail -n 1 "$work/time" | awk '{ printf "%6.2f s %7.1f MB", $1, $2 / 1024 }'
}

have_ka=0
command -v keepalived >/dev/null && have_ka=1
printf '%-11s %-26s %s\n' file "keepalived-rs -t" "keepalived -t"
for f in token10m braces100k vrrp10m lvs10m; do
    rs=$(measure "$bin" -t -f "$work/$f.conf")
    ka="(not installed)"
    [ "$have_ka" = 1 ] && ka=$(measure keepalived -t -f "$work/$f.conf")
    printf '%-11s %-26s %s\n' "$f" "$rs" "$ka"
done
