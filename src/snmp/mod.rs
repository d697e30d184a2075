//! SNMP for operators (extension of keepalived-rs, as keepalived's `-x`): an AgentX
//! subagent (RFC 2741) of the host's snmpd serving VRRP-MIB (RFC 2787), VRRPv3-MIB
//! (RFC 6527) and part of KEEPALIVED-MIB's VRRP objects from the engine's snapshot. Everything here is pure; the socket is
//! `sys::agentx`.
//!
//! - `oid`: object identifiers and their order;
//! - `wire`: AgentX data types (integers in either byte order, OIDs, octet strings,
//!   variable bindings, search ranges);
//! - `pdu`: the header and the PDUs;
//! - `view`: Get / GetNext / GetBulk over a sorted list of objects;
//! - `session`: the subagent's side of one session (Open, Register, answers, Notify, Close);
//! - `rows`: what both VRRP MIBs say of one instance (index, state, addresses, up-time);
//! - `rfc2787` / `rfc6527`: the two MIBs' objects from a snapshot;
//! - `keepalived_mib`: KEEPALIVED-MIB's global scalars and vrrpInstanceTable;
//! - `settings`: what the configuration and the command line ask for, and its view;
//! - `traps`: the new-Master notifications (`enable_traps`).

pub mod keepalived_mib;
pub mod oid;
pub mod pdu;
pub mod rfc2787;
pub mod rfc6527;
pub mod rows;
pub mod session;
pub mod settings;
pub mod traps;
pub mod view;
pub mod wire;

#[cfg(test)]
mod tests_codec;
#[cfg(test)]
mod tests_mib;

/// For the fuzz harness (`make fuzz`): decodes hostile bytes as a PDU (and, when they
/// decode, checks that encoding and decoding again gives the same body), then feeds them
/// to an open session. Never panics except on a codec inconsistency.
pub fn fuzz_agentx(bytes: &[u8]) {
    if let Ok(p) = pdu::decode(bytes) {
        let again = pdu::decode(&pdu::encode(&p));
        assert_eq!(again.map(|q| q.body), Ok(p.body), "AgentX codec round trip");
    }
    let settings = session::Settings {
        subtrees: vec![oid::Oid::new(&[1, 3, 6, 1, 2, 1, 68])],
        descr: "fuzz".into(),
        timeout: 0,
    };
    let (mut s, _) = session::Session::open(settings);
    let view = || {
        std::rc::Rc::new(view::View::new(
            vec![(
                oid::Oid::new(&[1, 3, 6, 1, 2, 1, 68, 1, 1, 0]),
                wire::Value::Integer(2),
            )],
            vec![oid::Oid::new(&[1, 3, 6, 1, 2, 1, 68, 1, 1])],
        ))
    };
    let mut out = Vec::new();
    let _ = s.on_input(bytes, &mut { view }, &mut out);
}
