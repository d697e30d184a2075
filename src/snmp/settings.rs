//! What is served over SNMP: the settings from `global_defs` (`enable_snmp_rfc`,
//! `enable_snmp_rfcv2`, `enable_snmp_rfcv3`, `enable_traps`, `snmp_socket`) and the
//! command line (`-x/--snmp`, `-A/--snmp-agent-socket`), keepalived's way, and the view
//! of the MIBs they enable at one instant.

use super::oid::Oid;
use super::rows::UpTimeBase;
use super::view::View;
use super::{keepalived_mib, rfc2787, rfc6527};
use crate::config::model::GlobalDefs;
use crate::status::Snapshot;
use std::net::IpAddr;
use std::path::PathBuf;

/// keepalived's (and net-snmp's) default AgentX socket.
pub const DEFAULT_SOCKET: &str = "unix:/var/agentx/master";
/// net-snmp's default AgentX TCP port.
pub const AGENTX_PORT: u16 = 705;

/// Where the master agent listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Unix(PathBuf),
    Tcp(IpAddr, u16),
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Unix(p) => write!(f, "unix:{}", p.display()),
            Endpoint::Tcp(IpAddr::V6(a), p) => write!(f, "tcp6:[{a}]:{p}"),
            Endpoint::Tcp(a, p) => write!(f, "tcp:{a}:{p}"),
        }
    }
}

/// The SNMP settings of a configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnmpSettings {
    pub endpoint: Endpoint,
    /// VRRP-MIB (RFC 2787).
    pub rfcv2: bool,
    /// VRRPv3-MIB (RFC 6527).
    pub rfcv3: bool,
    /// KEEPALIVED-MIB's global scalars and vrrpInstanceTable (`enable_snmp_vrrp`).
    pub keepalived: bool,
    /// `enable_traps`: notifications on state changes.
    pub traps: bool,
}

impl SnmpSettings {
    /// The subtrees to register.
    pub fn subtrees(&self) -> Vec<Oid> {
        let mut v = Vec::new();
        if self.rfcv2 {
            v.push(Oid::new(&rfc2787::VRRP_MIB));
        }
        if self.rfcv3 {
            v.push(Oid::new(&rfc6527::VRRPV3_MIB));
        }
        if self.keepalived {
            v.extend(keepalived_mib::SUBTREES.iter().map(|s| Oid::new(s)));
        }
        v
    }
}

/// Parses `snmp_socket` in net-snmp's transport syntax: `unix:PATH` or `PATH` (absolute),
/// `tcp:ADDR[:PORT]`, `tcp6:[ADDR][:PORT]`, `ADDR:PORT` (TCP). ADDR is an IP address or
/// `localhost` (no name lookups: the loop never blocks).
pub fn parse_socket(s: &str) -> Result<Endpoint, String> {
    let s = s.trim();
    if let Some(p) = s.strip_prefix("unix:") {
        if p.is_empty() {
            return Err("snmp_socket: unix: needs a path".into());
        }
        return Ok(Endpoint::Unix(PathBuf::from(p)));
    }
    if s.starts_with('/') {
        return Ok(Endpoint::Unix(PathBuf::from(s)));
    }
    if s.starts_with("udp:") || s.starts_with("udp6:") {
        return Err(format!(
            "snmp_socket '{s}': AgentX runs over a stream; use unix: or tcp:"
        ));
    }
    let rest = s
        .strip_prefix("tcp6:")
        .or_else(|| s.strip_prefix("tcp:"))
        .unwrap_or(s);
    let bad = || format!("snmp_socket '{s}': expected unix:PATH or tcp:ADDRESS[:PORT]");
    let (host, port) = if let Some(r) = rest.strip_prefix('[') {
        let (h, after) = r.split_once(']').ok_or_else(bad)?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(bad()),
        };
        (h, port)
    } else {
        match rest.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, Some(p)),
            Some(_) => (rest, None), // a bare IPv6 address
            None => (rest, None),
        }
    };
    let port = match port {
        Some(p) => p.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(bad)?,
        None => AGENTX_PORT,
    };
    let addr = if host == "localhost" {
        IpAddr::from([127, 0, 0, 1])
    } else {
        host.parse::<IpAddr>().map_err(|_| bad())?
    };
    Ok(Endpoint::Tcp(addr, port))
}

/// The settings a configuration and the command line ask for; None when SNMP is off.
/// As keepalived: any `enable_snmp_*` keyword turns it on; `-x` alone turns on every MIB
/// (here the two VRRP MIBs); `-A` names the socket over `snmp_socket`.
pub fn from_config(
    g: &GlobalDefs,
    cli_snmp: bool,
    cli_socket: Option<&str>,
) -> Result<Option<SnmpSettings>, String> {
    let has = |k: &str| g.other.contains_key(k);
    let rfc = has("enable_snmp_rfc");
    let mut rfcv2 = rfc || has("enable_snmp_rfcv2");
    let mut rfcv3 = rfc || has("enable_snmp_rfcv3");
    let mut keepalived = has("enable_snmp_vrrp") || has("enable_snmp_keepalived");
    let any_keyword = rfcv2 || rfcv3 || keepalived || has("enable_snmp_checker");
    if cli_snmp && !any_keyword {
        rfcv2 = true;
        rfcv3 = true;
        keepalived = true;
    }
    if !rfcv2 && !rfcv3 && !keepalived {
        return Ok(None);
    }
    let text = match (cli_socket, g.other.get("snmp_socket")) {
        (Some(s), _) => s.to_string(),
        (None, Some(crate::config::model::GlobalValue::Str(s))) => s.clone(),
        _ => DEFAULT_SOCKET.to_string(),
    };
    Ok(Some(SnmpSettings {
        endpoint: parse_socket(&text)?,
        rfcv2,
        rfcv3,
        keepalived,
        traps: has("enable_traps"),
    }))
}

