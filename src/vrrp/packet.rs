//! VRRPv2 / VRRPv3 advertisements: encoding, decoding, checksums and the receive checks of
//! the RFCs (see `shared/reference/vrrp-rfc.md` §1-§2).
//!
//! CONTRACT (used by `instance` and the simulator): [`Advert`], [`V3Ipv4Checksum`],
//! [`encode`], [`decode`], [`DecodeError`], and the per-instance receive checks
//! [`ReceivePolicy`] / [`check`] / [`Notice`].
//!
//! Two stages, as a receiver runs them:
//! 1. [`decode`] judges what the packet alone can tell: version known (R2), type (R3),
//!    length (R4), checksum (R5), address count (R10), interval (R11), address family (R14).
//! 2. [`check`] judges the packet against the receiving instance: TTL (R1), version (R2),
//!    authentication (R8), interval (R9), link-local first IPv6 address (R12) and the
//!    address list (R13).
//!
//! R12 is per instance because keepalived enforces it only in strict mode: RFC 9568
//! (E-8300) discards a VRRPv3/IPv6 advert whose first address is not link-local, while
//! keepalived without `vrrp_strict` / `strict_mode` logs it and processes the advert (the
//! usual keepalived and FRR IPv6 configurations list a global virtual address only).
//!
//! R6 (VRID not configured on the interface) is the caller's lookup; it reports
//! [`DecodeError::VridUnknown`] so every discard shares one counter vocabulary.
//!
//! ```text
//! VRRPv2 (RFC 3768 §5.1)                   VRRPv3 (RFC 5798 / 9568 §5.1)
//!  0               1               2               3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-------+-------+---------------+---------------+---------------+
//! |Version| Type  | Virtual Rtr ID|   Priority    | Count IP Addrs|
//! +-------+-------+---------------+---------------+---------------+
//! |   Auth Type   |   Adver Int   |          Checksum             |  v2
//! |(rsvd) |     Max Adver Int     |          Checksum             |  v3
//! +---------------+---------------+-------------------------------+
//! |                 IP Address(es): 4 or 16 bytes each            |
//! +---------------------------------------------------------------+
//! |          Authentication Data (v2 only): 8 bytes               |
//! +---------------------------------------------------------------+
//! ```

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// VRRP protocol version on the wire.
pub use crate::config::model::VrrpVersion as Version;

/// IP protocol number / IPv6 next header of VRRP.
pub const IPPROTO_VRRP: u8 = 112;
/// The only VRRP message type.
const TYPE_ADVERTISEMENT: u8 = 1;
/// Fixed header length of both versions.
const HEADER_LEN: usize = 8;
/// VRRPv2 authentication data length.
const V2_AUTH_LEN: usize = 8;
/// Largest VRRPv3 Max Adver Int (12 bits, centiseconds).
pub const V3_MAX_INTERVAL_CS: u16 = 0x0fff;

/// Authentication of a VRRPv2 advert (RFC 3768 types kept by keepalived).
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

impl V2Auth {
    /// The Auth Type number on the wire.
    pub fn type_number(&self) -> u8 {
        match self {
            V2Auth::None => 0,
            V2Auth::Pass(_) => 1,
            V2Auth::Ah => 2,
            V2Auth::Other(t) => *t,
        }
    }

