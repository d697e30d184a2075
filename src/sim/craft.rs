//! Raw VRRP bytes for the simulator, independent of the engine's codec on purpose:
//! - crafting adverts for `inject` with every field overridable, including invalid ones
//!   (bad checksum, wrong count, reserved bits, truncation) that a codec would refuse to
//!   produce;
//! - summarising any advert put on the wire for the trace, and telling which checksum
//!   form it carries, so the trace shows what is on the wire, not what the codec thinks.

use std::fmt;
use std::net::IpAddr;

/// RFC 1071 one's-complement sum folded to 16 bits (not yet complemented).
fn ones_sum(chunks: &[&[u8]]) -> u32 {
    let mut sum: u32 = 0;
    let mut odd: Option<u8> = None;
    for chunk in chunks {
        for &b in chunk.iter() {
            match odd.take() {
                None => odd = Some(b),
                Some(hi) => sum += u32::from(u16::from_be_bytes([hi, b])),
            }
        }
    }
    if let Some(hi) = odd {
        sum += u32::from(u16::from_be_bytes([hi, 0]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum
}

/// The Internet checksum of the concatenation of `chunks`.
pub fn inet_checksum(chunks: &[&[u8]]) -> u16 {
    !(ones_sum(chunks) as u16)
}

/// Checksum forms a VRRP message can carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsumForm {
    /// The message alone (v2; v3/IPv4 per RFC 9568).
    Message,
    /// With the IP pseudo-header (v3/IPv6; v3/IPv4 as keepalived's default).
    Pseudo,
    /// Neither matches.
    Bad,
}

impl fmt::Display for CsumForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CsumForm::Message => "message",
            CsumForm::Pseudo => "pseudo",
            CsumForm::Bad => "bad",
        })
    }
}

/// Sum of the pseudo-header for a VRRP message of `len` bytes from `src` to `dst`.
fn pseudo_header(src: IpAddr, dst: IpAddr, len: usize) -> Vec<u8> {
    let mut p = Vec::with_capacity(40);
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            p.extend_from_slice(&s.octets());
            p.extend_from_slice(&d.octets());
            p.push(0);
            p.push(112);
            p.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            let s6 = match src {
                IpAddr::V6(a) => a.octets(),
                IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
            };
            let d6 = match dst {
                IpAddr::V6(a) => a.octets(),
                IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
            };
            p.extend_from_slice(&s6);
            p.extend_from_slice(&d6);
            p.extend_from_slice(&(len as u32).to_be_bytes());
            p.extend_from_slice(&[0, 0, 0, 112]);
        }
    }
    p
}

/// Checksum of `msg` (checksum field taken as zero) in the given form.
pub fn checksum_of(msg: &[u8], src: IpAddr, dst: IpAddr, form: CsumForm) -> u16 {
    let mut m = msg.to_vec();
    if m.len() >= 8 {
        m[6] = 0;
        m[7] = 0;
    }
    match form {
        CsumForm::Pseudo => {
            let ph = pseudo_header(src, dst, m.len());
            inet_checksum(&[&ph, &m])
        }
        _ => inet_checksum(&[&m]),
    }
}

/// Which checksum form `msg` carries (v3/IPv4 may carry either).
pub fn checksum_form(msg: &[u8], src: IpAddr, dst: IpAddr) -> CsumForm {
    if msg.len() < 8 {
        return CsumForm::Bad;
    }
    let have = u16::from_be_bytes([msg[6], msg[7]]);
    let version = msg[0] >> 4;
    let ipv6 = src.is_ipv6();
    if version == 3 || ipv6 {
        if checksum_of(msg, src, dst, CsumForm::Pseudo) == have {
            return CsumForm::Pseudo;
        }
        if !ipv6 && checksum_of(msg, src, dst, CsumForm::Message) == have {
            return CsumForm::Message;
        }
        return CsumForm::Bad;
    }
    if checksum_of(msg, src, dst, CsumForm::Message) == have {
        CsumForm::Message
    } else {
        CsumForm::Bad
    }
}

/// How the checksum of a crafted advert is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsumSpec {
    /// The right form for the version and family (v3/IPv4: the pseudo-header form).
    Good,
    Form(CsumForm),
    /// The right checksum with its lowest bit flipped.
    Flipped,
    Value(u16),
}

