//! The IPVS generic-netlink wire format (no socket here): the "IPVS" family lookup,
//! service / destination / sync-daemon commands, and a decoder for GET_SERVICE / GET_DEST
//! dump replies that returns errors, never panics. Constants follow the kernel's uapi
//! `linux/ip_vs.h` (enums `IPVS_CMD_*`, `IPVS_CMD_ATTR_*`, `IPVS_SVC_ATTR_*`,
//! `IPVS_DEST_ATTR_*`, `IPVS_DAEMON_ATTR_*`) and `linux/genetlink.h` (`genlmsghdr`,
//! `GENL_ID_CTRL`, `CTRL_CMD_GETFAMILY`, `CTRL_ATTR_*`). Integers are host order except
//! ports (`__be16`) and the IPv4 netmask (`__be32`), as the header says.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::ipvs::model::{Af, DestAttrs, DestKey, Forward, Proto, ServiceAttrs, ServiceKey};
use crate::sys::netlink::{
    attrs, messages, Attr, MsgBuilder, NlError, NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK, NLM_F_DUMP,
    NLM_F_REQUEST,
};

/// `linux/genetlink.h`: the controller family and its lookup.
pub const GENL_ID_CTRL: u16 = 0x10;
pub const CTRL_CMD_GETFAMILY: u8 = 3;
pub const CTRL_ATTR_FAMILY_ID: u16 = 1;
pub const CTRL_ATTR_FAMILY_NAME: u16 = 2;
/// `IPVS_GENL_NAME` and `IPVS_GENL_VERSION`.
pub const IPVS_GENL_NAME: &str = "IPVS";
pub const IPVS_GENL_VERSION: u8 = 1;

/// `enum { IPVS_CMD_UNSPEC = 0, IPVS_CMD_NEW_SERVICE, ... }`.
pub const IPVS_CMD_NEW_SERVICE: u8 = 1;
pub const IPVS_CMD_SET_SERVICE: u8 = 2;
pub const IPVS_CMD_DEL_SERVICE: u8 = 3;
pub const IPVS_CMD_GET_SERVICE: u8 = 4;
pub const IPVS_CMD_NEW_DEST: u8 = 5;
pub const IPVS_CMD_SET_DEST: u8 = 6;
pub const IPVS_CMD_DEL_DEST: u8 = 7;
pub const IPVS_CMD_GET_DEST: u8 = 8;
pub const IPVS_CMD_NEW_DAEMON: u8 = 9;
pub const IPVS_CMD_DEL_DAEMON: u8 = 10;
pub const IPVS_CMD_GET_DAEMON: u8 = 11;
pub const IPVS_CMD_SET_CONFIG: u8 = 12;

/// `enum { IPVS_CMD_ATTR_UNSPEC = 0, IPVS_CMD_ATTR_SERVICE, _DEST, _DAEMON, ... }`.
pub const IPVS_CMD_ATTR_SERVICE: u16 = 1;
pub const IPVS_CMD_ATTR_DEST: u16 = 2;
pub const IPVS_CMD_ATTR_DAEMON: u16 = 3;
/// Top-level u32 attributes of SET_CONFIG / GET_CONFIG (seconds).
pub const IPVS_CMD_ATTR_TIMEOUT_TCP: u16 = 4;
pub const IPVS_CMD_ATTR_TIMEOUT_TCP_FIN: u16 = 5;
pub const IPVS_CMD_ATTR_TIMEOUT_UDP: u16 = 6;

/// `enum { IPVS_SVC_ATTR_UNSPEC = 0, ... }`.
pub const IPVS_SVC_ATTR_AF: u16 = 1; // u16
pub const IPVS_SVC_ATTR_PROTOCOL: u16 = 2; // u16
pub const IPVS_SVC_ATTR_ADDR: u16 = 3; // union nf_inet_addr (16 bytes)
pub const IPVS_SVC_ATTR_PORT: u16 = 4; // __be16
pub const IPVS_SVC_ATTR_FWMARK: u16 = 5; // u32
pub const IPVS_SVC_ATTR_SCHED_NAME: u16 = 6; // string
pub const IPVS_SVC_ATTR_FLAGS: u16 = 7; // struct ip_vs_flags { u32 flags; u32 mask; }
pub const IPVS_SVC_ATTR_TIMEOUT: u16 = 8; // u32
pub const IPVS_SVC_ATTR_NETMASK: u16 = 9; // __be32 (IPv4) / prefix length (IPv6)
pub const IPVS_SVC_ATTR_PE_NAME: u16 = 11; // string (persistence engine)