    /// A PASS authentication from a configured password: keepalived keeps the first 8
    /// bytes and pads with zeros.
    pub fn pass(password: &[u8]) -> V2Auth {
        let mut data = [0u8; 8];
        let n = password.len().min(8);
        data[..n].copy_from_slice(&password[..n]);
        V2Auth::Pass(data)
    }
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

/// Why a received packet was discarded. One variant per receive check of the reference §2;
/// [`DecodeError::kind`] names the counter it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// R1: IPv4 TTL / IPv6 Hop Limit is not 255.
    TtlNot255 { ttl: u8 },
    /// R2: the version nibble is neither 2 nor 3.
    VersionUnknown { version: u8 },
    /// R2: a known version, but not the receiving instance's.
    VersionMismatch {
        received: Version,
        expected: Version,
    },
    /// R2/R14: VRRPv2 is IPv4 only.
    V2OverIpv6,
    /// R3: the type nibble is not 1 (ADVERTISEMENT).
    TypeUnknown { packet_type: u8 },
    /// R4: shorter than the complete message implied by the address count (v2: including
    /// the 8 bytes of authentication data).
    TooShort { len: usize, needed: usize },
    /// R5: the checksum does not match. For VRRPv3 over IPv4 `expected` is the
    /// pseudo-header form and `expected_alt` the message-only form.
    BadChecksum {
        received: u16,
        expected: u16,
        expected_alt: Option<u16>,
    },
    /// R6: no instance with this VRID on the receiving interface (reported by the caller).
    VridUnknown { vrid: u8 },
    /// R8: Auth Type is neither 0, 1 nor 2.
    AuthTypeUnknown { auth_type: u8 },
    /// R8: Auth Type differs from the local one.
    AuthTypeMismatch { received: u8, expected: u8 },
    /// R8: PASS authentication with the wrong password.
    AuthFailure,
    /// R9 (VRRPv2): the advertised interval differs from the configured one.
    IntervalMismatch { received_cs: u16, expected_cs: u16 },
    /// R10 (VRRPv3): address count 0.
    AddressCountZero,
    /// R11 (VRRPv3): Max Adver Int 0.
    IntervalZero,
    /// R12 (VRRPv3 over IPv6, strict mode): the first address is not link-local.
    FirstAddressNotLinkLocal { address: Ipv6Addr },
    /// R13 (VRRPv2 in strict mode, sender priority ≠ 255): address list differs from the
    /// configured virtual addresses.
    AddressListMismatch { received: usize, configured: usize },
    /// R14: source and destination are of different families.
    FamilyMismatch,
}

impl DecodeError {
    /// A stable, short name usable as a counter key (matches the keepalived / VRRP-MIB
    /// statistics groups).
    pub fn kind(&self) -> &'static str {
        match self {
            DecodeError::TtlNot255 { .. } => "ttl",
            DecodeError::VersionUnknown { .. }
            | DecodeError::VersionMismatch { .. }
            | DecodeError::V2OverIpv6 => "version",
            DecodeError::TypeUnknown { .. } => "type",
            DecodeError::TooShort { .. } => "length",
            DecodeError::BadChecksum { .. } => "checksum",
            DecodeError::VridUnknown { .. } => "vrid",
            DecodeError::AuthTypeUnknown { .. } => "auth_type",
            DecodeError::AuthTypeMismatch { .. } => "auth_type_mismatch",
            DecodeError::AuthFailure => "auth",
            DecodeError::IntervalMismatch { .. } | DecodeError::IntervalZero => "interval",
            DecodeError::AddressCountZero => "address_count",
            DecodeError::FirstAddressNotLinkLocal { .. } => "link_local",
            DecodeError::AddressListMismatch { .. } => "address_list",
            DecodeError::FamilyMismatch => "family",
        }
    }

    /// Every counter key [`DecodeError::kind`] can return, in a fixed order.
    pub const KINDS: &'static [&'static str] = &[
        "ttl",
        "version",
        "type",
        "length",
        "checksum",
        "vrid",
        "auth_type",
        "auth_type_mismatch",
        "auth",
        "interval",
        "address_count",
        "link_local",
        "address_list",
        "family",
    ];
}