/// VRRPv2 authentication of a crafted advert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthSpec {
    None,
    Pass(String),
    /// Any type number with all-zero data.
    Type(u8),
}

/// Every field of an advert to inject; defaults are a valid v3 advert for VRID 51.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CraftSpec {
    pub src: IpAddr,
    pub dst: Option<IpAddr>,
    pub ttl: u8,
    pub version: u8,
    pub typ: u8,
    pub vrid: u8,
    pub prio: u8,
    /// Wire value of the interval field: v3 centiseconds, v2 seconds.
    pub interval: u16,
    pub addrs: Vec<IpAddr>,
    /// Count field when it should lie about the list.
    pub naddr: Option<u8>,
    pub rsvd: u8,
    pub auth: AuthSpec,
    pub csum: CsumSpec,
    /// Cut the message to this many bytes after the checksum is computed.
    pub truncate: Option<usize>,
}

impl CraftSpec {
    /// The destination: the given one, else the VRRP group of the source's family.
    pub fn dst(&self) -> IpAddr {
        match self.dst {
            Some(d) => d,
            None if self.src.is_ipv6() => IpAddr::V6(
                "ff02::12"
                    .parse()
                    .unwrap_or(std::net::Ipv6Addr::UNSPECIFIED),
            ),
            None => IpAddr::V4(std::net::Ipv4Addr::new(224, 0, 0, 18)),
        }
    }

    /// The VRRP message bytes.
    pub fn build(&self) -> Vec<u8> {
        let mut m = vec![
            (self.version << 4) | (self.typ & 0x0f),
            self.vrid,
            self.prio,
        ];
        m.push(self.naddr.unwrap_or(self.addrs.len() as u8));
        if self.version == 2 {
            let (atype, data) = match &self.auth {
                AuthSpec::None => (0u8, [0u8; 8]),
                AuthSpec::Pass(p) => {
                    let mut d = [0u8; 8];
                    for (i, b) in p.bytes().take(8).enumerate() {
                        d[i] = b;
                    }
                    (1, d)
                }
                AuthSpec::Type(t) => (*t, [0u8; 8]),
            };
            m.push(atype);
            m.push(self.interval.min(255) as u8);
            m.extend_from_slice(&[0, 0]);
            for a in &self.addrs {
                push_addr(&mut m, *a);
            }
            m.extend_from_slice(&data);
        } else {
            let field = ((u16::from(self.rsvd & 0x0f)) << 12) | (self.interval & 0x0fff);
            m.extend_from_slice(&field.to_be_bytes());
            m.extend_from_slice(&[0, 0]);
            for a in &self.addrs {
                push_addr(&mut m, *a);
            }
        }
        let dst = self.dst();
        let good_form = if self.version == 3 {
            CsumForm::Pseudo
        } else {
            CsumForm::Message
        };
        let sum = match self.csum {
            CsumSpec::Good => checksum_of(&m, self.src, dst, good_form),
            CsumSpec::Form(f) => checksum_of(&m, self.src, dst, f),
            CsumSpec::Flipped => checksum_of(&m, self.src, dst, good_form) ^ 1,
            CsumSpec::Value(v) => v,
        };
        m[6..8].copy_from_slice(&sum.to_be_bytes());
        if let Some(n) = self.truncate {
            m.truncate(n);
        }
        m
    }
}

fn push_addr(m: &mut Vec<u8>, a: IpAddr) {
    match a {
        IpAddr::V4(v) => m.extend_from_slice(&v.octets()),
        IpAddr::V6(v) => m.extend_from_slice(&v.octets()),
    }
}

/// What the trace says about an advert on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub version: u8,
    pub typ: u8,
    pub vrid: u8,
    pub prio: u8,
    pub count: u8,
    /// Interval in centiseconds (v2 seconds × 100).
    pub int_cs: u32,
    pub addrs: Vec<IpAddr>,
    pub auth_type: Option<u8>,
    pub csum: CsumForm,
    /// Set when the message is shorter than its count says.
    pub short: bool,
}