/// `enum { IPVS_DEST_ATTR_UNSPEC = 0, ... }`.
pub const IPVS_DEST_ATTR_ADDR: u16 = 1; // union nf_inet_addr
pub const IPVS_DEST_ATTR_PORT: u16 = 2; // __be16
pub const IPVS_DEST_ATTR_FWD_METHOD: u16 = 3; // u32
pub const IPVS_DEST_ATTR_WEIGHT: u16 = 4; // u32
pub const IPVS_DEST_ATTR_U_THRESH: u16 = 5; // u32
pub const IPVS_DEST_ATTR_L_THRESH: u16 = 6; // u32
pub const IPVS_DEST_ATTR_ADDR_FAMILY: u16 = 11; // u16
pub const IPVS_DEST_ATTR_TUN_TYPE: u16 = 13; // u8
pub const IPVS_DEST_ATTR_TUN_PORT: u16 = 14; // __be16
pub const IPVS_DEST_ATTR_TUN_FLAGS: u16 = 15; // u16

/// `enum { IPVS_DAEMON_ATTR_UNSPEC = 0, ... }`.
pub const IPVS_DAEMON_ATTR_STATE: u16 = 1; // u32: IP_VS_STATE_MASTER 1 / BACKUP 2
pub const IPVS_DAEMON_ATTR_MCAST_IFN: u16 = 2; // string
pub const IPVS_DAEMON_ATTR_SYNC_ID: u16 = 3; // u32
pub const IPVS_DAEMON_ATTR_SYNC_MAXLEN: u16 = 4; // u16
pub const IPVS_DAEMON_ATTR_MCAST_GROUP: u16 = 5; // __be32
pub const IPVS_DAEMON_ATTR_MCAST_GROUP6: u16 = 6; // struct in6_addr
pub const IPVS_DAEMON_ATTR_MCAST_PORT: u16 = 7; // __be16
pub const IPVS_DAEMON_ATTR_MCAST_TTL: u16 = 8; // u8

/// `IP_VS_CONN_F_FWD_MASK`.
const FWD_MASK: u32 = 0x7;

fn genl(family: u16, flags: u16, seq: u32, cmd: u8, version: u8) -> MsgBuilder {
    let mut m = MsgBuilder::new(family, flags, seq);
    // struct genlmsghdr { __u8 cmd; __u8 version; __u16 reserved; }
    m.push(&[cmd, version, 0, 0]);
    m
}

/// CTRL_CMD_GETFAMILY for "IPVS" (the reply's CTRL_ATTR_FAMILY_ID is the family to use).
pub fn family_request(seq: u32) -> Vec<u8> {
    let mut m = genl(GENL_ID_CTRL, NLM_F_REQUEST, seq, CTRL_CMD_GETFAMILY, 1);
    m.attr_str(CTRL_ATTR_FAMILY_NAME, IPVS_GENL_NAME);
    m.finish()
}

/// The family id in a CTRL_CMD_NEWFAMILY reply.
pub fn parse_family_reply(buf: &[u8]) -> Result<u16, NlError> {
    for msg in messages(buf) {
        let msg = msg?;
        if msg.msg_type == NLMSG_ERROR {
            return Err(NlError(
                "family lookup refused (no IPVS in this kernel?)".into(),
            ));
        }
        for a in attrs(msg.payload.get(4..).unwrap_or(&[])) {
            let a = a?;
            if a.ty == CTRL_ATTR_FAMILY_ID {
                return a
                    .data
                    .get(..2)
                    .map(|b| u16::from_ne_bytes([b[0], b[1]]))
                    .ok_or_else(|| NlError("short CTRL_ATTR_FAMILY_ID".into()));
            }
        }
    }
    Err(NlError("no CTRL_ATTR_FAMILY_ID in the reply".into()))
}

fn addr16(a: &IpAddr) -> [u8; 16] {
    let mut b = [0u8; 16];
    match a {
        IpAddr::V4(v4) => b[..4].copy_from_slice(&v4.octets()),
        IpAddr::V6(v6) => b = v6.octets(),
    }
    b
}

