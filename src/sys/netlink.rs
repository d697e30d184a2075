//! The netlink wire codec: `nlmsghdr` framing, `rtattr` attributes (nested too), building
//! requests and walking replies with every length checked. No socket here (see
//! `netlink_sock`), no rtnetlink semantics (see `netlink_route`).

use std::fmt;

pub const NLMSG_HDRLEN: usize = 16;
pub const NLMSG_NOOP: u16 = 1;
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const NLMSG_OVERRUN: u16 = 4;

pub const NLM_F_REQUEST: u16 = 0x1;
pub const NLM_F_MULTI: u16 = 0x2;
pub const NLM_F_ACK: u16 = 0x4;
pub const NLM_F_DUMP_INTR: u16 = 0x10;
pub const NLM_F_DUMP: u16 = 0x300;
pub const NLM_F_REPLACE: u16 = 0x100;
pub const NLM_F_EXCL: u16 = 0x200;
pub const NLM_F_CREATE: u16 = 0x400;
/// In an NLMSG_ERROR: the original request was capped to its header.
pub const NLM_F_CAPPED: u16 = 0x100;
/// In an NLMSG_ERROR: extended-ack TLVs follow.
pub const NLM_F_ACK_TLVS: u16 = 0x200;
pub const NLMSGERR_ATTR_MSG: u16 = 1;

pub const NLA_F_NESTED: u16 = 0x8000;

const fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// A malformed netlink message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NlError(pub String);

impl fmt::Display for NlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed netlink data: {}", self.0)
    }
}

/// Builds one netlink message: header, fixed family header, attributes.
pub struct MsgBuilder {
    buf: Vec<u8>,
    nests: Vec<usize>,
}

impl MsgBuilder {
    pub fn new(msg_type: u16, flags: u16, seq: u32) -> MsgBuilder {
        let mut buf = Vec::with_capacity(128);
        buf.extend_from_slice(&0u32.to_ne_bytes());
        buf.extend_from_slice(&msg_type.to_ne_bytes());
        buf.extend_from_slice(&flags.to_ne_bytes());
        buf.extend_from_slice(&seq.to_ne_bytes());
        buf.extend_from_slice(&0u32.to_ne_bytes());
        MsgBuilder {
            buf,
            nests: Vec::new(),
        }
    }

    /// Appends raw bytes (the family header), padded to 4.
    pub fn push(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(bytes);
        self.pad();
        self
    }

    fn pad(&mut self) {
        while self.buf.len() % 4 != 0 {
            self.buf.push(0);
        }
    }

    pub fn attr(&mut self, ty: u16, data: &[u8]) -> &mut Self {
        let len = 4 + data.len();
        self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(data);
        self.pad();
        self
    }

    pub fn attr_u32(&mut self, ty: u16, v: u32) -> &mut Self {
        self.attr(ty, &v.to_ne_bytes())
    }

    pub fn attr_u8(&mut self, ty: u16, v: u8) -> &mut Self {
        self.attr(ty, &[v])
    }

    /// A NUL-terminated string attribute.
    pub fn attr_str(&mut self, ty: u16, s: &str) -> &mut Self {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        self.attr(ty, &v)
    }

    /// Opens a nested attribute; close it with [`MsgBuilder::end_nest`].
    pub fn begin_nest(&mut self, ty: u16) -> &mut Self {
        self.nests.push(self.buf.len());
        self.buf.extend_from_slice(&0u16.to_ne_bytes());
        self.buf
            .extend_from_slice(&(ty | NLA_F_NESTED).to_ne_bytes());
        self
    }

    pub fn end_nest(&mut self) -> &mut Self {
        if let Some(start) = self.nests.pop() {
            let len = (self.buf.len() - start) as u16;
            self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        }
        self
    }

    pub fn seq(&self) -> u32 {
        u32::from_ne_bytes([self.buf[8], self.buf[9], self.buf[10], self.buf[11]])
    }

    /// The finished message with its length filled in.
    pub fn finish(mut self) -> Vec<u8> {
        while self.nests.last().is_some() {
            self.end_nest();
        }
        let len = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        self.buf
    }
}

/// One received netlink message.
#[derive(Clone, Copy, Debug)]
pub struct Msg<'a> {
    pub msg_type: u16,
    pub flags: u16,
    pub seq: u32,
    pub pid: u32,
    /// Everything after the 16-byte header.
    pub payload: &'a [u8],
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

pub fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Splits a datagram into messages. Stops with an error at the first bad length.
pub fn messages(mut buf: &[u8]) -> impl Iterator<Item = Result<Msg<'_>, NlError>> {
    std::iter::from_fn(move || {
        if buf.is_empty() {
            return None;
        }
        let len = match u32_at(buf, 0) {
            Some(l) => l as usize,
            None => {
                let n = buf.len();
                buf = &[];
                return Some(Err(NlError(format!("{n} trailing bytes"))));
            }
        };
        if len < NLMSG_HDRLEN || len > buf.len() {
            let n = buf.len();
            buf = &[];
            return Some(Err(NlError(format!(
                "message length {len} with {n} bytes left"
            ))));
        }
        let msg = Msg {
            msg_type: u16_at(buf, 4).unwrap_or(0),
            flags: u16_at(buf, 6).unwrap_or(0),
            seq: u32_at(buf, 8).unwrap_or(0),
            pid: u32_at(buf, 12).unwrap_or(0),
            payload: &buf[NLMSG_HDRLEN..len],
        };
        buf = buf.get(align4(len)..).unwrap_or(&[]);
        Some(Ok(msg))
    })
}