fn version_number(v: Version) -> u8 {
    match v {
        Version::V2 => 2,
        Version::V3 => 3,
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::TtlNot255 { ttl } => {
                write!(f, "TTL/hop limit {ttl}, expected 255 (RFC 5798 §5.1.1.3)")
            }
            DecodeError::VersionUnknown { version } => {
                write!(f, "unknown VRRP version {version}")
            }
            DecodeError::VersionMismatch { received, expected } => write!(
                f,
                "VRRP version {}, instance runs version {}",
                version_number(*received),
                version_number(*expected)
            ),
            DecodeError::V2OverIpv6 => f.write_str("VRRPv2 advert over IPv6 (v2 is IPv4 only)"),
            DecodeError::TypeUnknown { packet_type } => {
                write!(f, "VRRP type {packet_type}, expected 1 (ADVERTISEMENT)")
            }
            DecodeError::TooShort { len, needed } => {
                write!(f, "packet of {len} bytes, the advert needs {needed}")
            }
            DecodeError::BadChecksum {
                received,
                expected,
                expected_alt,
            } => {
                write!(f, "bad checksum {received:#06x}, expected {expected:#06x}")?;
                if let Some(alt) = expected_alt {
                    write!(f, " (pseudo-header) or {alt:#06x} (message only)")?;
                }
                Ok(())
            }
            DecodeError::VridUnknown { vrid } => {
                write!(f, "VRID {vrid} is not configured on this interface")
            }
            DecodeError::AuthTypeUnknown { auth_type } => {
                write!(f, "unknown authentication type {auth_type}")
            }
            DecodeError::AuthTypeMismatch { received, expected } => write!(
                f,
                "authentication type {received}, instance uses type {expected}"
            ),
            DecodeError::AuthFailure => f.write_str("authentication failure (password mismatch)"),
            DecodeError::IntervalMismatch {
                received_cs,
                expected_cs,
            } => write!(
                f,
                "advert interval {}, configured {} (RFC 3768 §7.1)",
                Cs(*received_cs),
                Cs(*expected_cs)
            ),
            DecodeError::AddressCountZero => f.write_str("address count 0 (RFC 9568 §7.1)"),
            DecodeError::IntervalZero => f.write_str("max advert interval 0 (RFC 9568 §7.1)"),
            DecodeError::FirstAddressNotLinkLocal { address } => write!(
                f,
                "first IPv6 address {address} is not link-local (RFC 9568 §5.2.9)"
            ),
            DecodeError::AddressListMismatch {
                received,
                configured,
            } => write!(
                f,
                "address list mismatch: {received} received, {configured} configured \
                 (RFC 3768 §7.1)"
            ),
            DecodeError::FamilyMismatch => {
                f.write_str("source and destination address families differ")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// Centiseconds displayed as seconds: `1s`, `0.5s`, `0.01s`.
struct Cs(u16);

impl fmt::Display for Cs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (s, c) = (self.0 / 100, self.0 % 100);
        if c == 0 {
            write!(f, "{s}s")
        } else if c % 10 == 0 {
            write!(f, "{s}.{}s", c / 10)
        } else {
            write!(f, "{s}.{c:02}s")
        }
    }
}

/// Why an advert cannot be encoded as asked (see [`try_encode`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// VRRPv2 carries whole seconds only.
    IntervalNotWholeSeconds { interval_cs: u16 },
    /// v2: 1-255 s; v3: 1-4095 cs.
    IntervalOutOfRange { interval_cs: u16 },
    /// More than 255 addresses.
    TooManyAddresses { count: usize },
    /// An address (or the destination) is not of the source's family.
    FamilyMismatch,
    /// VRRPv2 is IPv4 only.
    V2OverIpv6,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::IntervalNotWholeSeconds { interval_cs } => write!(
                f,
                "VRRPv2 interval {} is not a whole number of seconds",
                Cs(*interval_cs)
            ),
            EncodeError::IntervalOutOfRange { interval_cs } => {
                write!(f, "advert interval {} out of range", Cs(*interval_cs))
            }
            EncodeError::TooManyAddresses { count } => {
                write!(f, "{count} addresses, an advert carries at most 255")
            }
            EncodeError::FamilyMismatch => f.write_str("addresses of mixed families"),
            EncodeError::V2OverIpv6 => f.write_str("VRRPv2 cannot be sent over IPv6"),
        }
    }
}

impl std::error::Error for EncodeError {}

// ===== checksum =====

