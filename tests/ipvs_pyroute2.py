"""Encodes IPVS generic-netlink requests with pyroute2 for tests/ipvs_codec_pyroute2.rs.

Reads one JSON case per line on stdin, writes `name native ordered` per line, each a hex
string (or `-` where pyroute2 cannot encode that form):

- native: pyroute2's own records (IPVSService / IPVSDest, their defaults and attribute
  order; dump_key() where pyroute2 sends only the key, as its IPVS.dest() does for the
  service), in a message built as pyroute2's IPVS.service()/dest() build theirs.
- ordered: pyroute2's netlink encoder (the ipvsmsg classes of
  pyroute2.netlink.generic.ipvs) given the same attributes in the order keepalived-rs
  sends them, with the same header fields, so the bytes must be identical.

pyroute2 >= 0.7.3 has the IPVS classes (Debian 12's python3-pyroute2 0.7.2 has none).
"""

import json
import socket
import sys

from pyroute2.ipvs import IPVSDest, IPVSService
from pyroute2.netlink import genlmsg, nla
from pyroute2.netlink.generic import ctrlmsg
from pyroute2.netlink.generic.ipvs import ipvsmsg


class daemon_msg(genlmsg):
    """pyroute2 types IPVS_CMD_ATTR_DAEMON as opaque "hex": this message gives it the
    uapi's attributes (linux/ip_vs.h) so pyroute2's encoder can write it. Weaker than the
    service and dest cases: the attribute map is ours, only the encoding is pyroute2's."""

    nla_map = (
        ("IPVS_CMD_ATTR_UNSPEC", "none"),
        ("IPVS_CMD_ATTR_SERVICE", "hex"),
        ("IPVS_CMD_ATTR_DEST", "hex"),
        ("IPVS_CMD_ATTR_DAEMON", "daemon"),
    )

    class daemon(nla):
        nla_map = (
            ("IPVS_DAEMON_ATTR_UNSPEC", "none"),
            ("IPVS_DAEMON_ATTR_STATE", "uint32"),
            ("IPVS_DAEMON_ATTR_MCAST_IFN", "asciiz"),
            ("IPVS_DAEMON_ATTR_SYNC_ID", "uint32"),
            ("IPVS_DAEMON_ATTR_SYNC_MAXLEN", "uint16"),
            ("IPVS_DAEMON_ATTR_MCAST_GROUP", "ip4addr"),
            ("IPVS_DAEMON_ATTR_MCAST_GROUP6", "ip6addr"),
            ("IPVS_DAEMON_ATTR_MCAST_PORT", "be16"),
            ("IPVS_DAEMON_ATTR_MCAST_TTL", "uint8"),
        )


class config_msg(genlmsg):
    """pyroute2 types the IPVS_CMD_ATTR_TIMEOUT_* attributes as opaque "hex": this
    message gives them uapi's u32 (linux/ip_vs.h) so pyroute2's encoder writes them
    (SET_CONFIG, keepalived's lvs_timeouts). Like daemon_msg: our map, pyroute2's
    encoding."""

    nla_map = (
        ("IPVS_CMD_ATTR_UNSPEC", "none"),
        ("IPVS_CMD_ATTR_SERVICE", "hex"),
        ("IPVS_CMD_ATTR_DEST", "hex"),
        ("IPVS_CMD_ATTR_DAEMON", "hex"),
        ("IPVS_CMD_ATTR_TIMEOUT_TCP", "uint32"),
        ("IPVS_CMD_ATTR_TIMEOUT_TCP_FIN", "uint32"),
        ("IPVS_CMD_ATTR_TIMEOUT_UDP", "uint32"),
    )


def netmask_value(svc):
    # pyroute2 types IPVS_SVC_ATTR_NETMASK as ip4addr for both families. IPv4: the mask
    # (keepalived-rs holds it as the big-endian u32's value). IPv6: the kernel reads a u32
    # prefix length in host order: the "address" whose bytes are that u32 (little-endian
    # hosts; the Rust test runs only there).
    n = svc["netmask"]
    if svc["af"] == socket.AF_INET:
        return socket.inet_ntoa(n.to_bytes(4, "big"))
    return socket.inet_ntoa(n.to_bytes(4, "little"))


