"""Namespaces, daemons and /proc readings for the side-by-side benchmark (scripts/bench/suite.py).

Everything the suite creates is registered here and removed by `Lab.close()`: the network
namespaces (each named PREFIX + a role letter, PREFIX unique per run) and every daemon
process tree started through `Lab.start()`. Nothing touches the host's interfaces.
"""

import os
import re
import shutil
import signal
import subprocess
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def sh(*args, check=True, quiet=True):
    """Run a command; raise with its stderr when it fails and `check` is set."""
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def ns_sysctl(ns, *settings):
    """Set sysctls inside a namespace; a setting the kernel lacks is ignored."""
    for s in settings:
        subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw", s],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def children_map():
    """ppid -> [pid] for every process on the machine."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rfind(")") + 2:].split()
        kids.setdefault(int(rest[1]), []).append(int(d))
    return kids


def tree(pid):
    """pid and all its live descendants."""
    kids = children_map()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        if os.path.exists(f"/proc/{p}"):
            out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu_ticks(pids):
    """utime + stime (clock ticks) summed over `pids` (/proc/PID/stat fields 14 and 15)."""
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rfind(")") + 2:].split()
        total += int(rest[11]) + int(rest[12])
    return total


def rss_kb(pids):
    """VmRSS (kB) summed over `pids`."""
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


class Daemon:
    """One daemon process tree started in a namespace."""

    def __init__(self, impl, ns, proc, log, pidfile, conf):
        self.impl, self.ns, self.proc, self.log = impl, ns, proc, log
        self.pidfile, self.conf = pidfile, conf

    def pids(self):
        return tree(self.proc.pid)

    def alive(self):
        return self.proc.poll() is None

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def kill(self):
        """SIGSTOP every process of the tree first (keepalived's VRRP child sends a
        priority-0 advert when its parent dies), then SIGKILL them all."""
        pids = self.pids()
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for p in pids:
                try:
                    os.kill(p, sig)
                except OSError:
                    pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


class Lab:
    """The namespaces and processes of one benchmark run."""

    def __init__(self, prefix, work, bins):
        self.prefix, self.work, self.bins = prefix, work, bins
        self.namespaces = []
        self.daemons = []
        self.others = []
        self.anchors = {}
        self.seq = 0

    # -- namespaces ---------------------------------------------------------------------
    def netns(self, role):
        name = self.prefix + role
        sh("ip", "netns", "add", name)
        self.namespaces.append(name)
        sh("ip", "-n", name, "link", "set", "lo", "up")
        # No IPv6 (no ND/MLD/RS noise on the counters) and no IGMP reports for 224.0.0.x.
        ns_sysctl(name, "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1",
                  "net.ipv4.igmp_link_local_mcast_reports=0")
        # A process that stays in the namespace: its /proc/PID/net/dev gives the interface
        # counters without entering the namespace (`ip netns exec` mounts a sysfs, which
        # waits for the RTNL lock a daemon busy with addresses can hold for seconds).
        self.anchors[name] = self.popen(["ip", "netns", "exec", name, "sleep", "1000000"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pid = self.anchors[name].pid

        def entered():
            try:
                with open(f"/proc/{pid}/comm") as f:
                    return f.read().strip() == "sleep"
            except OSError:
                return False
        if not wait_for(entered, 10, step=0.01):
            raise RuntimeError(f"the anchor process of {name} did not start")
        return name

    def pair(self, a, b, segments):
        """`segments` veth pairs eth0.. between namespaces a (192.168.s.1) and b (192.168.s.2)."""
        for s in range(segments):
            sh("ip", "link", "add", f"{self.prefix}x{s}", "netns", a, "type", "veth",
               "peer", "name", f"{self.prefix}y{s}", "netns", b)
            for ns, tmp, host in ((a, f"{self.prefix}x{s}", 1), (b, f"{self.prefix}y{s}", 2)):
                sh("ip", "-n", ns, "link", "set", tmp, "name", f"eth{s}")
                sh("ip", "-n", ns, "addr", "add", f"192.168.{s}.{host}/24", "dev", f"eth{s}")
                sh("ip", "-n", ns, "link", "set", f"eth{s}", "up")

    def vip_count(self, ns):
        """Addresses in 10.0.0.0/8 (the VIPs: interfaces are in 192.168.0.0/16) present in `ns`."""
        out = sh("ip", "-n", ns, "-o", "-4", "addr", "show", "to", "10.0.0.0/8", check=False)
        return len(out.splitlines())

    def vip_hosts(self, ns):
        """{last octet: count} of the VIPs present in `ns`."""
        out = sh("ip", "-n", ns, "-o", "-4", "addr", "show", "to", "10.0.0.0/8", check=False)
        hosts = {}
        for line in out.splitlines():
            f = line.split()
            if len(f) > 3:
                h = int(f[3].split("/")[0].rsplit(".", 1)[1])
                hosts[h] = hosts.get(h, 0) + 1
        return hosts

    def flush_vips(self):
        """Remove the VIPs a SIGKILLed daemon left behind."""
        for ns in self.namespaces:
            subprocess.run(["ip", "-n", ns, "-4", "addr", "flush", "to", "10.0.0.0/8"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def tx_packets(self, ns):
        """Packets transmitted by every interface of `ns` except lo: the interface counters
        (`tx_packets` of /sys/class/net/*/statistics), read from /proc/PID/net/dev of a
        process in the namespace."""
        total = 0
        with open(f"/proc/{self.anchors[ns].pid}/net/dev") as f:
            for line in f.readlines()[2:]:
                name, data = line.split(":", 1)
                if name.strip() != "lo":
                    total += int(data.split()[9])
        return total

    # -- daemons ------------------------------------------------------------------------
    def start(self, impl, ns, conf_text, tag=None):
        self.seq += 1
        tag = tag or f"{impl}-{self.seq}"
        base = os.path.join(self.work, tag)
        conf = base + ".conf"
        with open(conf, "w") as f:
            f.write(conf_text)
        log = open(base + ".log", "w")
        if impl == "keepalived":
            args = [self.bins["keepalived"], "-n", "-l", "--vrrp", "-f", conf, "-p", base + ".pid",
                    "-r", base + ".vrrp.pid", "-c", base + ".chk.pid"]
        else:
            args = [self.bins["keepalived-rs"], "-n", "-l", "-f", conf, "-p", base + ".pid"]
        proc = subprocess.Popen(["ip", "netns", "exec", ns] + args, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        d = Daemon(impl, ns, proc, base + ".log", base + ".pid", conf)
        self.daemons.append(d)
        return d

    def popen(self, args, **kw):
        p = subprocess.Popen(args, start_new_session=True, **kw)
        self.others.append(p)
        return p

    def stop_all(self):
        for d in self.daemons:
            d.kill()
        self.daemons = []
        # Anything else left in the namespaces (a daemon's grandchildren).
        keep = {str(a.pid) for a in self.anchors.values()}
        for ns in self.namespaces:
            for p in sh("ip", "netns", "pids", ns, check=False).split():
                if p in keep:
                    continue
                try:
                    os.kill(int(p), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
        self.flush_vips()

    def close(self):
        for p in self.others:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        self.stop_all()
        for ns in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        self.namespaces = []


def wait_for(pred, timeout, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


def which(name):
    return shutil.which(name)


VRRP_RE = re.compile(r"^(\d+\.\d+) IP (\S+) > \S+: VRRPv\d, Advertisement, vrid (\d+), prio (\d+)")


def read_adverts(pcap):
    """[(time, source, vrid, priority)] of the VRRP adverts in a capture file."""
    out = sh("tcpdump", "-r", pcap, "-tt", "-n", check=False)
    res = []
    for line in out.splitlines():
        m = VRRP_RE.match(line)
        if m:
            res.append((float(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4))))
    return res
