//! The AgentX data types on the wire (RFC 2741 §5): integers in the byte order the PDU's
//! header announces (§5.1: NETWORK_BYTE_ORDER flag), OIDs with their `1.3.6.1` prefix
//! compression, octet strings padded to four bytes, and variable bindings. [`Reader`]
//! never reads past its buffer and bounds every length by what is left; [`Writer`] always
//! writes network byte order (the header we send carries the flag).

use super::oid::{Oid, MAX_SUBIDS};
use std::fmt;

/// Why a PDU could not be decoded, and at which byte offset of the PDU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    pub offset: usize,
    pub what: &'static str,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AgentX PDU: {} at byte {}", self.what, self.offset)
    }
}

impl std::error::Error for DecodeError {}

/// VarBind types (RFC 2741 §5.4).
pub mod vtype {
    pub const INTEGER: u16 = 2;
    pub const OCTET_STRING: u16 = 4;
    pub const NULL: u16 = 5;
    pub const OBJECT_IDENTIFIER: u16 = 6;
    pub const IP_ADDRESS: u16 = 64;
    pub const COUNTER32: u16 = 65;
    pub const GAUGE32: u16 = 66;
    pub const TIME_TICKS: u16 = 67;
    pub const OPAQUE: u16 = 68;
    pub const COUNTER64: u16 = 70;
    pub const NO_SUCH_OBJECT: u16 = 128;
    pub const NO_SUCH_INSTANCE: u16 = 129;
    pub const END_OF_MIB_VIEW: u16 = 130;
}

/// The value of a variable binding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Integer(i32),
    OctetString(Vec<u8>),
    Null,
    ObjectId(Oid),
    IpAddress([u8; 4]),
    Counter32(u32),
    Gauge32(u32),
    TimeTicks(u32),
    Opaque(Vec<u8>),
    Counter64(u64),
    NoSuchObject,
    NoSuchInstance,
    EndOfMibView,
}

impl Value {
    pub fn type_code(&self) -> u16 {
        use vtype::*;
        match self {
            Value::Integer(_) => INTEGER,
            Value::OctetString(_) => OCTET_STRING,
            Value::Null => NULL,
            Value::ObjectId(_) => OBJECT_IDENTIFIER,
            Value::IpAddress(_) => IP_ADDRESS,
            Value::Counter32(_) => COUNTER32,
            Value::Gauge32(_) => GAUGE32,
            Value::TimeTicks(_) => TIME_TICKS,
            Value::Opaque(_) => OPAQUE,
            Value::Counter64(_) => COUNTER64,
            Value::NoSuchObject => NO_SUCH_OBJECT,
            Value::NoSuchInstance => NO_SUCH_INSTANCE,
            Value::EndOfMibView => END_OF_MIB_VIEW,
        }
    }

    /// A 32-bit counter from one of ours (SNMP counters wrap).
    pub fn counter(v: u64) -> Value {
        Value::Counter32(v as u32)
    }
}

/// A variable binding (RFC 2741 §5.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarBind {
    pub name: Oid,
    pub value: Value,
}

/// A search range (RFC 2741 §5.2): from `start` (included when `include`) up to `end`
/// (excluded; the null OID: no end).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchRange {
    pub start: Oid,
    pub include: bool,
    pub end: Oid,
}