/// One's-complement sum of 16-bit big-endian words (RFC 1071), not yet folded or inverted.
/// An odd trailing byte is padded with zero.
fn ones_sum(mut acc: u64, data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(2);
    for w in &mut chunks {
        acc += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u64::from(u16::from_be_bytes([*last, 0]));
    }
    acc
}

fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// The RFC 1071 Internet checksum of the concatenation of `parts` (each part but the last
/// must have even length). Also usable for IPv4 header checksums.
pub fn internet_checksum(parts: &[&[u8]]) -> u16 {
    !fold(parts.iter().fold(0u64, |acc, p| ones_sum(acc, p)))
}

/// Sum of the pseudo-header for `len` bytes of VRRP from `src` to `dst`: IPv4 (src, dst,
/// zero, 112, 16-bit length) or IPv6 (RFC 8200 §8.1: src, dst, 32-bit length, 3 zero
/// bytes, next header 112). `None` when the families differ.
fn pseudo_sum(src: IpAddr, dst: IpAddr, len: usize) -> Option<u64> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let l = len as u16;
            let acc = ones_sum(ones_sum(0, &s.octets()), &d.octets());
            Some(ones_sum(acc, &[0, IPPROTO_VRRP, (l >> 8) as u8, l as u8]))
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let acc = ones_sum(ones_sum(0, &s.octets()), &d.octets());
            let l = (len as u32).to_be_bytes();
            Some(ones_sum(
                acc,
                &[l[0], l[1], l[2], l[3], 0, 0, 0, IPPROTO_VRRP],
            ))
        }
        _ => None,
    }
}

/// Checksum of `msg` (checksum field bytes 6-7 taken as zero) plus an optional pseudo-header
/// sum.
fn message_checksum(msg: &[u8], pseudo: u64) -> u16 {
    let head = msg.get(..6).unwrap_or(msg);
    let tail = msg.get(8..).unwrap_or(&[]);
    !fold(ones_sum(ones_sum(pseudo, head), tail))
}

// ===== encode =====

/// Encodes `advert` as sent from `src` to `dst` (addresses needed for the checksum).
///
/// Never fails: values the wire cannot carry are made sendable the way keepalived's
/// configuration does it — a v2 interval is rounded to the nearest whole second and kept
/// within 1-255 s, a v3 interval within 1-4095 cs, addresses of the wrong family are left
/// out and at most 255 addresses are sent. Use [`try_encode`] to be told instead.
pub fn encode(advert: &Advert, src: IpAddr, dst: IpAddr, form: V3Ipv4Checksum) -> Vec<u8> {
    let v4 = src.is_ipv4();
    let addresses: Vec<IpAddr> = advert
        .addresses
        .iter()
        .copied()
        .filter(|a| a.is_ipv4() == v4)
        .take(255)
        .collect();
    let interval = match advert.version {
        Version::V2 => {
            let secs = (u32::from(advert.interval_cs) + 50) / 100;
            secs.clamp(1, 255) as u8 as u16
        }
        Version::V3 => advert.interval_cs.clamp(1, V3_MAX_INTERVAL_CS),
    };
    write_message(advert, &addresses, interval, src, dst, form)
}

/// Encodes `advert` like [`encode`], but refuses what the wire cannot carry exactly.
pub fn try_encode(
    advert: &Advert,
    src: IpAddr,
    dst: IpAddr,
    form: V3Ipv4Checksum,
) -> Result<Vec<u8>, EncodeError> {
    if src.is_ipv4() != dst.is_ipv4() {
        return Err(EncodeError::FamilyMismatch);
    }
    if advert
        .addresses
        .iter()
        .any(|a| a.is_ipv4() != src.is_ipv4())
    {
        return Err(EncodeError::FamilyMismatch);
    }
    if advert.addresses.len() > 255 {
        return Err(EncodeError::TooManyAddresses {
            count: advert.addresses.len(),
        });
    }
    let cs = advert.interval_cs;
    let interval = match advert.version {
        Version::V2 => {
            if src.is_ipv6() {
                return Err(EncodeError::V2OverIpv6);
            }
            if cs % 100 != 0 {
                return Err(EncodeError::IntervalNotWholeSeconds { interval_cs: cs });
            }
            if cs == 0 || cs > 25_500 {
                return Err(EncodeError::IntervalOutOfRange { interval_cs: cs });
            }
            cs / 100
        }
        Version::V3 => {
            if cs == 0 || cs > V3_MAX_INTERVAL_CS {
                return Err(EncodeError::IntervalOutOfRange { interval_cs: cs });
            }
            cs
        }
    };
    Ok(write_message(
        advert,
        &advert.addresses,
        interval,
        src,
        dst,
        form,
    ))
}