fn service_key_attrs(m: &mut MsgBuilder, key: &ServiceKey) {
    m.attr(IPVS_SVC_ATTR_AF, &key.family().number().to_ne_bytes());
    match key {
        ServiceKey::Addr { proto, addr, port } => {
            m.attr(IPVS_SVC_ATTR_PROTOCOL, &proto.number().to_ne_bytes());
            m.attr(IPVS_SVC_ATTR_ADDR, &addr16(addr));
            m.attr(IPVS_SVC_ATTR_PORT, &port.to_be_bytes());
        }
        ServiceKey::Fwmark { mark, .. } => {
            m.attr_u32(IPVS_SVC_ATTR_FWMARK, *mark);
        }
    }
}

fn service_nest(m: &mut MsgBuilder, key: &ServiceKey, attrs: Option<&ServiceAttrs>) {
    m.begin_nest(IPVS_CMD_ATTR_SERVICE);
    service_key_attrs(m, key);
    if let Some(a) = attrs {
        m.attr_str(IPVS_SVC_ATTR_SCHED_NAME, &a.sched);
        let mut flags = [0u8; 8];
        flags[..4].copy_from_slice(&a.flags.to_ne_bytes());
        flags[4..].copy_from_slice(&u32::MAX.to_ne_bytes());
        m.attr(IPVS_SVC_ATTR_FLAGS, &flags);
        m.attr_u32(IPVS_SVC_ATTR_TIMEOUT, a.timeout);
        match key.family() {
            Af::Inet => m.attr(IPVS_SVC_ATTR_NETMASK, &a.netmask.to_be_bytes()),
            Af::Inet6 => m.attr_u32(IPVS_SVC_ATTR_NETMASK, a.netmask),
        };
        if let Some(pe) = &a.pe_name {
            m.attr_str(IPVS_SVC_ATTR_PE_NAME, pe);
        }
    }
    m.end_nest();
}

/// NEW_SERVICE / SET_SERVICE (full entry) or DEL_SERVICE (key only).
pub fn service_cmd(
    family: u16,
    seq: u32,
    cmd: u8,
    key: &ServiceKey,
    attrs: Option<&ServiceAttrs>,
) -> Vec<u8> {
    let mut m = genl(
        family,
        NLM_F_REQUEST | NLM_F_ACK,
        seq,
        cmd,
        IPVS_GENL_VERSION,
    );
    service_nest(&mut m, key, attrs);
    m.finish()
}

/// NEW_DEST / SET_DEST (full entry) or DEL_DEST (address and port only).
pub fn dest_cmd(
    family: u16,
    seq: u32,
    cmd: u8,
    svc: &ServiceKey,
    dest: &DestKey,
    attrs: Option<&DestAttrs>,
) -> Vec<u8> {
    let mut m = genl(
        family,
        NLM_F_REQUEST | NLM_F_ACK,
        seq,
        cmd,
        IPVS_GENL_VERSION,
    );
    service_nest(&mut m, svc, None);
    m.begin_nest(IPVS_CMD_ATTR_DEST);
    m.attr(IPVS_DEST_ATTR_ADDR, &addr16(&dest.addr));
    m.attr(IPVS_DEST_ATTR_PORT, &dest.port.to_be_bytes());
    let af = crate::ipvs::model::family_of(&dest.addr).number();
    m.attr(IPVS_DEST_ATTR_ADDR_FAMILY, &af.to_ne_bytes());
    if let Some(a) = attrs {
        m.attr_u32(IPVS_DEST_ATTR_FWD_METHOD, a.forward.conn_flags());
        m.attr_u32(IPVS_DEST_ATTR_WEIGHT, a.weight);
        m.attr_u32(IPVS_DEST_ATTR_U_THRESH, a.u_threshold);
        m.attr_u32(IPVS_DEST_ATTR_L_THRESH, a.l_threshold);
        if let Forward::Tunnel { kind, port, flags } = a.forward {
            m.attr_u8(IPVS_DEST_ATTR_TUN_TYPE, kind as u8);
            m.attr(IPVS_DEST_ATTR_TUN_PORT, &port.to_be_bytes());
            m.attr(IPVS_DEST_ATTR_TUN_FLAGS, &flags.to_ne_bytes());
        }
    }
    m.end_nest();
    m.finish()
}