/// One attribute.
#[derive(Clone, Copy, Debug)]
pub struct Attr<'a> {
    /// Type with the NESTED / BYTEORDER flags removed.
    pub ty: u16,
    pub data: &'a [u8],
}

impl<'a> Attr<'a> {
    pub fn u32(&self) -> Option<u32> {
        u32_at(self.data, 0)
    }
    pub fn u8(&self) -> Option<u8> {
        self.data.first().copied()
    }
    /// A string attribute without its terminating NUL.
    pub fn str(&self) -> Option<&'a str> {
        let end = self
            .data
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.data.len());
        std::str::from_utf8(&self.data[..end]).ok()
    }
    pub fn nested(&self) -> impl Iterator<Item = Result<Attr<'a>, NlError>> {
        attrs(self.data)
    }
}

/// Walks a run of attributes.
pub fn attrs(mut buf: &[u8]) -> impl Iterator<Item = Result<Attr<'_>, NlError>> {
    std::iter::from_fn(move || {
        if buf.len() < 4 {
            return None;
        }
        let len = u16_at(buf, 0).unwrap_or(0) as usize;
        let ty = u16_at(buf, 2).unwrap_or(0) & 0x3fff;
        if len < 4 || len > buf.len() {
            buf = &[];
            return Some(Err(NlError(format!("attribute {ty} length {len}"))));
        }
        let a = Attr {
            ty,
            data: &buf[4..len],
        };
        buf = buf.get(align4(len)..).unwrap_or(&[]);
        Some(Ok(a))
    })
}

/// The content of an NLMSG_ERROR: `0` is an ack, otherwise a negative errno, with the
/// kernel's extended-ack text when it sent one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorMsg {
    pub errno: i32,
    pub message: Option<String>,
}

pub fn parse_error(msg: &Msg<'_>) -> Result<ErrorMsg, NlError> {
    let errno = u32_at(msg.payload, 0).ok_or_else(|| NlError("short NLMSG_ERROR".into()))? as i32;
    let mut message = None;
    if msg.flags & NLM_F_ACK_TLVS != 0 {
        // The original request follows: its header only when capped, else all of it.
        let orig_len = if msg.flags & NLM_F_CAPPED != 0 {
            NLMSG_HDRLEN
        } else {
            u32_at(msg.payload, 4).unwrap_or(NLMSG_HDRLEN as u32) as usize
        };
        if let Some(tlvs) = msg.payload.get(4 + align4(orig_len)..) {
            for a in attrs(tlvs).flatten() {
                if a.ty == NLMSGERR_ATTR_MSG {
                    message = a.str().map(str::to_string);
                }
            }
        }
    }
    Ok(ErrorMsg { errno, message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_walks_a_message_with_nested_attrs() {
        let mut b = MsgBuilder::new(16, NLM_F_REQUEST | NLM_F_ACK, 7);
        b.push(&[1, 2, 3]); // padded to 4
        b.attr_str(3, "eth0");
        b.begin_nest(18).attr_str(1, "macvlan").end_nest();
        let bytes = b.finish();
        assert_eq!(bytes.len() % 4, 0);
        let msgs: Vec<_> = messages(&bytes).collect::<Result<_, _>>().unwrap();
        assert_eq!(msgs.len(), 1);
        let m = msgs[0];
        assert_eq!((m.msg_type, m.seq), (16, 7));
        assert_eq!(&m.payload[..3], &[1, 2, 3]);
        let a: Vec<_> = attrs(&m.payload[4..]).collect::<Result<_, _>>().unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].str(), Some("eth0"));
        assert_eq!(a[1].ty, 18);
        let inner: Vec<_> = a[1].nested().collect::<Result<_, _>>().unwrap();
        assert_eq!(inner[0].str(), Some("macvlan"));
    }

    #[test]
    fn truncated_input_is_an_error_not_a_panic() {
        let bytes = MsgBuilder::new(20, 0, 1).finish();
        for cut in 1..bytes.len() {
            let r: Vec<_> = messages(&bytes[..cut]).collect();
            assert!(r.iter().any(|m| m.is_err()), "cut {cut}");
        }
        // An attribute claiming more than is there.
        let bad = [200u8, 0, 1, 0, 9, 9];
        assert!(attrs(&bad).any(|a| a.is_err()));
        // Zero-length header must not loop forever.
        let zero = [0u8; 32];
        assert_eq!(messages(&zero).count(), 1);
        assert_eq!(attrs(&zero).count(), 1);
    }

    #[test]
    fn parses_error_with_extended_ack_message() {
        let mut payload = Vec::new();
        payload.extend_from_slice(&(-17i32).to_ne_bytes());
        let orig = MsgBuilder::new(20, NLM_F_REQUEST, 3).finish();
        payload.extend_from_slice(&orig);
        let mut b = MsgBuilder::new(NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS, 3);
        b.push(&payload);
        b.attr_str(NLMSGERR_ATTR_MSG, "Address already assigned");
        let bytes = b.finish();
        let m = messages(&bytes).next().unwrap().unwrap();
        let e = parse_error(&m).unwrap();
        assert_eq!(e.errno, -17);
        assert_eq!(e.message.as_deref(), Some("Address already assigned"));
    }
}