/// Lays out the message; `interval` is already in wire units and range, `addresses` already
/// of `src`'s family and at most 255.
fn write_message(
    advert: &Advert,
    addresses: &[IpAddr],
    interval: u16,
    src: IpAddr,
    dst: IpAddr,
    form: V3Ipv4Checksum,
) -> Vec<u8> {
    let v2 = advert.version == Version::V2;
    let mut out = Vec::with_capacity(HEADER_LEN + 16 * addresses.len() + V2_AUTH_LEN);
    let version = if v2 { 2u8 } else { 3u8 };
    out.push((version << 4) | TYPE_ADVERTISEMENT);
    out.push(advert.vrid);
    out.push(advert.priority);
    out.push(addresses.len() as u8);
    if v2 {
        out.push(advert.auth.type_number());
        out.push(interval as u8);
    } else {
        out.extend_from_slice(&(interval & V3_MAX_INTERVAL_CS).to_be_bytes());
    }
    out.extend_from_slice(&[0, 0]);
    for a in addresses {
        match a {
            IpAddr::V4(a) => out.extend_from_slice(&a.octets()),
            IpAddr::V6(a) => out.extend_from_slice(&a.octets()),
        }
    }
    if v2 {
        match &advert.auth {
            V2Auth::Pass(pw) => out.extend_from_slice(pw),
            _ => out.extend_from_slice(&[0; V2_AUTH_LEN]),
        }
    }
    let pseudo = if v2 || (src.is_ipv4() && form == V3Ipv4Checksum::MessageOnly) {
        0
    } else {
        pseudo_sum(src, dst, out.len()).unwrap_or(0)
    };
    let sum = message_checksum(&out, pseudo).to_be_bytes();
    out[6] = sum[0];
    out[7] = sum[1];
    out
}

// ===== decode =====

/// The VRID byte of a (possibly invalid) VRRP message, for per-VRID error accounting.
pub fn peek_vrid(bytes: &[u8]) -> Option<u8> {
    bytes.get(1).copied()
}