/// The message for one diff operation.
pub fn encode_op(family: u16, seq: u32, op: &crate::ipvs::diff::Op) -> Vec<u8> {
    use crate::ipvs::diff::Op;
    match op {
        Op::AddService(k, a) => service_cmd(family, seq, IPVS_CMD_NEW_SERVICE, k, Some(a)),
        Op::EditService(k, a) => service_cmd(family, seq, IPVS_CMD_SET_SERVICE, k, Some(a)),
        Op::DelService(k) => service_cmd(family, seq, IPVS_CMD_DEL_SERVICE, k, None),
        Op::AddDest(k, d, a) => dest_cmd(family, seq, IPVS_CMD_NEW_DEST, k, d, Some(a)),
        Op::EditDest(k, d, a) => dest_cmd(family, seq, IPVS_CMD_SET_DEST, k, d, Some(a)),
        Op::DelDest(k, d) => dest_cmd(family, seq, IPVS_CMD_DEL_DEST, k, d, None),
    }
}

/// GET_SERVICE dump (all services).
pub fn dump_services(family: u16, seq: u32) -> Vec<u8> {
    genl(
        family,
        NLM_F_REQUEST | NLM_F_DUMP,
        seq,
        IPVS_CMD_GET_SERVICE,
        IPVS_GENL_VERSION,
    )
    .finish()
}

/// GET_DEST dump of one service.
pub fn dump_dests(family: u16, seq: u32, svc: &ServiceKey) -> Vec<u8> {
    let mut m = genl(
        family,
        NLM_F_REQUEST | NLM_F_DUMP,
        seq,
        IPVS_CMD_GET_DEST,
        IPVS_GENL_VERSION,
    );
    service_nest(&mut m, svc, None);
    m.finish()
}

/// A sync daemon's parameters (the engine's type; the codec encodes it).
pub use crate::ipvs::model::SyncDaemon as Daemon;

/// NEW_DAEMON (full) / DEL_DAEMON (state only, as the kernel needs) / GET_DAEMON (dump).
pub fn daemon_cmd(family: u16, seq: u32, cmd: u8, d: Option<&Daemon>) -> Vec<u8> {
    let flags = if cmd == IPVS_CMD_GET_DAEMON {
        NLM_F_REQUEST | NLM_F_DUMP
    } else {
        NLM_F_REQUEST | NLM_F_ACK
    };
    let mut m = genl(family, flags, seq, cmd, IPVS_GENL_VERSION);
    if let Some(d) = d {
        m.begin_nest(IPVS_CMD_ATTR_DAEMON);
        m.attr_u32(IPVS_DAEMON_ATTR_STATE, d.state);
        if cmd == IPVS_CMD_NEW_DAEMON {
            m.attr_str(IPVS_DAEMON_ATTR_MCAST_IFN, &d.ifname);
            m.attr_u32(IPVS_DAEMON_ATTR_SYNC_ID, d.syncid);
            if let Some(l) = d.maxlen {
                m.attr(IPVS_DAEMON_ATTR_SYNC_MAXLEN, &l.to_ne_bytes());
            }
            match d.group {
                Some(IpAddr::V4(g)) => {
                    m.attr(IPVS_DAEMON_ATTR_MCAST_GROUP, &g.octets());
                }
                Some(IpAddr::V6(g)) => {
                    m.attr(IPVS_DAEMON_ATTR_MCAST_GROUP6, &g.octets());
                }
                None => {}
            }
            if let Some(p) = d.port {
                m.attr(IPVS_DAEMON_ATTR_MCAST_PORT, &p.to_be_bytes());
            }
            if let Some(t) = d.ttl {
                m.attr_u8(IPVS_DAEMON_ATTR_MCAST_TTL, t);
            }
        }
        m.end_nest();
    }
    m.finish()
}

/// SET_CONFIG: the connection timeouts (seconds) given; an absent one is left as it is.
pub fn set_config(
    family: u16,
    seq: u32,
    tcp: Option<u32>,
    tcpfin: Option<u32>,
    udp: Option<u32>,
) -> Vec<u8> {
    let mut m = genl(
        family,
        NLM_F_REQUEST | NLM_F_ACK,
        seq,
        IPVS_CMD_SET_CONFIG,
        IPVS_GENL_VERSION,
    );
    for (ty, v) in [
        (IPVS_CMD_ATTR_TIMEOUT_TCP, tcp),
        (IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, tcpfin),
        (IPVS_CMD_ATTR_TIMEOUT_UDP, udp),
    ] {
        if let Some(v) = v {
            m.attr_u32(ty, v);
        }
    }
    m.finish()
}