def svc_attrs(svc, full):
    """The service nest in keepalived-rs's order (ipvs_codec::service_nest)."""
    a = [("IPVS_SVC_ATTR_AF", svc["af"])]
    if "fwmark" in svc:
        a.append(("IPVS_SVC_ATTR_FWMARK", svc["fwmark"]))
    else:
        a.append(("IPVS_SVC_ATTR_PROTOCOL", svc["protocol"]))
        a.append(("IPVS_SVC_ATTR_ADDR", svc["addr"]))
        a.append(("IPVS_SVC_ATTR_PORT", svc["port"]))
    if full:
        a.append(("IPVS_SVC_ATTR_SCHED_NAME", svc["sched_name"]))
        a.append(("IPVS_SVC_ATTR_FLAGS", {"flags": svc["flags"], "mask": 0xFFFFFFFF}))
        a.append(("IPVS_SVC_ATTR_TIMEOUT", svc["timeout"]))
        a.append(("IPVS_SVC_ATTR_NETMASK", netmask_value(svc)))
        if "pe_name" in svc:
            a.append(("IPVS_SVC_ATTR_PE_NAME", svc["pe_name"]))
    return {"attrs": a}


def dest_attrs(d, full):
    """The dest nest in keepalived-rs's order (ipvs_codec::dest_cmd)."""
    a = [
        ("IPVS_DEST_ATTR_ADDR", d["addr"]),
        ("IPVS_DEST_ATTR_PORT", d["port"]),
        ("IPVS_DEST_ATTR_ADDR_FAMILY", d["addr_family"]),
    ]
    if full:
        a += [
            ("IPVS_DEST_ATTR_FWD_METHOD", d["fwd_method"]),
            ("IPVS_DEST_ATTR_WEIGHT", d["weight"]),
            ("IPVS_DEST_ATTR_U_THRESH", d["u_thresh"]),
            ("IPVS_DEST_ATTR_L_THRESH", d["l_thresh"]),
        ]
        if d["fwd_method"] == 2:
            # pyroute2 types TUN_PORT as a host-order uint16; uapi says __be16 (and the
            # kernel reads it big-endian): handing pyroute2 htons(port) writes the same
            # bytes. The native form below shows pyroute2's own reading.
            a += [
                ("IPVS_DEST_ATTR_TUN_TYPE", d["tun_type"]),
                ("IPVS_DEST_ATTR_TUN_PORT", socket.htons(d["tun_port"])),
                ("IPVS_DEST_ATTR_TUN_FLAGS", d["tun_flags"]),
            ]
    return {"attrs": a}


def native_service(svc):
    kw = {"af": svc["af"]}
    if "fwmark" in svc:
        kw["fwmark"] = svc["fwmark"]
    else:
        kw.update(addr=svc["addr"], port=svc["port"], protocol=svc["protocol"])
    if "sched_name" in svc:
        kw.update(
            sched_name=svc["sched_name"],
            flags={"flags": svc["flags"], "mask": 0xFFFFFFFF},
            timeout=svc["timeout"],
            netmask=netmask_value(svc),
        )
    if "pe_name" in svc:
        kw["pe_name"] = svc["pe_name"]
    return IPVSService(**kw)


def native_dest(d):
    kw = {"addr": d["addr"], "port": d["port"], "addr_family": d["addr_family"]}
    for k in ("fwd_method", "weight", "u_thresh", "l_thresh", "tun_type", "tun_flags"):
        if k in d:
            kw[k] = d[k]
    if "tun_port" in d:
        kw["tun_port"] = d["tun_port"]
    return IPVSDest(**kw)


