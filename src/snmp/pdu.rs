//! AgentX PDUs (RFC 2741 §6): the 20-byte header (§6.1) and the bodies a subagent sends
//! (Open, Close, Register, Notify, Response, Ping) or receives (Response, Get, GetNext,
//! GetBulk, the Set phases, Close). [`frame_len`] tells how long the PDU at the start of a
//! stream is, bounded by [`MAX_PAYLOAD`]; [`decode`] and [`encode`] do the rest.

use super::oid::Oid;
use super::wire::{DecodeError, Reader, SearchRange, VarBind, Writer};

/// The header's length (§6.1).
pub const HEADER_LEN: usize = 20;
/// The largest payload accepted: far above anything a VRRP MIB request needs, small
/// enough that a hostile peer cannot make us buffer much.
pub const MAX_PAYLOAD: u32 = 256 * 1024;
/// AgentX protocol version (§6.1).
pub const VERSION: u8 = 1;

/// Header flags (§6.1).
pub mod flags {
    pub const INSTANCE_REGISTRATION: u8 = 0x01;
    pub const NEW_INDEX: u8 = 0x02;
    pub const ANY_INDEX: u8 = 0x04;
    pub const NON_DEFAULT_CONTEXT: u8 = 0x08;
    pub const NETWORK_BYTE_ORDER: u8 = 0x10;
}

/// PDU types (§6.1).
pub mod ptype {
    pub const OPEN: u8 = 1;
    pub const CLOSE: u8 = 2;
    pub const REGISTER: u8 = 3;
    pub const UNREGISTER: u8 = 4;
    pub const GET: u8 = 5;
    pub const GET_NEXT: u8 = 6;
    pub const GET_BULK: u8 = 7;
    pub const TEST_SET: u8 = 8;
    pub const COMMIT_SET: u8 = 9;
    pub const UNDO_SET: u8 = 10;
    pub const CLEANUP_SET: u8 = 11;
    pub const NOTIFY: u8 = 12;
    pub const PING: u8 = 13;
    pub const RESPONSE: u8 = 18;
}

/// `c.reason` of a Close (§6.2.2).
pub mod close_reason {
    pub const OTHER: u8 = 1;
    pub const PARSE_ERROR: u8 = 2;
    pub const PROTOCOL_ERROR: u8 = 3;
    pub const TIMEOUTS: u8 = 4;
    pub const SHUTDOWN: u8 = 5;
    pub const BY_MANAGER: u8 = 6;
}

/// `res.error` values (§6.2.16; the SNMP ones of RFC 3416 keep their numbers).
pub mod error {
    pub const NO_ERROR: u16 = 0;
    pub const GEN_ERR: u16 = 5;
    pub const NOT_WRITABLE: u16 = 17;
    pub const OPEN_FAILED: u16 = 256;
    pub const NOT_OPEN: u16 = 257;
    pub const UNSUPPORTED_CONTEXT: u16 = 262;
    pub const DUPLICATE_REGISTRATION: u16 = 263;
    pub const UNKNOWN_REGISTRATION: u16 = 264;
    pub const PARSE_ERROR: u16 = 266;
    pub const REQUEST_DENIED: u16 = 267;
    pub const PROCESSING_ERROR: u16 = 268;
}

/// The header fields a PDU is matched by (the payload length is the codec's business).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    pub flags: u8,
    pub session_id: u32,
    pub transaction_id: u32,
    pub packet_id: u32,
}

/// A PDU body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// §6.2.1
    Open {
        timeout: u8,
        id: Oid,
        descr: Vec<u8>,
    },
    /// §6.2.2
    Close {
        reason: u8,
    },
    /// §6.2.3
    Register {
        context: Option<Vec<u8>>,
        timeout: u8,
        priority: u8,
        range_subid: u8,
        subtree: Oid,
        upper_bound: Option<u32>,
    },
    /// §6.2.5
    Get {
        context: Option<Vec<u8>>,
        ranges: Vec<SearchRange>,
    },
    /// §6.2.6
    GetNext {
        context: Option<Vec<u8>>,
        ranges: Vec<SearchRange>,
    },
    /// §6.2.7
    GetBulk {
        context: Option<Vec<u8>>,
        non_repeaters: u16,
        max_repetitions: u16,
        ranges: Vec<SearchRange>,
    },
    /// §6.2.8
    TestSet {
        context: Option<Vec<u8>>,
        varbinds: Vec<VarBind>,
    },
    /// §6.2.9 (CommitSet, UndoSet, CleanupSet: header only)
    CommitSet,
    UndoSet,
    CleanupSet,
    /// §6.2.10
    Notify {
        context: Option<Vec<u8>>,
        varbinds: Vec<VarBind>,
    },
    /// §6.2.11
    Ping {
        context: Option<Vec<u8>>,
    },
    /// §6.2.16
    Response {
        sys_uptime: u32,
        error: u16,
        index: u16,
        varbinds: Vec<VarBind>,
    },
    /// A type we neither send nor serve (Unregister, IndexAllocate, AddAgentCaps, ...):
    /// its payload is skipped.
    Other {
        ptype: u8,
    },
}