/// Decodes a VRRP message received from `src` for `dst`; returns the advert and, for
/// VRRPv3 over IPv4, which checksum form matched.
///
/// Bytes beyond the length implied by the address count (Ethernet padding) are ignored.
/// A VRRPv2 advert with no address is accepted (keepalived allows instances without
/// virtual addresses); its Adver Int of 0 is left to [`check`] (R9).
pub fn decode(
    bytes: &[u8],
    src: IpAddr,
    dst: IpAddr,
) -> Result<(Advert, Option<V3Ipv4Checksum>), DecodeError> {
    if src.is_ipv4() != dst.is_ipv4() {
        return Err(DecodeError::FamilyMismatch);
    }
    let first = *bytes.first().ok_or(DecodeError::TooShort {
        len: 0,
        needed: HEADER_LEN,
    })?;
    let version = match first >> 4 {
        2 => Version::V2,
        3 => Version::V3,
        v => return Err(DecodeError::VersionUnknown { version: v }),
    };
    if version == Version::V2 && src.is_ipv6() {
        return Err(DecodeError::V2OverIpv6);
    }
    let packet_type = first & 0x0f;
    if packet_type != TYPE_ADVERTISEMENT {
        return Err(DecodeError::TypeUnknown { packet_type });
    }
    let header: &[u8; HEADER_LEN] = bytes
        .get(..HEADER_LEN)
        .and_then(|h| h.try_into().ok())
        .ok_or(DecodeError::TooShort {
            len: bytes.len(),
            needed: HEADER_LEN,
        })?;
    let count = usize::from(header[3]);
    let addr_len = if src.is_ipv4() { 4 } else { 16 };
    let auth_len = if version == Version::V2 {
        V2_AUTH_LEN
    } else {
        0
    };
    let needed = HEADER_LEN + count * addr_len + auth_len;
    let msg = bytes.get(..needed).ok_or(DecodeError::TooShort {
        len: bytes.len(),
        needed,
    })?;

    let received = u16::from_be_bytes([header[6], header[7]]);
    let form = verify_checksum(msg, version, src, dst, received)?;

    let (auth, interval_cs) = match version {
        Version::V2 => {
            let data = &msg[needed - V2_AUTH_LEN..];
            let auth = match header[4] {
                0 => V2Auth::None,
                1 => {
                    let mut pw = [0u8; 8];
                    pw.copy_from_slice(data);
                    V2Auth::Pass(pw)
                }
                2 => V2Auth::Ah,
                t => V2Auth::Other(t),
            };
            (auth, u16::from(header[5]) * 100)
        }
        Version::V3 => {
            if count == 0 {
                return Err(DecodeError::AddressCountZero);
            }
            let interval = u16::from_be_bytes([header[4], header[5]]) & V3_MAX_INTERVAL_CS;
            if interval == 0 {
                return Err(DecodeError::IntervalZero);
            }
            (V2Auth::None, interval)
        }
    };

    let list = &msg[HEADER_LEN..HEADER_LEN + count * addr_len];
    let addresses: Vec<IpAddr> = list
        .chunks_exact(addr_len)
        .map(|c| match <[u8; 4]>::try_from(c) {
            Ok(a) => IpAddr::V4(Ipv4Addr::from(a)),
            Err(_) => {
                let mut a = [0u8; 16];
                a.copy_from_slice(c);
                IpAddr::V6(Ipv6Addr::from(a))
            }
        })
        .collect();

    let advert = Advert {
        version,
        vrid: header[1],
        priority: header[2],
        interval_cs,
        addresses,
        auth,
    };
    Ok((advert, form))
}

/// fe80::/10.
pub fn is_ipv6_link_local(a: &Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}

/// R5. Returns which v3/IPv4 form matched (`None` for v2 and IPv6).
fn verify_checksum(
    msg: &[u8],
    version: Version,
    src: IpAddr,
    dst: IpAddr,
    received: u16,
) -> Result<Option<V3Ipv4Checksum>, DecodeError> {
    // A message is valid when the folded sum over it (checksum field included) is all ones.
    let valid = |pseudo: u64| fold(ones_sum(pseudo, msg)) == 0xffff;
    let bad = |pseudo: u64, alt: Option<u16>| DecodeError::BadChecksum {
        received,
        expected: message_checksum(msg, pseudo),
        expected_alt: alt,
    };
    let pseudo = pseudo_sum(src, dst, msg.len()).ok_or(DecodeError::FamilyMismatch)?;
    match (version, src) {
        (Version::V2, _) => {
            if valid(0) {
                Ok(None)
            } else {
                Err(bad(0, None))
            }
        }
        (Version::V3, IpAddr::V6(_)) => {
            if valid(pseudo) {
                Ok(None)
            } else {
                Err(bad(pseudo, None))
            }
        }
        (Version::V3, IpAddr::V4(_)) => {
            if valid(pseudo) {
                Ok(Some(V3Ipv4Checksum::PseudoHeader))
            } else if valid(0) {
                Ok(Some(V3Ipv4Checksum::MessageOnly))
            } else {
                Err(bad(pseudo, Some(message_checksum(msg, 0))))
            }
        }
    }
}

// ===== per-instance receive checks =====