/// One decoded dump entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    Service(ServiceKey, ServiceAttrs),
    Dest(DestKey, DestAttrs),
}

fn u16_of(a: &Attr<'_>) -> Result<u16, NlError> {
    a.data
        .get(..2)
        .map(|b| u16::from_ne_bytes([b[0], b[1]]))
        .ok_or_else(|| NlError(format!("attribute {} too short", a.ty)))
}

fn be16_of(a: &Attr<'_>) -> Result<u16, NlError> {
    u16_of(a).map(u16::from_be)
}

fn u32_of(a: &Attr<'_>) -> Result<u32, NlError> {
    a.u32()
        .ok_or_else(|| NlError(format!("attribute {} too short", a.ty)))
}

fn addr_of(a: &Attr<'_>, af: Af) -> Result<IpAddr, NlError> {
    let d = a.data;
    match af {
        Af::Inet if d.len() >= 4 => Ok(IpAddr::V4(Ipv4Addr::new(d[0], d[1], d[2], d[3]))),
        Af::Inet6 if d.len() >= 16 => {
            let mut b = [0u8; 16];
            b.copy_from_slice(&d[..16]);
            Ok(IpAddr::V6(Ipv6Addr::from(b)))
        }
        _ => Err(NlError(format!("address attribute of {} bytes", d.len()))),
    }
}

fn missing(what: &str) -> NlError {
    NlError(format!("{what} missing"))
}

fn decode_service(nest: &Attr<'_>) -> Result<Entry, NlError> {
    let (mut af, mut proto, mut addr, mut port, mut mark) = (None, None, None, None, None);
    let (mut sched, mut flags, mut timeout, mut netmask) = (None, 0, 0, None);
    let mut pe_name = None;
    for a in nest.nested() {
        let a = a?;
        match a.ty {
            IPVS_SVC_ATTR_AF => af = Some(u16_of(&a)?),
            IPVS_SVC_ATTR_PROTOCOL => proto = Some(u16_of(&a)?),
            IPVS_SVC_ATTR_ADDR => addr = Some(a),
            IPVS_SVC_ATTR_PORT => port = Some(be16_of(&a)?),
            IPVS_SVC_ATTR_FWMARK => mark = Some(u32_of(&a)?),
            IPVS_SVC_ATTR_SCHED_NAME => {
                sched = Some(
                    a.str()
                        .ok_or_else(|| NlError("bad scheduler name".into()))?,
                )
            }
            IPVS_SVC_ATTR_FLAGS => flags = u32_of(&a)?,
            IPVS_SVC_ATTR_TIMEOUT => timeout = u32_of(&a)?,
            IPVS_SVC_ATTR_NETMASK => netmask = Some(u32_of(&a)?),
            IPVS_SVC_ATTR_PE_NAME => {
                let pe = a
                    .str()
                    .ok_or_else(|| NlError("bad persistence engine name".into()))?;
                pe_name = (!pe.is_empty()).then(|| pe.to_string());
            }
            _ => {}
        }
    }
    let af = Af::from_number(af.ok_or_else(|| missing("IPVS_SVC_ATTR_AF"))?)
        .ok_or_else(|| NlError("unknown address family".into()))?;
    let key = match mark {
        Some(mark) if mark != 0 => ServiceKey::Fwmark { family: af, mark },
        _ => ServiceKey::Addr {
            proto: Proto::from_number(proto.ok_or_else(|| missing("IPVS_SVC_ATTR_PROTOCOL"))?)
                .ok_or_else(|| NlError("unknown protocol".into()))?,
            addr: addr_of(&addr.ok_or_else(|| missing("IPVS_SVC_ATTR_ADDR"))?, af)?,
            port: port.ok_or_else(|| missing("IPVS_SVC_ATTR_PORT"))?,
        },
    };
    let netmask = netmask.unwrap_or(0);
    let netmask = match af {
        Af::Inet => u32::from_be(netmask),
        Af::Inet6 => netmask,
    };
    Ok(Entry::Service(
        key,
        ServiceAttrs {
            sched: sched.unwrap_or_default().to_string(),
            // HASHED is the kernel's bookkeeping, not ours.
            flags: flags & !crate::ipvs::model::SVC_F_HASHED,
            timeout,
            netmask,
            pe_name,
        },
    ))
}