impl Body {
    pub fn ptype(&self) -> u8 {
        use ptype::*;
        match self {
            Body::Open { .. } => OPEN,
            Body::Close { .. } => CLOSE,
            Body::Register { .. } => REGISTER,
            Body::Get { .. } => GET,
            Body::GetNext { .. } => GET_NEXT,
            Body::GetBulk { .. } => GET_BULK,
            Body::TestSet { .. } => TEST_SET,
            Body::CommitSet => COMMIT_SET,
            Body::UndoSet => UNDO_SET,
            Body::CleanupSet => CLEANUP_SET,
            Body::Notify { .. } => NOTIFY,
            Body::Ping { .. } => PING,
            Body::Response { .. } => RESPONSE,
            Body::Other { ptype } => *ptype,
        }
    }

    fn context(&self) -> Option<&[u8]> {
        match self {
            Body::Register { context, .. }
            | Body::Get { context, .. }
            | Body::GetNext { context, .. }
            | Body::GetBulk { context, .. }
            | Body::TestSet { context, .. }
            | Body::Notify { context, .. }
            | Body::Ping { context } => context.as_deref(),
            _ => None,
        }
    }
}

/// One PDU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pdu {
    pub header: Header,
    pub body: Body,
}

/// How many bytes the PDU at the start of `buf` takes: `Ok(None)` while fewer than
/// [`HEADER_LEN`] bytes are there; an error for a header no AgentX peer sends (wrong
/// version, payload not a multiple of four or above [`MAX_PAYLOAD`]).
pub fn frame_len(buf: &[u8]) -> Result<Option<usize>, DecodeError> {
    if buf.len() < HEADER_LEN {
        return Ok(None);
    }
    if buf[0] != VERSION {
        return Err(DecodeError {
            offset: 0,
            what: "not AgentX version 1",
        });
    }
    let be = buf[2] & flags::NETWORK_BYTE_ORDER != 0;
    let mut r = Reader::new(&buf[16..HEADER_LEN], be, 16);
    let len = r.u32("payload length")?;
    if len > MAX_PAYLOAD {
        return Err(DecodeError {
            offset: 16,
            what: "payload length above the limit",
        });
    }
    if len % 4 != 0 {
        return Err(DecodeError {
            offset: 16,
            what: "payload length not a multiple of 4",
        });
    }
    Ok(Some(HEADER_LEN + len as usize))
}

/// Decodes one whole PDU (exactly `frame_len` bytes).
pub fn decode(buf: &[u8]) -> Result<Pdu, DecodeError> {
    let total = frame_len(buf)?.ok_or(DecodeError {
        offset: buf.len(),
        what: "header cut short",
    })?;
    if buf.len() < total {
        return Err(DecodeError {
            offset: buf.len(),
            what: "payload cut short",
        });
    }
    let ty = buf[1];
    let fl = buf[2];
    let be = fl & flags::NETWORK_BYTE_ORDER != 0;
    let mut h = Reader::new(&buf[4..16], be, 4);
    let header = Header {
        // Byte order and context are the codec's business, not the caller's.
        flags: fl & !(flags::NETWORK_BYTE_ORDER | flags::NON_DEFAULT_CONTEXT),
        session_id: h.u32("session id")?,
        transaction_id: h.u32("transaction id")?,
        packet_id: h.u32("packet id")?,
    };
    let mut r = Reader::new(&buf[HEADER_LEN..total], be, HEADER_LEN);
    let body = decode_body(ty, fl, &mut r)?;
    Ok(Pdu { header, body })
}

