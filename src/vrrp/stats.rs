//! Per-instance counters in the spirit of RFC 6527 (VRRPv3 MIB): adverts and priority-0
//! adverts sent and received, state changes, and one counter per kind of discarded packet.
//! The simulator asserts on them; `SIGUSR2` dumps them in the real world (rendered by
//! `crate::status`: `Display` here is keepalived 2.2.7's per-instance block of
//! `keepalived.stats`, with exactly its labels; our other counters are rendered by
//! `crate::status` in a separate extension section).

use std::fmt;

/// Counters of one VRRP instance (or of the host for packets no instance claims).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Adverts put on the wire (one per destination).
    pub adverts_sent: u64,
    /// Adverts that passed every receive check.
    pub adverts_received: u64,
    pub priority_zero_sent: u64,
    pub priority_zero_received: u64,
    /// Times this instance became Master.
    pub became_master: u64,
    /// Times it left Master (to Backup, Fault or Stop).
    pub released_master: u64,
    /// R1: IPv4 TTL / IPv6 Hop Limit other than 255 (or outside a unicast peer's bounds).
    pub ttl_errors: u64,
    /// R2: version differs from the instance's.
    pub version_errors: u64,
    /// R3: type other than ADVERTISEMENT.
    pub type_errors: u64,
    /// R4: shorter than the complete packet, or otherwise malformed.
    pub length_errors: u64,
    /// R5: bad checksum.
    pub checksum_errors: u64,
    /// R6: VRID not configured on the receiving interface.
    pub vrid_errors: u64,
    /// R8: authentication type or data mismatch (v2): the total of the three below.
    pub auth_errors: u64,
    /// R8: Auth Type is not 0, 1 or 2 (keepalived's `invalid_authtype`).
    pub auth_type_invalid: u64,
    /// R8: Auth Type differs from ours (keepalived's `authtype_mismatch`).
    pub auth_type_mismatch: u64,
    /// R8: wrong password (keepalived's `auth_failure`).
    pub auth_failures: u64,
    /// R9 (v2): advertised interval differs from ours; the advert was dropped.
    pub interval_errors: u64,
    /// R9 (v3): advertised interval differs from ours; logged, not dropped.
    pub interval_mismatches: u64,
    /// R10 / R11 / R12 / R14: address count 0, interval 0, first IPv6 address not
    /// link-local, address family mismatch.
    pub address_errors: u64,
    /// R13: advertised address list differs from ours (dropped for a non-owner v2 sender,
    /// logged otherwise).
    pub address_list_errors: u64,
    /// R7: an advert received while we are the address owner (logged misconfiguration).
    pub owner_conflicts: u64,
    /// Adverts from a source that is not one of our unicast peers (`check_unicast_src`).
    pub unicast_src_errors: u64,
    /// VRRPv3/IPv4 adverts accepted with the IPv4 pseudo-header checksum form.
    pub v3_checksum_pseudo_header: u64,
    /// VRRPv3/IPv4 adverts accepted with the message-only (RFC 9568) checksum form.
    pub v3_checksum_message_only: u64,
    /// VIPs deleted by someone else while Master, and put back.
    pub vips_restored: u64,
    /// VRID conflict episodes raised (extension; see `vrrp::conflict`).
    pub conflicts: u64,
}

impl Stats {
    /// Total of every discard counter.
    pub fn discarded(&self) -> u64 {
        self.ttl_errors
            + self.version_errors
            + self.type_errors
            + self.length_errors
            + self.checksum_errors
            + self.vrid_errors
            + self.auth_errors
            + self.interval_errors
            + self.address_errors
            + self.unicast_src_errors
    }
}

impl fmt::Display for Stats {
    /// keepalived 2.2.7's block of one instance in `keepalived.stats` (after its
    /// `VRRP Instance: NAME` line), without the final newline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  Advertisements:")?;
        writeln!(f, "    Received: {}", self.adverts_received)?;
        writeln!(f, "    Sent: {}", self.adverts_sent)?;
        writeln!(f, "  Became master: {}", self.became_master)?;
        writeln!(f, "  Released master: {}", self.released_master)?;
        writeln!(f, "  Packet Errors:")?;
        writeln!(f, "    Length: {}", self.length_errors)?;
        writeln!(f, "    TTL: {}", self.ttl_errors)?;
        writeln!(f, "    Invalid Type: {}", self.type_errors)?;
        writeln!(f, "    Advertisement Interval: {}", self.interval_errors)?;
        writeln!(f, "    Address List: {}", self.address_list_errors)?;
        writeln!(f, "  Authentication Errors:")?;
        writeln!(f, "    Invalid Type: {}", self.auth_type_invalid)?;
        writeln!(f, "    Type Mismatch: {}", self.auth_type_mismatch)?;
        writeln!(f, "    Failure: {}", self.auth_failures)?;
        writeln!(f, "  Priority Zero:")?;
        writeln!(f, "    Received: {}", self.priority_zero_received)?;
        write!(f, "    Sent: {}", self.priority_zero_sent)
    }
}