/// Reads the fields of a VRRP message without judging them (the trace's view).
pub fn summarize(msg: &[u8], src: IpAddr, dst: IpAddr) -> Option<Summary> {
    if msg.len() < 8 {
        return None;
    }
    let version = msg[0] >> 4;
    let count = msg[3];
    let (int_cs, auth_type) = if version == 2 {
        (u32::from(msg[5]) * 100, Some(msg[4]))
    } else {
        (
            u32::from(u16::from_be_bytes([msg[4], msg[5]]) & 0x0fff),
            None,
        )
    };
    let alen = if src.is_ipv6() { 16 } else { 4 };
    let mut addrs = Vec::new();
    let mut off = 8;
    let mut short = false;
    for _ in 0..count {
        match msg.get(off..off + alen) {
            Some(b) if alen == 4 => addrs.push(IpAddr::from([b[0], b[1], b[2], b[3]])),
            Some(b) => {
                let mut o = [0u8; 16];
                o.copy_from_slice(b);
                addrs.push(IpAddr::from(o));
            }
            None => {
                short = true;
                break;
            }
        }
        off += alen;
    }
    if version == 2 && msg.len() < off + 8 {
        short = true;
    }
    Some(Summary {
        version,
        typ: msg[0] & 0x0f,
        vrid: msg[1],
        prio: msg[2],
        count,
        int_cs,
        addrs,
        auth_type,
        csum: checksum_form(msg, src, dst),
        short,
    })
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "v{} vrid {} prio {} ",
            self.version, self.vrid, self.prio
        )?;
        if self.version == 2 {
            write!(f, "int {}s", self.int_cs / 100)?;
        } else {
            write!(f, "int {}cs", self.int_cs)?;
        }
        if self.typ != 1 {
            write!(f, " type {}", self.typ)?;
        }
        let list: Vec<String> = self.addrs.iter().map(|a| a.to_string()).collect();
        write!(f, " [{}]", list.join(" "))?;
        if usize::from(self.count) != self.addrs.len() || self.short {
            write!(f, " count {} short", self.count)?;
        }
        if let Some(t) = self.auth_type {
            if t != 0 {
                write!(f, " auth {t}")?;
            }
        }
        if self.csum == CsumForm::Bad {
            f.write_str(" csum bad")?;
        }
        Ok(())
    }
}

/// Hex dump `31 33 64 01 ...`.
pub fn hex(bytes: &[u8]) -> String {
    let v: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    v.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(version: u8) -> CraftSpec {
        CraftSpec {
            src: "192.0.2.1".parse().unwrap(),
            dst: None,
            ttl: 255,
            version,
            typ: 1,
            vrid: 51,
            prio: 100,
            interval: if version == 2 { 1 } else { 100 },
            addrs: vec!["192.0.2.100".parse().unwrap()],
            naddr: None,
            rsvd: 0,
            auth: AuthSpec::None,
            csum: CsumSpec::Good,
            truncate: None,
        }
    }

    #[test]
    fn golden_vectors_of_the_reference() {
        assert_eq!(hex(&spec(3).build()), "31 33 64 01 00 64 05 72 c0 00 02 64");
        let mut m = spec(3);
        m.csum = CsumSpec::Form(CsumForm::Message);
        assert_eq!(hex(&m.build()), "31 33 64 01 00 64 a8 02 c0 00 02 64");
        assert_eq!(
            hex(&spec(2).build()),
            "21 33 64 01 00 01 b8 65 c0 00 02 64 00 00 00 00 00 00 00 00"
        );
        let mut v6 = spec(3);
        v6.src = "fe80::1".parse().unwrap();
        v6.addrs = vec![
            "fe80::100".parse().unwrap(),
            "2001:db8::100".parse().unwrap(),
        ];
        let b = v6.build();
        assert_eq!(b.len(), 40);
        assert_eq!(&b[6..8], &[0x3d, 0xfd]);
    }

    #[test]
    fn summary_reads_back_and_classifies_checksums() {
        let s = spec(3);
        let b = s.build();
        let sum = summarize(&b, s.src, s.dst()).unwrap();
        assert_eq!(
            (sum.vrid, sum.prio, sum.int_cs, sum.csum),
            (51, 100, 100, CsumForm::Pseudo)
        );
        let mut bad = spec(3);
        bad.csum = CsumSpec::Flipped;
        let b = bad.build();
        assert_eq!(
            summarize(&b, bad.src, bad.dst()).unwrap().csum,
            CsumForm::Bad
        );
        let mut short = spec(3);
        short.naddr = Some(2);
        let b = short.build();
        let s2 = summarize(&b, short.src, short.dst()).unwrap();
        assert!(s2.short);
        assert!(summarize(&[0x31, 0x33], short.src, short.dst()).is_none());
    }
}