/// What the receiving instance is configured with, for [`check`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivePolicy {
    pub version: Version,
    /// R1; keepalived skips it for unicast peers.
    pub ttl_must_be_255: bool,
    /// The local authentication (VRRPv2).
    pub auth: V2Auth,
    /// The locally configured advert interval, centiseconds.
    pub interval_cs: u16,
    /// The configured virtual addresses, in order.
    pub vips: Vec<IpAddr>,
    /// `vrrp_strict` / `strict_mode`: VRRPv2 drops a non-owner's advert whose address list
    /// differs (R13 as RFC 3768 words it).
    pub strict: bool,
    /// R12 (RFC 9568 E-8300): discard a VRRPv3/IPv6 advert whose first address is not
    /// link-local. Set by `vrrp_strict` / `strict_mode`; otherwise such an advert only
    /// yields [`Notice::FirstAddressNotLinkLocal`] (keepalived's behaviour).
    pub link_local_first: bool,
}

/// A receive check that failed without discarding the advert: log it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// R9 (VRRPv3): the advertised interval differs from the configured one (the Backup
    /// learns it).
    IntervalMismatch { received_cs: u16 },
    /// R13: the address list differs from the configured virtual addresses.
    AddressListMismatch,
    /// R12 outside strict mode: the first address of a VRRPv3/IPv6 advert is not
    /// link-local (RFC 9568 E-8300 would discard it; keepalived processes it).
    FirstAddressNotLinkLocal { address: Ipv6Addr },
}

impl Notice {
    /// A stable, short name usable as a counter key.
    pub fn kind(&self) -> &'static str {
        match self {
            Notice::IntervalMismatch { .. } => "interval",
            Notice::AddressListMismatch => "address_list",
            Notice::FirstAddressNotLinkLocal { .. } => "link_local",
        }
    }
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::IntervalMismatch { received_cs } => write!(
                f,
                "advert interval {} differs from the configured one (learned)",
                Cs(*received_cs)
            ),
            Notice::AddressListMismatch => {
                f.write_str("advertised address list differs from the configured one")
            }
            Notice::FirstAddressNotLinkLocal { address } => write!(
                f,
                "first IPv6 address {address} is not link-local (RFC 9568 §5.2.9), \
                 processed as keepalived does outside strict mode"
            ),
        }
    }
}

/// The per-instance receive checks (R1, R2, R8, R9, R12, R13) of a decoded advert that arrived
/// with IPv4 TTL / IPv6 Hop Limit `ttl`. `Err`: discard; `Ok`: process, after logging the
/// notices.
pub fn check(advert: &Advert, ttl: u8, policy: &ReceivePolicy) -> Result<Vec<Notice>, DecodeError> {
    if policy.ttl_must_be_255 && ttl != 255 {
        return Err(DecodeError::TtlNot255 { ttl });
    }
    if advert.version != policy.version {
        return Err(DecodeError::VersionMismatch {
            received: advert.version,
            expected: policy.version,
        });
    }
    let mut notices = Vec::new();
    if let Some(IpAddr::V6(a)) = advert.addresses.first() {
        if !is_ipv6_link_local(a) {
            if policy.link_local_first {
                return Err(DecodeError::FirstAddressNotLinkLocal { address: *a });
            }
            notices.push(Notice::FirstAddressNotLinkLocal { address: *a });
        }
    }
    if advert.version == Version::V2 {
        check_v2_auth(&advert.auth, &policy.auth)?;
        if advert.interval_cs != policy.interval_cs {
            return Err(DecodeError::IntervalMismatch {
                received_cs: advert.interval_cs,
                expected_cs: policy.interval_cs,
            });
        }
    } else if advert.interval_cs != policy.interval_cs {
        notices.push(Notice::IntervalMismatch {
            received_cs: advert.interval_cs,
        });
    }
    if !same_addresses(&advert.addresses, &policy.vips) {
        if policy.strict && advert.version == Version::V2 && advert.priority != 255 {
            return Err(DecodeError::AddressListMismatch {
                received: advert.addresses.len(),
                configured: policy.vips.len(),
            });
        }
        notices.push(Notice::AddressListMismatch);
    }
    Ok(notices)
}