/// Reads AgentX data types from one PDU body.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Integers are big-endian (NETWORK_BYTE_ORDER set).
    be: bool,
    /// Offset of `buf` in the PDU, for error messages.
    base: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8], be: bool, base: usize) -> Reader<'a> {
        Reader {
            buf,
            pos: 0,
            be,
            base,
        }
    }

    fn err(&self, what: &'static str) -> DecodeError {
        DecodeError {
            offset: self.base + self.pos,
            what,
        }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return Err(self.err(what));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.bytes(1, what)?[0])
    }

    pub fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        let b = self.bytes(2, what)?;
        let a = [b[0], b[1]];
        Ok(if self.be {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        })
    }

    pub fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let b = self.bytes(4, what)?;
        let a = [b[0], b[1], b[2], b[3]];
        Ok(if self.be {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    }

    pub fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        // §5.4: a Counter64 is one 64-bit integer in the PDU's byte order.
        let b = self.bytes(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(if self.be {
            u64::from_be_bytes(a)
        } else {
            u64::from_le_bytes(a)
        })
    }

    /// An OID (§5.1) and its `include` byte.
    pub fn oid(&mut self) -> Result<(Oid, bool), DecodeError> {
        let n = usize::from(self.u8("OID n_subid")?);
        let prefix = self.u8("OID prefix")?;
        let include = self.u8("OID include")?;
        self.u8("OID reserved")?;
        if n > MAX_SUBIDS {
            return Err(self.err("OID longer than 128 sub-identifiers"));
        }
        if n * 4 > self.remaining() {
            return Err(self.err("OID sub-identifiers past the end"));
        }
        let mut v = Vec::with_capacity(n + 5);
        if prefix != 0 {
            v.extend_from_slice(&[1, 3, 6, 1, u32::from(prefix)]);
        }
        for _ in 0..n {
            v.push(self.u32("OID sub-identifier")?);
        }
        Ok((Oid(v), include != 0))
    }

    /// An octet string (§5.3): length, data, padding to a multiple of four.
    pub fn octets(&mut self) -> Result<Vec<u8>, DecodeError> {
        let len = self.u32("octet string length")? as usize;
        if len > self.remaining() {
            return Err(self.err("octet string past the end"));
        }
        let data = self.bytes(len, "octet string")?.to_vec();
        let pad = (4 - len % 4) % 4;
        self.bytes(pad.min(self.remaining()), "octet string padding")?;
        Ok(data)
    }

    /// A search range (§5.2).
    pub fn search_range(&mut self) -> Result<SearchRange, DecodeError> {
        let (start, include) = self.oid()?;
        let (end, _) = self.oid()?;
        Ok(SearchRange {
            start,
            include,
            end,
        })
    }

    /// A variable binding (§5.4).
    pub fn varbind(&mut self) -> Result<VarBind, DecodeError> {
        use vtype::*;
        let ty = self.u16("varbind type")?;
        self.u16("varbind reserved")?;
        let (name, _) = self.oid()?;
        let value = match ty {
            INTEGER => Value::Integer(self.u32("Integer")? as i32),
            OCTET_STRING => Value::OctetString(self.octets()?),
            NULL => Value::Null,
            OBJECT_IDENTIFIER => Value::ObjectId(self.oid()?.0),
            IP_ADDRESS => {
                let o = self.octets()?;
                let a: [u8; 4] = o
                    .as_slice()
                    .try_into()
                    .map_err(|_| self.err("IpAddress not 4 bytes"))?;
                Value::IpAddress(a)
            }
            COUNTER32 => Value::Counter32(self.u32("Counter32")?),
            GAUGE32 => Value::Gauge32(self.u32("Gauge32")?),
            TIME_TICKS => Value::TimeTicks(self.u32("TimeTicks")?),
            OPAQUE => Value::Opaque(self.octets()?),
            COUNTER64 => Value::Counter64(self.u64("Counter64")?),
            NO_SUCH_OBJECT => Value::NoSuchObject,
            NO_SUCH_INSTANCE => Value::NoSuchInstance,
            END_OF_MIB_VIEW => Value::EndOfMibView,
            _ => return Err(self.err("unknown varbind type")),
        };
        Ok(VarBind { name, value })
    }

    /// VarBinds up to the end of the body.
    pub fn varbinds(&mut self) -> Result<Vec<VarBind>, DecodeError> {
        let mut v = Vec::new();
        while !self.at_end() {
            v.push(self.varbind()?);
        }
        Ok(v)
    }

    /// Search ranges up to the end of the body.
    pub fn search_ranges(&mut self) -> Result<Vec<SearchRange>, DecodeError> {
        let mut v = Vec::new();
        while !self.at_end() {
            v.push(self.search_range()?);
        }
        Ok(v)
    }
}

/// Writes AgentX data types, network byte order.
#[derive(Default)]
pub struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// An OID (§5.1), compressed with the `prefix` byte when it starts `1.3.6.1.X` with
    /// X in 1..=255. Sub-identifiers past [`MAX_SUBIDS`] are not written (ours never are).
    pub fn oid(&mut self, oid: &Oid, include: bool) {
        let s = oid.subids();
        let (prefix, rest) = match s {
            [1, 3, 6, 1, x, rest @ ..] if (1..=255).contains(x) => (*x as u8, rest),
            _ => (0, s),
        };
        let rest = &rest[..rest.len().min(MAX_SUBIDS)];
        self.u8(rest.len() as u8);
        self.u8(prefix);
        self.u8(u8::from(include));
        self.u8(0);
        for v in rest {
            self.u32(*v);
        }
    }

    pub fn octets(&mut self, data: &[u8]) {
        self.u32(data.len() as u32);
        self.buf.extend_from_slice(data);
        let pad = (4 - data.len() % 4) % 4;
        self.buf.extend(std::iter::repeat(0).take(pad));
    }

    pub fn search_range(&mut self, r: &SearchRange) {
        self.oid(&r.start, r.include);
        self.oid(&r.end, false);
    }

    pub fn varbind(&mut self, vb: &VarBind) {
        self.u16(vb.value.type_code());
        self.u16(0);
        self.oid(&vb.name, false);
        match &vb.value {
            Value::Integer(v) => self.u32(*v as u32),
            Value::OctetString(d) | Value::Opaque(d) => self.octets(d),
            Value::ObjectId(o) => self.oid(o, false),
            Value::IpAddress(a) => self.octets(a),
            Value::Counter32(v) | Value::Gauge32(v) | Value::TimeTicks(v) => self.u32(*v),
            Value::Counter64(v) => self.u64(*v),
            Value::Null | Value::NoSuchObject | Value::NoSuchInstance | Value::EndOfMibView => {}
        }
    }
}
