#!/usr/bin/env python3
"""keepalived-rs beside keepalived 2.2.7 in the same run (issue 12): one table of ratios.

    scripts/bench/suite.py OUT.md          (run by scripts/bench.sh, as root)
    scripts/bench/suite.py --render target/bench/PREFIX/results.json OUT.md   (table again)

Two routers in two network namespaces joined by veth pairs (one pair per segment, 250
VRIDs per segment); every figure is taken for both daemons in this one run, one daemon at a
time, and reported as keepalived-rs / keepalived. What each row measures is written in the
output file's "Method" section (METHOD below). Environment:

    BENCH_QUICK=1           short windows, fewer runs (development; figures are not results)
    BENCH_PREFIX=kbNNN      namespace prefix (scripts/bench.sh passes a unique one)
    BIN=path                keepalived-rs binary (default target/release/keepalived-rs)
    KEEPALIVED=path         keepalived binary (default: the one on PATH)
    BENCH_ONLY=a,b          run only some sections: cpu, search, rss1, failover, check, size
"""

import datetime
import json
import math
import os
import platform
import signal
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in scripts/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import CLK_TCK, Lab, cpu_ticks, read_adverts, rss_kb, sh, wait_for  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
IMPLS = tuple(os.environ.get("BENCH_IMPLS", "keepalived-rs,keepalived").split(","))
PER_SEG = 250

P = dict(  # full / quick
    settle=5.0 if not QUICK else 2.0,            # after the backup starts, before a window
    cpu_window=15.0 if not QUICK else 4.0,       # CPU windows at 1 s and 100 ms
    hold_window=30.0 if not QUICK else 5.0,      # zero-backup-packet window at 10 ms
    probes=5 if not QUICK else 3,                # instance-count probes per daemon (incl. 1000)
    cap=4000 if not QUICK else 2000,             # largest instance count probed
    failover_runs=20 if not QUICK else 5,
    failover_spacing=0.25,                       # seconds between two masters' kills
    check_runs=3 if not QUICK else 1,
    reload_runs=3 if not QUICK else 1,
)
SECTIONS = set(filter(None, os.environ.get("BENCH_ONLY", "cpu,search,rss1,failover,check,size").split(",")))


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def fmt_iv(iv):
    return f"{int(iv * 1000)} ms" if iv < 1 else f"{iv:g} s"


def mdi(iv, prio=100):
    """RFC 5798 Master_Down_Interval of a backup of priority `prio` (seconds)."""
    return 3 * iv + (256 - prio) * iv / 256


def vrrp_conf(n, iv, prio, state, per_seg=PER_SEG, vrid0=1, host=1):
    """n VRRPv3 instances, `per_seg` per interface eth0, eth1, ..., one /32 VIP each
    (10.100+SEGMENT.VRID.host)."""
    out = []
    for i in range(n):
        s, v = divmod(i, per_seg)
        vrid = v + vrid0
        out.append(
            f"vrrp_instance VI_{s}_{vrid} {{\n    state {state}\n    interface eth{s}\n"
            f"    virtual_router_id {vrid}\n    priority {prio}\n    advert_int {iv:g}\n"
            f"    version 3\n    virtual_ipaddress {{\n        10.{100 + s}.{vrid}.{host}/32\n    }}\n}}\n")
    return "".join(out)