/// The objects served at one instant.
pub fn view(snap: &Snapshot, s: &SnmpSettings, base: Option<UpTimeBase>) -> View {
    let mut entries = Vec::new();
    let mut types = Vec::new();
    if s.rfcv2 {
        let (e, t) = rfc2787::objects(snap, base);
        entries.extend(e);
        types.extend(t);
    }
    if s.rfcv3 {
        let (e, t) = rfc6527::objects(snap, base);
        entries.extend(e);
        types.extend(t);
    }
    if s.keepalived {
        let (e, t) = keepalived_mib::objects(snap);
        entries.extend(e);
        types.extend(t);
    }
    View::new(entries, types)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_syntax() {
        assert_eq!(
            parse_socket("unix:/var/agentx/master"),
            Ok(Endpoint::Unix("/var/agentx/master".into()))
        );
        assert_eq!(parse_socket("/tmp/x"), Ok(Endpoint::Unix("/tmp/x".into())));
        assert_eq!(
            parse_socket("tcp:127.0.0.1:7050"),
            Ok(Endpoint::Tcp([127, 0, 0, 1].into(), 7050))
        );
        assert_eq!(
            parse_socket("localhost:705"),
            Ok(Endpoint::Tcp([127, 0, 0, 1].into(), 705))
        );
        assert_eq!(
            parse_socket("tcp:10.0.0.1"),
            Ok(Endpoint::Tcp([10, 0, 0, 1].into(), 705))
        );
        assert_eq!(
            parse_socket("tcp6:[::1]:706"),
            Ok(Endpoint::Tcp("::1".parse().unwrap(), 706))
        );
        assert!(parse_socket("udp:1.2.3.4:705").is_err());
        assert!(parse_socket("tcp:snmp.example:705").is_err());
        assert!(parse_socket("tcp:1.2.3.4:0").is_err());
        assert!(parse_socket("unix:").is_err());
        assert_eq!(
            parse_socket("tcp6:[::1]:706").unwrap().to_string(),
            "tcp6:[::1]:706"
        );
    }

    fn global(keys: &[(&str, Option<&str>)]) -> GlobalDefs {
        use crate::config::model::GlobalValue;
        let mut g = GlobalDefs::default();
        for (k, v) in keys {
            let val = match v {
                Some(s) => GlobalValue::Str(s.to_string()),
                None => GlobalValue::Flag,
            };
            g.other.insert(k.to_string(), val);
        }
        g
    }

    #[test]
    fn keepalived_enabling_rules() {
        // Off by default.
        assert_eq!(from_config(&global(&[]), false, None), Ok(None));
        // -x alone: every MIB, default socket.
        let s = from_config(&global(&[]), true, None).unwrap().unwrap();
        assert!(s.rfcv2 && s.rfcv3 && s.keepalived && !s.traps);
        assert_eq!(s.endpoint, Endpoint::Unix("/var/agentx/master".into()));
        // One keyword: only that MIB, with or without -x.
        let g = global(&[("enable_snmp_rfcv2", None), ("enable_traps", None)]);
        for x in [false, true] {
            let s = from_config(&g, x, None).unwrap().unwrap();
            assert!(s.rfcv2 && !s.rfcv3 && !s.keepalived && s.traps);
        }
        // enable_snmp_rfc: both; snmp_socket, and -A over it.
        let g = global(&[
            ("enable_snmp_rfc", None),
            ("snmp_socket", Some("tcp:127.0.0.1:7050")),
        ]);
        let s = from_config(&g, false, None).unwrap().unwrap();
        assert!(s.rfcv2 && s.rfcv3);
        assert_eq!(s.endpoint, Endpoint::Tcp([127, 0, 0, 1].into(), 7050));
        let s = from_config(&g, false, Some("/run/ax")).unwrap().unwrap();
        assert_eq!(s.endpoint, Endpoint::Unix("/run/ax".into()));
        // KEEPALIVED-MIB's VRRP part alone (under either name).
        for k in ["enable_snmp_vrrp", "enable_snmp_keepalived"] {
            let s = from_config(&global(&[(k, None)]), true, None)
                .unwrap()
                .unwrap();
            assert!(s.keepalived && !s.rfcv2 && !s.rfcv3);
            assert_eq!(s.subtrees().len(), 2);
        }
        // Only the checker part (not implemented): nothing served, even with -x.
        assert_eq!(
            from_config(&global(&[("enable_snmp_checker", None)]), true, None),
            Ok(None)
        );
        // A bad socket is an error.
        let g = global(&[
            ("enable_snmp_rfc", None),
            ("snmp_socket", Some("udp:1.2.3.4")),
        ]);
        assert!(from_config(&g, false, None).is_err());
    }
}