/// R8 for VRRPv2. AH is verified by IPsec below VRRP: only the type is compared here.
fn check_v2_auth(received: &V2Auth, local: &V2Auth) -> Result<(), DecodeError> {
    if let V2Auth::Other(t) = received {
        return Err(DecodeError::AuthTypeUnknown { auth_type: *t });
    }
    if received.type_number() != local.type_number() {
        return Err(DecodeError::AuthTypeMismatch {
            received: received.type_number(),
            expected: local.type_number(),
        });
    }
    match (received, local) {
        (V2Auth::Pass(a), V2Auth::Pass(b)) if a != b => Err(DecodeError::AuthFailure),
        _ => Ok(()),
    }
}

/// Same addresses, same count, order ignored.
fn same_addresses(received: &[IpAddr], configured: &[IpAddr]) -> bool {
    if received.len() != configured.len() {
        return false;
    }
    if received == configured {
        // The usual case: the same configured order on every router.
        return true;
    }
    let mut a = received.to_vec();
    let mut b = configured.to_vec();
    a.sort_unstable();
    b.sort_unstable();
    a == b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3 example words 0001 f203 f4f5 f6f7: sum ddf2, checksum 220d.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(internet_checksum(&[&data]), 0x220d);
        // Odd length pads with a zero byte.
        assert_eq!(internet_checksum(&[&[0x01]]), !0x0100);
    }

    #[test]
    fn v2_golden_vector() {
        let advert = Advert {
            version: Version::V2,
            vrid: 51,
            priority: 100,
            interval_cs: 100,
            addresses: vec![v4("192.0.2.100")],
            auth: V2Auth::None,
        };
        let bytes = encode(
            &advert,
            v4("192.0.2.1"),
            v4("224.0.0.18"),
            V3Ipv4Checksum::PseudoHeader,
        );
        assert_eq!(
            bytes,
            [
                0x21, 0x33, 0x64, 0x01, 0x00, 0x01, 0xb8, 0x65, 0xc0, 0x00, 0x02, 0x64, 0, 0, 0, 0,
                0, 0, 0, 0
            ]
        );
        let (back, form) = decode(&bytes, v4("192.0.2.1"), v4("224.0.0.18")).unwrap();
        assert_eq!(back, advert);
        assert_eq!(form, None);
    }

    #[test]
    fn cs_display() {
        assert_eq!(Cs(100).to_string(), "1s");
        assert_eq!(Cs(50).to_string(), "0.5s");
        assert_eq!(Cs(1).to_string(), "0.01s");
        assert_eq!(Cs(4095).to_string(), "40.95s");
    }

    #[test]
    fn encode_rounds_v2_interval_and_clamps_v3() {
        let mut advert = Advert {
            version: Version::V2,
            vrid: 1,
            priority: 100,
            interval_cs: 149,
            addresses: vec![],
            auth: V2Auth::None,
        };
        let (s, d) = (v4("10.0.0.1"), v4("224.0.0.18"));
        let f = V3Ipv4Checksum::PseudoHeader;
        assert_eq!(encode(&advert, s, d, f)[5], 1);
        advert.interval_cs = 150;
        assert_eq!(encode(&advert, s, d, f)[5], 2);
        advert.interval_cs = 0;
        assert_eq!(encode(&advert, s, d, f)[5], 1);
        assert_eq!(
            try_encode(&advert, s, d, f),
            Err(EncodeError::IntervalOutOfRange { interval_cs: 0 })
        );
        advert.interval_cs = 150;
        assert_eq!(
            try_encode(&advert, s, d, f),
            Err(EncodeError::IntervalNotWholeSeconds { interval_cs: 150 })
        );
        advert.version = Version::V3;
        advert.interval_cs = 5000;
        assert_eq!(encode(&advert, s, d, f)[4..6], [0x0f, 0xff]);
        assert_eq!(
            try_encode(&advert, s, d, f),
            Err(EncodeError::IntervalOutOfRange { interval_cs: 5000 })
        );
    }
}