def header(m, c):
    m["header"]["type"] = c["family"]
    m["header"]["flags"] = c["flags"]
    m["header"]["sequence_number"] = c["seq"]
    m["header"]["pid"] = 0


def encode(m, c):
    header(m, c)
    m.encode()
    return m.data.hex()


def case(c):
    kind = c["kind"]
    if kind == "family":
        m = ctrlmsg()
        m["cmd"] = 3  # CTRL_CMD_GETFAMILY
        m["version"] = 1
        m["attrs"] = [("CTRL_ATTR_FAMILY_NAME", "IPVS")]
        # pyroute2's own controller message: one form only.
        return "-", encode(m, c)
    if kind == "daemon":
        m = daemon_msg()
        m["cmd"] = c["cmd"]
        m["version"] = 1
        if "daemon" in c:
            d = c["daemon"]
            a = [("IPVS_DAEMON_ATTR_STATE", d["state"])]
            if c["cmd"] == 9:  # NEW_DAEMON
                a.append(("IPVS_DAEMON_ATTR_MCAST_IFN", d["ifname"]))
                a.append(("IPVS_DAEMON_ATTR_SYNC_ID", d["syncid"]))
                if "maxlen" in d:
                    a.append(("IPVS_DAEMON_ATTR_SYNC_MAXLEN", d["maxlen"]))
                if "group" in d:
                    if ":" in d["group"]:
                        a.append(("IPVS_DAEMON_ATTR_MCAST_GROUP6", d["group"]))
                    else:
                        a.append(("IPVS_DAEMON_ATTR_MCAST_GROUP", d["group"]))
                if "port" in d:
                    a.append(("IPVS_DAEMON_ATTR_MCAST_PORT", d["port"]))
                if "ttl" in d:
                    a.append(("IPVS_DAEMON_ATTR_MCAST_TTL", d["ttl"]))
            m["attrs"] = [("IPVS_CMD_ATTR_DAEMON", {"attrs": a})]
        # pyroute2 has no structure for the daemon nest: no native form.
        return "-", encode(m, c)
    if kind == "config":
        m = config_msg()
        m["cmd"] = c["cmd"]
        m["version"] = 1
        m["attrs"] = [
            (name, c[key])
            for key, name in (
                ("tcp", "IPVS_CMD_ATTR_TIMEOUT_TCP"),
                ("tcpfin", "IPVS_CMD_ATTR_TIMEOUT_TCP_FIN"),
                ("udp", "IPVS_CMD_ATTR_TIMEOUT_UDP"),
            )
            if key in c
        ]
        # pyroute2 has no structure for the timeouts: no native form.
        return "-", encode(m, c)
    svc = c.get("svc")
    dest = c.get("dest")
    full_svc = kind == "service" and "sched_name" in (svc or {})
    ordered = ipvsmsg()
    ordered["cmd"] = c["cmd"]
    ordered["version"] = 1
    ordered["attrs"] = []
    if svc is not None:
        ordered["attrs"].append(("IPVS_CMD_ATTR_SERVICE", svc_attrs(svc, full_svc)))
    if dest is not None:
        ordered["attrs"].append(("IPVS_CMD_ATTR_DEST", dest_attrs(dest, "weight" in dest)))
    native = ipvsmsg()
    native["cmd"] = c["cmd"]
    native["version"] = 1
    native["attrs"] = []
    if svc is not None:
        s = native_service(svc)
        # pyroute2's IPVS.dest() sends the service's key; IPVS.service() the whole record
        # (a delete with pyroute2 defaults for what we do not send).
        nest = s.dump_nla() if kind == "service" else s.dump_key()
        native["attrs"].append(("IPVS_CMD_ATTR_SERVICE", nest))
    if dest is not None:
        native["attrs"].append(("IPVS_CMD_ATTR_DEST", native_dest(dest).dump_nla()))
    return encode(native, c), encode(ordered, c)


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        c = json.loads(line)
        native, ordered = case(c)
        print(c["name"], native, ordered, flush=True)


main()