class Suite:
    def __init__(self, lab, A, B, T):
        self.lab, self.A, self.B, self.T = lab, A, B, T
        self.r = {impl: {} for impl in IMPLS}

    # -- a master and a backup of one daemon, n instances -------------------------------
    def pair(self, impl, n, iv, window, stop_on_tx=False, after=None):
        lab = self.lab
        t = time.monotonic()
        lab.stop_all()
        if time.monotonic() - t > 3:
            log(f"(stopping the previous daemons took {time.monotonic() - t:.1f} s)")
        m = lab.start(impl, self.A, vrrp_conf(n, iv, 200, "MASTER"), f"{impl}-m-{n}-{iv:g}")
        # The backup starts once the master holds every VIP (keepalived needs seconds for
        # 1 000 instances; a backup started earlier takes them over first).
        t0 = time.monotonic()
        if not wait_for(lambda: lab.vip_count(self.A) >= n or not m.alive(), 60, step=0.2):
            log(f"{impl}: master holds {lab.vip_count(self.A)} of {n} VIPs after 60 s; going on")
        ready = time.monotonic() - t0
        b = lab.start(impl, self.B, vrrp_conf(n, iv, 100, "BACKUP"), f"{impl}-b-{n}-{iv:g}")
        time.sleep(P["settle"])
        for d in (m, b):
            if not d.alive():
                raise RuntimeError(f"{impl} exited early; log {d.log}:\n{d.log_text()[-2000:]}")
        mp, bp = m.pids(), b.pids()
        tx0 = lab.tx_packets(self.B)
        cm0, cb0, t0 = cpu_ticks(mp), cpu_ticks(bp), time.monotonic()
        tx = 0
        while time.monotonic() - t0 < window:
            time.sleep(min(0.5, max(0.0, window - (time.monotonic() - t0))))
            if stop_on_tx:
                tx = lab.tx_packets(self.B) - tx0
                if tx > 0:
                    break
        cm1, cb1, t1 = cpu_ticks(mp), cpu_ticks(bp), time.monotonic()
        tx = lab.tx_packets(self.B) - tx0
        dt = t1 - t0
        res = dict(
            n=n, iv=iv, seconds=round(dt, 2),
            cpu_master=100.0 * (cm1 - cm0) / CLK_TCK / dt,
            cpu_backup=100.0 * (cb1 - cb0) / CLK_TCK / dt,
            rss_master=rss_kb(mp), rss_backup=rss_kb(bp),
            backup_tx=tx, procs=(len(mp), len(bp)), master_ready=round(ready, 2),
        )
        if after:
            after(res, m, b)
        lab.stop_all()
        return res

    def cpu(self):
        for iv in (1, 0.1, 0.01):
            for impl in IMPLS:
                window = P["hold_window"] if iv == 0.01 else P["cpu_window"]
                after = self.reloads if iv == 1 else None
                r = self.pair(impl, 1000, iv, window, after=after)
                self.r[impl][f"cpu@{iv:g}"] = r
                log(f"{impl:14} 1000 @ {fmt_iv(iv):6}: CPU master {r['cpu_master']:.2f} % backup "
                    f"{r['cpu_backup']:.2f} %, RSS {r['rss_master']} / {r['rss_backup']} kB, "
                    f"backup sent {r['backup_tx']} packets in {r['seconds']} s (master ready in {r['master_ready']} s)")

    # -- SIGHUP reload of the master's 1 000 instances ----------------------------------
    def reloads(self, res, m, b):
        """The master's file is rewritten with every instance's VIP moved (10.s.v.1 <-> .2)
        and SIGHUP sent to its main process; the reload has ended when every new VIP is
        on the interfaces and every old one gone (keepalived logs no end of its VRRP
        child's reload: its 'Reload complete' comes from the parent)."""
        impl = m.impl
        times = []
        for k in range(P["reload_runs"]):
            new, old = (2, 1) if k % 2 == 0 else (1, 2)
            with open(m.conf, "w") as f:
                f.write(vrrp_conf(1000, 1, 200, "MASTER", host=new))
            t0 = time.monotonic()
            os.kill(m.proc.pid, signal.SIGHUP)

            def done():
                hosts = self.lab.vip_hosts(self.A)
                return hosts.get(new, 0) >= 1000 and hosts.get(old, 0) == 0
            if wait_for(done, 120, step=0.005):
                times.append(1000 * (time.monotonic() - t0))
            else:
                log(f"{impl}: reload {k + 1}: the VIPs did not all move within 120 s")
            time.sleep(0.5)
        self.r[impl]["reload_ms"] = times
        log(f"{impl:14} SIGHUP reload, 1000 instances (VIPs moved): "
            f"{', '.join(f'{t:.1f}' for t in times)} ms")

    # -- largest instance count held at 10 ms with zero packets from the backup ----------
    def search(self):
        for impl in IMPLS:
            probes = {}
            first = self.r[impl].get("cpu@0.01")
            if first:
                probes[1000] = first["backup_tx"]
            lo = hi = None
            for n, tx in probes.items():
                if tx == 0:
                    lo = n
                else:
                    hi = n
            while len(probes) < P["probes"]:
                if lo is None and hi is None:
                    n = 1000
                elif hi is None:
                    if lo >= P["cap"]:
                        break
                    n = min(2 * lo, P["cap"])
                elif lo is None:
                    n = hi // 2
                    if n < 10:
                        break
                else:
                    if hi <= lo * 1.1:
                        break
                    n = int(round(math.sqrt(lo * hi) / 10.0)) * 10
                    if n <= lo or n >= hi:
                        break
                r = self.pair(impl, n, 0.01, P["hold_window"], stop_on_tx=True)
                probes[n] = r["backup_tx"]
                held = r["backup_tx"] == 0
                log(f"{impl:14} {n} @ 10 ms: backup sent {r['backup_tx']} packets in {r['seconds']} s"
                    f" -> {'held' if held else 'not held'}")
                if held:
                    lo = n
                else:
                    hi = n
            self.r[impl]["hold"] = dict(lo=lo, hi=hi, probes=probes, capped=(lo is not None and lo >= P["cap"]))

    # -- RSS with one instance ----------------------------------------------------------
    def rss1(self):
        for impl in IMPLS:
            self.lab.stop_all()
            d = self.lab.start(impl, self.A, vrrp_conf(1, 1, 200, "MASTER"), f"{impl}-one")
            time.sleep(max(2.0, P["settle"] / 2))
            if not d.alive():
                raise RuntimeError(f"{impl} exited early: {d.log_text()[-2000:]}")
            pids = d.pids()
            self.r[impl]["rss1"] = dict(kb=rss_kb(pids), procs=len(pids))
            log(f"{impl:14} 1 instance: RSS {rss_kb(pids)} kB over {len(pids)} processes")
            self.lab.stop_all()

    # -- SIGKILL failover ---------------------------------------------------------------
    def failover(self):
        runs = P["failover_runs"]
        for iv in (0.01, 0.1, 1):
            for impl in IMPLS:
                self.r[impl][f"failover@{iv:g}"] = self.failover_one(impl, iv, runs)

    def failover_one(self, impl, iv, runs):
        """`runs` masters (one process each, VRID k) and one backup holding the `runs`
        instances; the masters are killed one after another and each takeover is timed."""
        lab = self.lab
        lab.stop_all()
        masters = [lab.start(impl, self.A, vrrp_conf(1, iv, 200, "MASTER", vrid0=k), f"{impl}-fm{k}-{iv:g}")
                   for k in range(1, runs + 1)]
        wait_for(lambda: lab.vip_count(self.A) >= runs, 60, step=0.2)
        b = lab.start(impl, self.B, vrrp_conf(runs, iv, 100, "BACKUP"), f"{impl}-fb-{iv:g}")
        time.sleep(max(P["settle"] / 2, 3 * iv + 0.5))
        pcap = os.path.join(lab.work, f"{impl}-failover-{iv:g}.pcap")
        errf = pcap + ".err"
        with open(errf, "w") as err:
            cap = lab.popen(["ip", "netns", "exec", self.B, "tcpdump", "-i", "eth0", "-n", "-U",
                             "--immediate-mode", "-w", pcap, "ip proto 112"],
                            stdout=subprocess.DEVNULL, stderr=err)
        wait_for(lambda: "listening on" in open(errf).read(), 10)
        time.sleep(max(0.3, 2 * iv))
        kills = []
        for m in masters:
            kills.append(time.time())
            m.kill()
            time.sleep(P["failover_spacing"])
        time.sleep(mdi(iv) + max(0.5, 2 * iv))
        if not b.alive():
            raise RuntimeError(f"{impl} backup exited: {b.log_text()[-2000:]}")
        cap.send_signal(signal.SIGINT)
        try:
            cap.wait(timeout=10)
        except subprocess.TimeoutExpired:
            cap.kill()
        lab.stop_all()
        adverts = read_adverts(pcap)
        excess = []
        for k in range(1, runs + 1):
            first_b = next((t for t, src, vrid, prio in adverts
                            if src == "192.168.0.2" and vrid == k and prio > 0), None)
            if first_b is None:
                continue
            last_m = [t for t, src, vrid, prio in adverts if src == "192.168.0.1" and vrid == k and t < first_b]
            if not last_m:
                continue
            excess.append(1000 * (first_b - last_m[-1] - mdi(iv)))
        res = dict(excess_ms=excess, runs=runs, mdi_ms=1000 * mdi(iv))
        if excess:
            log(f"{impl:14} failover @ {fmt_iv(iv):6}: {len(excess)}/{runs} takeovers, excess over "
                f"MDI {1000 * mdi(iv):.2f} ms: median {statistics.median(excess):.3f} ms, "
                f"worst {max(excess):.3f} ms")
        else:
            log(f"{impl:14} failover @ {fmt_iv(iv):6}: no takeover seen")
        return res

    # -- -t on 10 000 instances ---------------------------------------------------------
    def check(self, bins):
        conf = os.path.join(self.lab.work, "check10k.conf")
        with open(conf, "w") as f:
            f.write(vrrp_conf(10000, 1, 100, "BACKUP"))
        for impl in IMPLS:
            times, codes = [], []
            for _ in range(P["check_runs"]):
                t0 = time.monotonic()
                r = subprocess.run(["ip", "netns", "exec", self.T, bins[impl], "-t", "-f", conf],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                times.append(1000 * (time.monotonic() - t0))
                codes.append(r.returncode)
            self.r[impl]["check_ms"] = dict(times=times, codes=codes)
            log(f"{impl:14} -t 10000 instances: {statistics.median(times):.1f} ms (exit {codes[0]})")

    # -- binary ---------------------------------------------------------------------------
    def size(self, bins):
        for impl in IMPLS:
            path = os.path.realpath(bins[impl])
            stripped = os.path.join(self.lab.work, f"{impl}.stripped")
            subprocess.run(["strip", "-o", stripped, path], stderr=subprocess.DEVNULL)
            size = os.path.getsize(stripped) if os.path.exists(stripped) else os.path.getsize(path)
            deps = []
            for line in sh("ldd", path, check=False).splitlines():
                name = line.strip().split()[0] if line.strip() else ""
                if name and not name.startswith("linux-vdso") and "ld-linux" not in name:
                    deps.append(os.path.basename(name))
            self.r[impl]["size"] = dict(bytes=size, deps=deps)
            log(f"{impl:14} stripped {size} bytes, needs {' '.join(deps)}")


# -- the table ----------------------------------------------------------------------------
LIBC = ("libc.so", "libm.so", "libpthread.so", "libdl.so", "librt.so")
TLS = ("libssl.so", "libcrypto.so")


def ratio(a, b):
    return a / b if (a is not None and b) else None


def fr(x, digits=2):
    return "—" if x is None else f"{x:.{digits}f}"


def verdict(ok):
    return "—" if ok is None else ("**met**" if ok else "**not met**")


def table(res):
    rs, ka = res.get("keepalived-rs", {}), res.get("keepalived", {})
    rows = []  # (measure, rs, ka, ratio, target, verdict)

    def cpu_rows(iv, target):
        a, b = rs.get(f"cpu@{iv:g}"), ka.get(f"cpu@{iv:g}")
        if not a or not b:
            return
        for role in ("master", "backup"):
            x, y = a[f"cpu_{role}"], b[f"cpu_{role}"]
            q = ratio(x, y)
            rows.append((f"CPU, 1 000 @ {fmt_iv(iv)}, {role} (% of a core)", f"{x:.2f}", f"{y:.2f}", fr(q),
                         "≤ 0.5×" if target else "", verdict(q is not None and q <= 0.5) if target else "—"))
        xm, xb, ym, yb = a["rss_master"], a["rss_backup"], b["rss_master"], b["rss_backup"]
        qm, qb = ratio(xm, ym), ratio(xb, yb)
        rows.append((f"RSS, 1 000 @ {fmt_iv(iv)}, master / backup (MB, all processes)",
                     f"{xm / 1024:.2f} / {xb / 1024:.2f}", f"{ym / 1024:.2f} / {yb / 1024:.2f}",
                     f"{fr(qm)} / {fr(qb)}", "≤ 0.4×", verdict(qm is not None and qb is not None and max(qm, qb) <= 0.4)))
        rows.append((f"packets sent by the backup, 1 000 @ {fmt_iv(iv)}, {a['seconds']:.0f} s",
                     str(a["backup_tx"]), str(b["backup_tx"]), "", "", "—"))

    cpu_rows(1, False)
    cpu_rows(0.1, True)
    cpu_rows(0.01, True)

    if "hold" in rs and "hold" in ka:
        def held(h):
            if h["lo"] is None and h["hi"] is None:
                return "—"
            if h["lo"] is None:
                return f"< {h['hi']}"
            if h["capped"]:
                return f"≥ {h['lo']} (cap)"
            return f"{h['lo']}" + (f" (< {h['hi']})" if h["hi"] else "")
        a, b = rs["hold"], ka["hold"]
        q = ratio(a["lo"], b["lo"]) if (a["lo"] and b["lo"]) else None
        # Met when keepalived-rs held at least twice what keepalived held; when keepalived
        # held no probed count, twice the smallest count it failed (an upper bound).
        ka_ref = b["lo"] if b["lo"] is not None else b["hi"]
        ok = a["lo"] is not None and ka_ref is not None and a["lo"] >= 2 * ka_ref
        rows.append(("instances held at 10 ms, zero backup packets in "
                     f"{P['hold_window']:.0f} s", held(a), held(b), fr(q), "≥ 2×", verdict(ok)))

    if "rss1" in rs and "rss1" in ka:
        x, y = rs["rss1"]["kb"], ka["rss1"]["kb"]
        rows.append(("RSS, 1 instance (MB, all processes)", f"{x / 1024:.2f}", f"{y / 1024:.2f}",
                     fr(ratio(x, y)), "≤ 3 MB", verdict(x <= 3 * 1024)))
    for iv in (0.01, 0.1, 1):
        a, b = rs.get(f"failover@{iv:g}"), ka.get(f"failover@{iv:g}")
        if not a or not b:
            continue
        ea, eb = a["excess_ms"], b["excess_ms"]
        if not ea or not eb:
            rows.append((f"SIGKILL failover @ {fmt_iv(iv)}: excess over MDI", "no takeover" if not ea else "",
                         "no takeover" if not eb else "", "", "", verdict(False if not ea else None)))
            continue
        ma, mb, wa, wb = statistics.median(ea), statistics.median(eb), max(ea), max(eb)
        ok = ma <= 0.5 and wa <= wb and len(ea) == a["runs"]
        rows.append((f"SIGKILL failover @ {fmt_iv(iv)} (MDI {a['mdi_ms']:.2f} ms): excess median / worst "
                     f"of {len(ea)}/{a['runs']} (ms)",
                     f"{ma:.3f} / {wa:.3f}", f"{mb:.3f} / {wb:.3f}", f"{fr(ratio(ma, mb))} / {fr(ratio(wa, wb))}",
                     "median ≤ 0.5 ms, worst ≤ keepalived's", verdict(ok)))

    if "check_ms" in rs and "check_ms" in ka:
        x, y = statistics.median(rs["check_ms"]["times"]), statistics.median(ka["check_ms"]["times"])
        q = ratio(x, y)
        rows.append(("`-t`, 10 000 instances (ms, wall)", f"{x:.1f}", f"{y:.1f}", fr(q, 3), "≤ 0.1×",
                     verdict(q is not None and q <= 0.1)))
    if "reload_ms" in rs and "reload_ms" in ka and rs["reload_ms"] and ka["reload_ms"]:
        x, y = statistics.median(rs["reload_ms"]), statistics.median(ka["reload_ms"])
        rows.append(("SIGHUP reload, 1 000 instances (ms, median)", f"{x:.1f}", f"{y:.1f}", fr(ratio(x, y)),
                     "", "—"))
    if "size" in rs and "size" in ka:
        x, y = rs["size"]["bytes"], ka["size"]["bytes"]
        rows.append(("stripped binary (MB)", f"{x / 1e6:.2f}", f"{y / 1e6:.2f}", fr(ratio(x, y)), "≤ 2 MB",
                     verdict(x <= 2e6)))
        extra = [d for d in rs["size"]["deps"] if not d.startswith(LIBC + TLS)]
        rows.append(("shared libraries", " ".join(rs["size"]["deps"]), f"{len(ka['size']['deps'])} libraries",
                     "", "libc (+ TLS) only", verdict(not extra)))
    return rows


METHOD = """\
- **Lab**: two network namespaces (master, backup) joined by veth pairs, one per segment
  (`eth0`..), IPv6 off and no IGMP reports for 224.0.0.x, so the backup's interfaces carry
  only what the daemon sends. Instances: VRRPv3, 250 VRIDs per segment (1 000 = four
  segments), one /32 VIP each; master priority 200 `state MASTER`, backup priority 100
  `state BACKUP`, started once the master holds all its VIPs (keepalived needs seconds
  for 1 000 instances; a backup started earlier takes them first). Each daemon runs with its defaults
  (keepalived `-n -l --vrrp` with its own pid files; keepalived-rs `-n -l`); the two
  daemons are measured one after the other, never at the same time.
- **CPU**: utime + stime from `/proc/PID/stat`, summed over all of a daemon's processes
  (keepalived's parent and VRRP child), over a window of {cpu_window:g} s ({hold_window:g} s at
  10 ms) that starts {settle:g} s after the backup; in % of one core.
- **Packets sent by the backup**: `tx_packets` of the backup namespace's interfaces over
  the same window (the interface counters, read from `/proc/PID/net/dev` of a process
  parked in the namespace); every packet there is a spurious advert or ARP (a transient
  takeover). Where the backup sent packets, that CPU figure is the one of a flapping pair.
- **Instances held at 10 ms**: the largest count probed with zero packets from the backup
  over {hold_window:g} s; doubling from 1 000 (the CPU row is the first probe), halving when it
  fails, then bisection; at most {probes} probes per daemon, up to {cap} instances. "N (< M)": N
  held, M did not. With a 36 ms Master_Down_Interval, any stall of either daemon longer
  than about 26 ms (a busy machine's scheduler is enough) fails a probe: this row needs a
  quiet machine.
- **RSS**: `VmRSS` summed over the daemon's processes (pages shared by keepalived's forked
  processes count twice, as the issue asks); 1 instance: a lone master after a settle; 1 000:
  master and backup at the end of each CPU window (the target applies to both).
- **SIGKILL failover**: {failover_runs} masters (one process each, one VRID each) and one backup
  holding those {failover_runs} instances; the masters are stopped (SIGSTOP on every process of
  the daemon, then SIGKILL) one after another, {failover_spacing:g} s apart. A capture on the
  backup's interface gives, per VRID, the gap from the master's last advert to the backup's
  first; excess = gap − Master_Down_Interval (3 × interval + 156/256 × interval).
- **`-t`**: wall time of `ip netns exec NS BIN -t -f FILE` on 10 000 instances over 40
  interfaces (median of {check_runs}).
- **SIGHUP reload**: on the 1 s master holding 1 000 instances (after its CPU window), the
  file is rewritten with every instance's VIP changed (10.S.V.1 ↔ 10.S.V.2), SIGHUP is sent
  to the daemon's main process, and the time is taken until every new VIP is on the
  interfaces and every old one is gone (`ip addr` polled every 5 ms; median of
  {reload_runs}). A log line would not do: keepalived's `Reload complete` is written by its
  parent process before the VRRP child has finished its own reload.
- **Binary**: `strip -o` of the binary, size in 10^6 bytes; `ldd` (vdso and loader left out).
"""


def machine():
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return dict(nproc=os.cpu_count(), cpu=model, kernel=platform.release())


def version(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return (r.stdout.strip().splitlines() or ["?"])[0]


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def render(rows, info):
    out = []
    out.append("| measure | keepalived-rs | keepalived | ratio rs / keepalived | target | verdict |")
    out.append("|---|---|---|---|---|---|")
    for r in rows:
        out.append("| " + " | ".join(r) + " |")
    return "\n".join(out)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--render":  # --render RESULTS.json OUT.md
        with open(sys.argv[2]) as f:
            d = json.load(f)
        P.update(d["params"])
        write_md(d["info"], d["results"], sys.argv[3])
        return
    out_md = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "BENCHMARKS.md")
    bins = {"keepalived-rs": os.environ.get("BIN") or os.path.join(ROOT, "target/release/keepalived-rs"),
            "keepalived": os.environ.get("KEEPALIVED") or "keepalived"}
    import shutil
    bins["keepalived"] = shutil.which(bins["keepalived"]) or bins["keepalived"]
    for impl, b in bins.items():
        if not os.access(b, os.X_OK):
            sys.exit(f"bench: {impl} binary {b} missing")
    prefix = os.environ.get("BENCH_PREFIX") or f"kb{os.getpid()}"
    work = os.path.join(ROOT, "target", "bench", prefix)
    os.makedirs(work, exist_ok=True)
    info = dict(machine(), date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                rs=version([bins["keepalived-rs"], "-v"]), ka=version([bins["keepalived"], "-v"]),
                commit=sh("git", "-C", ROOT, "describe", "--always", "--dirty", check=False).strip(),
                load_start=loadavg(), quick=QUICK)
    log(f"{info['rs']} / {info['ka']}; {info['nproc']} CPUs; load {info['load_start']}; "
        f"{'QUICK mode' if QUICK else 'full mode'}; work dir {work}")

    lab = Lab(prefix, work, bins)

    def on_signal(sig, _frame):
        raise KeyboardInterrupt(f"signal {sig}")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    t_start = time.monotonic()
    try:
        A, B, T = lab.netns("a"), lab.netns("b"), lab.netns("t")
        lab.pair(A, B, max(4, -(-P["cap"] // PER_SEG)))
        for s in range(40):
            sh("ip", "-n", T, "link", "add", f"eth{s}", "type", "veth", "peer", "name", f"p{s}")
        suite = Suite(lab, A, B, T)
        if "size" in SECTIONS:
            suite.size(bins)
        if "check" in SECTIONS:
            suite.check(bins)
        if "rss1" in SECTIONS:
            suite.rss1()
        if "cpu" in SECTIONS:
            suite.cpu()
        if "search" in SECTIONS:
            suite.search()
        if "failover" in SECTIONS:
            suite.failover()
    finally:
        lab.close()
    info["load_end"] = loadavg()
    info["minutes"] = (time.monotonic() - t_start) / 60
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump(dict(info=info, params=P, results=suite.r), f, indent=1)

    write_md(info, suite.r, out_md)


def write_md(info, results, out_md):
    rows = table(results)
    tab = render(rows, info)
    head = [
        "# Benchmarks: keepalived-rs beside keepalived",
        "",
        "Written by `make bench` (scripts/bench.sh, scripts/bench/suite.py); every figure below "
        "comes from one run on one machine, both daemons measured in that run. Issue 12 sets "
        "the targets.",
        "",
        f"- date: {info['date']}" + (" — **BENCH_QUICK=1: short windows, not a result**" if info.get("quick") else ""),
        f"- machine: {info['nproc']} CPUs (`nproc`), {info['cpu']}, Linux {info['kernel']}",
        f"- load average at start / end: {info['load_start']} / {info['load_end']} "
        f"(suite took {info['minutes']:.1f} min; a load above {info['nproc']} means other work shared "
        "the cores and the timing rows are noisy)",
        f"- keepalived-rs: {info['rs']} (commit {info['commit']})",
        f"- keepalived: {info['ka']}",
        "",
        tab,
        "",
    ]
    missed = [r for r in rows if "not met" in r[5]]
    if missed:
        head += ["Targets not met in this run:", ""]
        head += [f"- {r[0]}: keepalived-rs {r[1]}, keepalived {r[2]}"
                 + (f", ratio {r[3]}" if r[3] else "") + f"; target {r[4]}" for r in missed]
        head.append("")
    head += [
        "## Method",
        "",
        METHOD.format(**P),
        "Raw figures of a run: `target/bench/PREFIX/results.json` (with the daemons' logs, "
        "configurations and captures).",
        "",
    ]
    with open(out_md, "w") as f:
        f.write("\n".join(head))
    print()
    print(tab)
    print()
    print(f"written to {out_md}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt as e:
        sys.exit(f"bench: interrupted ({e})")
