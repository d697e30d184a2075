//! VRRPv2 / VRRPv3 advertisements: encoding, decoding, checksums and the receive checks of
//! the RFCs (see `shared/reference/vrrp-rfc.md` §1-§2).
//!
//! CONTRACT (used by `instance` and the simulator): [`Advert`], [`V3Ipv4Checksum`],
//! [`encode`], [`decode`] and [`DecodeError`]. The codec helper fills in the bodies.

use std::net::IpAddr;

/// VRRP protocol version on the wire.
pub use crate::config::model::VrrpVersion as Version;

/// Authentication of a VRRPv2 advert (RFC 2338 types kept by keepalived).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum V2Auth {
    None,
    /// Type 1: 8-byte password, zero padded.
    Pass([u8; 8]),
    /// Type 2: IPsec AH (the VRRP message itself carries type 2 and zero data).
    Ah,
    /// Any other type number, kept so the receive check can report it.
    Other(u8),
}

/// One decoded (or to-be-encoded) advertisement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Advert {
    pub version: Version,
    pub vrid: u8,
    pub priority: u8,
    /// Advertisement interval in centiseconds. VRRPv2 carries whole seconds on the wire:
    /// the codec multiplies by / divides by 100.
    pub interval_cs: u16,
    /// The address list: IPv4 or IPv6 (one family, the family of the IP header).
    pub addresses: Vec<IpAddr>,
    /// VRRPv2 only; `V2Auth::None` for v3.
    pub auth: V2Auth,
}

/// Checksum form of VRRPv3 over IPv4 (see the reference §1.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum V3Ipv4Checksum {
    /// keepalived's and FRR's default: IPv4 pseudo-header included.
    PseudoHeader,
    /// RFC 9568: the VRRP message only (`v3_checksum_as_v2`).
    MessageOnly,
}

/// Why a received packet was discarded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    Placeholder,
}

/// Encodes `advert` as sent from `src` to `dst` (addresses needed for the checksum).
pub fn encode(_advert: &Advert, _src: IpAddr, _dst: IpAddr, _form: V3Ipv4Checksum) -> Vec<u8> {
    Vec::new()
}

/// Decodes a VRRP message received from `src` for `dst`; returns the advert and, for
/// VRRPv3 over IPv4, which checksum form matched.
pub fn decode(
    _bytes: &[u8],
    _src: IpAddr,
    _dst: IpAddr,
) -> Result<(Advert, Option<V3Ipv4Checksum>), DecodeError> {
    Err(DecodeError::Placeholder)
}
