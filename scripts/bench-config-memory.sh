#!/bin/sh
# Peak memory of `-t` on 10 MB of real vrrp_instance blocks, keepalived-rs beside
# keepalived 2.2.7 in the same run (two files: multicast instances with duplicate-VRID
# errors, and valid unicast instances). Prints KB and the ratio. Needs /usr/bin/time.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/target/release/keepalived-rs
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir" <<'PY'
import sys
d = sys.argv[1]
for name, unicast in (("multicast", False), ("unicast", True)):
    out, i, size = [], 0, 0
    while size < 10 * 1024 * 1024:
        i += 1
        peer = f"    unicast_peer {{\n        10.200.{(i>>8)&255}.{i&255}\n    }}\n" if unicast else ""
        b = (f"vrrp_instance VI_{i} {{\n    state BACKUP\n    interface lo0x\n"
             f"    virtual_router_id {i%255+1}\n    priority {i%254+1}\n    advert_int 1\n"
             f"    authentication {{\n        auth_type PASS\n        auth_pass p{i%1000}\n    }}\n"
             f"{peer}    virtual_ipaddress {{\n        10.{(i>>8)&255}.{i&255}.1/32\n    }}\n}}\n")
        out.append(b); size += len(b)
    open(f"{d}/{name}.conf", "w").write("".join(out))
PY
ifname=$(ip -o link show | awk -F': ' '$2 != "lo" {print $2; exit}' | cut -d@ -f1)
printf '%-10s %14s %14s %7s\n' file keepalived-rs keepalived ratio
for f in multicast unicast; do
    sed -i "s/interface lo0x/interface $ifname/" "$dir/$f.conf"
    ours=$( /usr/bin/time -f %M "$bin" -t -f "$dir/$f.conf" 2>&1 >/dev/null | tail -1 )
    theirs=$( /usr/bin/time -f %M keepalived -t -f "$dir/$f.conf" 2>&1 >/dev/null | tail -1 )
    printf '%-10s %11s KB %11s KB %7s\n' "$f" "$ours" "$theirs" \
        "$(awk -v a="$ours" -v b="$theirs" 'BEGIN {printf "%.2f", a / b}')"
done