fn decode_body(ty: u8, fl: u8, r: &mut Reader<'_>) -> Result<Body, DecodeError> {
    use ptype::*;
    let has_context = fl & flags::NON_DEFAULT_CONTEXT != 0;
    let context = |r: &mut Reader<'_>| -> Result<Option<Vec<u8>>, DecodeError> {
        if has_context {
            Ok(Some(r.octets()?))
        } else {
            Ok(None)
        }
    };
    Ok(match ty {
        OPEN => {
            let timeout = r.u8("o.timeout")?;
            r.bytes(3, "o.reserved")?;
            let (id, _) = r.oid()?;
            let descr = r.octets()?;
            Body::Open { timeout, id, descr }
        }
        CLOSE => {
            let reason = r.u8("c.reason")?;
            r.bytes(3, "c.reserved")?;
            Body::Close { reason }
        }
        REGISTER => {
            let context = context(r)?;
            let timeout = r.u8("r.timeout")?;
            let priority = r.u8("r.priority")?;
            let range_subid = r.u8("r.range_subid")?;
            r.u8("r.reserved")?;
            let (subtree, _) = r.oid()?;
            let upper_bound = if range_subid != 0 {
                Some(r.u32("r.upper_bound")?)
            } else {
                None
            };
            Body::Register {
                context,
                timeout,
                priority,
                range_subid,
                subtree,
                upper_bound,
            }
        }
        GET => Body::Get {
            context: context(r)?,
            ranges: r.search_ranges()?,
        },
        GET_NEXT => Body::GetNext {
            context: context(r)?,
            ranges: r.search_ranges()?,
        },
        GET_BULK => {
            let context = context(r)?;
            let non_repeaters = r.u16("g.non_repeaters")?;
            let max_repetitions = r.u16("g.max_repetitions")?;
            Body::GetBulk {
                context,
                non_repeaters,
                max_repetitions,
                ranges: r.search_ranges()?,
            }
        }
        TEST_SET => Body::TestSet {
            context: context(r)?,
            varbinds: r.varbinds()?,
        },
        COMMIT_SET => Body::CommitSet,
        UNDO_SET => Body::UndoSet,
        CLEANUP_SET => Body::CleanupSet,
        NOTIFY => Body::Notify {
            context: context(r)?,
            varbinds: r.varbinds()?,
        },
        PING => Body::Ping {
            context: context(r)?,
        },
        RESPONSE => {
            let sys_uptime = r.u32("res.sysUpTime")?;
            let error = r.u16("res.error")?;
            let index = r.u16("res.index")?;
            Body::Response {
                sys_uptime,
                error,
                index,
                varbinds: r.varbinds()?,
            }
        }
        UNREGISTER | 14..=17 => Body::Other { ptype: ty },
        _ => {
            return Err(DecodeError {
                offset: 1,
                what: "unknown PDU type",
            })
        }
    })
}

/// Encodes a PDU, network byte order (the flag is set; NON_DEFAULT_CONTEXT follows the
/// body's context).
pub fn encode(pdu: &Pdu) -> Vec<u8> {
    let mut w = Writer::default();
    let b = &pdu.body;
    if let Some(c) = b.context() {
        w.octets(c);
    }
    match b {
        Body::Open { timeout, id, descr } => {
            w.u8(*timeout);
            w.buf.extend_from_slice(&[0, 0, 0]);
            w.oid(id, false);
            w.octets(descr);
        }
        Body::Close { reason } => {
            w.u8(*reason);
            w.buf.extend_from_slice(&[0, 0, 0]);
        }
        Body::Register {
            timeout,
            priority,
            range_subid,
            subtree,
            upper_bound,
            ..
        } => {
            w.u8(*timeout);
            w.u8(*priority);
            w.u8(*range_subid);
            w.u8(0);
            w.oid(subtree, false);
            if *range_subid != 0 {
                w.u32(upper_bound.unwrap_or(0));
            }
        }
        Body::Get { ranges, .. } | Body::GetNext { ranges, .. } => {
            for r in ranges {
                w.search_range(r);
            }
        }
        Body::GetBulk {
            non_repeaters,
            max_repetitions,
            ranges,
            ..
        } => {
            w.u16(*non_repeaters);
            w.u16(*max_repetitions);
            for r in ranges {
                w.search_range(r);
            }
        }
        Body::TestSet { varbinds, .. } | Body::Notify { varbinds, .. } => {
            for v in varbinds {
                w.varbind(v);
            }
        }
        Body::Response {
            sys_uptime,
            error,
            index,
            varbinds,
        } => {
            w.u32(*sys_uptime);
            w.u16(*error);
            w.u16(*index);
            for v in varbinds {
                w.varbind(v);
            }
        }
        Body::CommitSet | Body::UndoSet | Body::CleanupSet | Body::Ping { .. } => {}
        Body::Other { .. } => {}
    }
    let payload = w.buf;
    let mut fl = (pdu.header.flags | flags::NETWORK_BYTE_ORDER) & !flags::NON_DEFAULT_CONTEXT;
    if b.context().is_some() {
        fl |= flags::NON_DEFAULT_CONTEXT;
    }
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&[VERSION, b.ptype(), fl, 0]);
    out.extend_from_slice(&pdu.header.session_id.to_be_bytes());
    out.extend_from_slice(&pdu.header.transaction_id.to_be_bytes());
    out.extend_from_slice(&pdu.header.packet_id.to_be_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(&payload);
    out
}