fn decode_dest(nest: &Attr<'_>) -> Result<Entry, NlError> {
    let (mut addr, mut port, mut fwd, mut af) = (None, None, None, None);
    let (mut weight, mut u, mut l) = (0, 0, 0);
    let (mut tt, mut tp, mut tf) = (0u8, 0u16, 0u16);
    for a in nest.nested() {
        let a = a?;
        match a.ty {
            IPVS_DEST_ATTR_ADDR => addr = Some(a),
            IPVS_DEST_ATTR_PORT => port = Some(be16_of(&a)?),
            IPVS_DEST_ATTR_FWD_METHOD => fwd = Some(u32_of(&a)? & FWD_MASK),
            IPVS_DEST_ATTR_WEIGHT => weight = u32_of(&a)?,
            IPVS_DEST_ATTR_U_THRESH => u = u32_of(&a)?,
            IPVS_DEST_ATTR_L_THRESH => l = u32_of(&a)?,
            IPVS_DEST_ATTR_ADDR_FAMILY => af = Some(u16_of(&a)?),
            IPVS_DEST_ATTR_TUN_TYPE => tt = a.u8().ok_or_else(|| missing("tunnel type"))?,
            IPVS_DEST_ATTR_TUN_PORT => tp = be16_of(&a)?,
            IPVS_DEST_ATTR_TUN_FLAGS => tf = u16_of(&a)?,
            _ => {}
        }
    }
    let addr = addr.ok_or_else(|| missing("IPVS_DEST_ATTR_ADDR"))?;
    // Older kernels send no ADDR_FAMILY: the address length decides.
    let af = match af {
        Some(n) => Af::from_number(n).ok_or_else(|| NlError("unknown address family".into()))?,
        None if addr.data.len() == 4 => Af::Inet,
        None => Af::Inet6,
    };
    let forward = match fwd.ok_or_else(|| missing("IPVS_DEST_ATTR_FWD_METHOD"))? {
        0 => Forward::Masq,
        2 => Forward::Tunnel {
            kind: u16::from(tt),
            port: tp,
            flags: tf,
        },
        3 => Forward::Direct,
        n => return Err(NlError(format!("forwarding method {n} not managed"))),
    };
    Ok(Entry::Dest(
        DestKey {
            addr: addr_of(&addr, af)?,
            port: port.ok_or_else(|| missing("IPVS_DEST_ATTR_PORT"))?,
        },
        DestAttrs {
            forward,
            weight,
            u_threshold: u,
            l_threshold: l,
        },
    ))
}

/// Decodes one datagram of a GET_SERVICE or GET_DEST dump: its entries, and whether the
/// dump is complete (NLMSG_DONE seen). A kernel error is an error.
pub fn decode_dump(buf: &[u8]) -> Result<(Vec<Entry>, bool), NlError> {
    let mut out = Vec::new();
    for msg in messages(buf) {
        let msg = msg?;
        match msg.msg_type {
            NLMSG_DONE => return Ok((out, true)),
            NLMSG_ERROR => return Err(NlError("the kernel refused the dump".into())),
            _ => {}
        }
        let body = msg
            .payload
            .get(4..)
            .ok_or_else(|| NlError("no generic-netlink header".into()))?;
        for a in attrs(body) {
            let a = a?;
            match a.ty {
                IPVS_CMD_ATTR_SERVICE => out.push(decode_service(&a)?),
                IPVS_CMD_ATTR_DEST => out.push(decode_dest(&a)?),
                _ => {}
            }
        }
    }
    Ok((out, false))
}

/// Fuzz target: the dump decoder and the family-reply parser on arbitrary bytes.
pub fn fuzz_ipvs(bytes: &[u8]) {
    let _ = decode_dump(bytes);
    let _ = parse_family_reply(bytes);
}

#[cfg(test)]
#[path = "ipvs_codec_tests.rs"]
mod tests;
