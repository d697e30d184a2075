//! One AgentX session of a subagent (RFC 2741 §7.1), without I/O: bytes from the master
//! agent go in, bytes for it come out. It opens the session, registers each subtree
//! (§7.1.5), answers Get / GetNext / GetBulk from a [`View`] (asked for once per batch of
//! input), refuses Sets (read-only MIBs), sends notifications, and closes. A peer that
//! breaks the protocol gets an error the caller answers by dropping the connection.

use super::oid::Oid;
use super::pdu::{self, close_reason, error, Body, Header, Pdu};
use super::view::View;
use super::wire::{DecodeError, Value, VarBind};
use std::fmt;
use std::rc::Rc;

/// The most bytes buffered from the master before a whole PDU is there.
pub const MAX_BUFFERED: usize = pdu::HEADER_LEN + pdu::MAX_PAYLOAD as usize;

/// What the session asks of the master.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The subtrees registered, in order.
    pub subtrees: Vec<Oid>,
    /// `o.descr` of the Open.
    pub descr: String,
    /// `o.timeout`: seconds the master waits for our answers (0: its default).
    pub timeout: u8,
}

/// Where the session stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The Open is sent; its Response is awaited.
    Opening,
    /// Registrations are sent; some Responses are awaited.
    Registering,
    /// Every registration is answered.
    Ready,
    /// Closed by either side.
    Closed,
}

/// What happened, for the caller to log and act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Happened {
    Opened {
        session_id: u32,
        sys_uptime: u32,
    },
    Registered(Oid),
    /// A registration refused (e.g. duplicateRegistration): the subtree is not served.
    RegisterRefused(Oid, u16),
    /// The master closed the session (`c.reason`).
    ClosedByMaster(u8),
}

/// The master broke the protocol, or refused the session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionError {
    Decode(DecodeError),
    /// The Open was refused with this `res.error`.
    OpenRefused(u16),
    /// More than [`MAX_BUFFERED`] bytes without a whole PDU.
    Overflow,
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionError::Decode(e) => write!(f, "{e}"),
            SessionError::OpenRefused(e) => {
                write!(f, "the master agent refused the session (error {e})")
            }
            SessionError::Overflow => f.write_str("AgentX input above the limit"),
        }
    }
}

/// One session.
#[derive(Debug)]
pub struct Session {
    settings: Settings,
    phase: Phase,
    session_id: u32,
    next_packet_id: u32,
    /// The Open's packet id.
    open_id: u32,
    /// Registrations awaiting their Response: (packet id, subtree).
    pending: Vec<(u32, Oid)>,
    /// Our Ping awaiting its Response (packet id).
    ping: Option<u32>,
    rx: Vec<u8>,
}

impl Session {
    /// A session and the Open PDU to send first (§6.2.1).
    pub fn open(settings: Settings) -> (Session, Vec<u8>) {
        let mut s = Session {
            settings,
            phase: Phase::Opening,
            session_id: 0,
            next_packet_id: 1,
            open_id: 0,
            pending: Vec::new(),
            ping: None,
            rx: Vec::new(),
        };
        s.open_id = s.packet_id();
        let bytes = pdu::encode(&Pdu {
            header: Header {
                packet_id: s.open_id,
                ..Header::default()
            },
            body: Body::Open {
                timeout: s.settings.timeout,
                id: Oid::null(),
                descr: s.settings.descr.clone().into_bytes(),
            },
        });
        (s, bytes)
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    fn packet_id(&mut self) -> u32 {
        let id = self.next_packet_id;
        self.next_packet_id = self.next_packet_id.wrapping_add(1).max(1);
        id
    }

    fn header(&mut self) -> Header {
        Header {
            flags: 0,
            session_id: self.session_id,
            transaction_id: 0,
            packet_id: self.packet_id(),
        }
    }

    /// Bytes from the master: every whole PDU is handled, answers appended to `out`.
    /// `view` is called at most once, when a request needs it.
    pub fn on_input(
        &mut self,
        data: &[u8],
        view: &mut dyn FnMut() -> Rc<View>,
        out: &mut Vec<u8>,
    ) -> Result<Vec<Happened>, SessionError> {
        if self.rx.len() + data.len() > MAX_BUFFERED {
            return Err(SessionError::Overflow);
        }
        self.rx.extend_from_slice(data);
        let mut happened = Vec::new();
        let mut cached: Option<Rc<View>> = None;
        let mut used = 0;
        let result = loop {
            let rest = &self.rx[used..];
            let len = match pdu::frame_len(rest) {
                Ok(Some(n)) if n <= rest.len() => n,
                Ok(_) => break Ok(()),
                Err(e) => break Err(SessionError::Decode(e)),
            };
            let p = match pdu::decode(&rest[..len]) {
                Ok(p) => p,
                Err(e) => break Err(SessionError::Decode(e)),
            };
            used += len;
            if let Err(e) = self.handle(p, &mut cached, view, out, &mut happened) {
                break Err(e);
            }
            if self.phase == Phase::Closed {
                break Ok(());
            }
        };
        self.rx.drain(..used);
        result.map(|()| happened)
    }

    fn handle(
        &mut self,
        p: Pdu,
        cached: &mut Option<Rc<View>>,
        view: &mut dyn FnMut() -> Rc<View>,
        out: &mut Vec<u8>,
        happened: &mut Vec<Happened>,
    ) -> Result<(), SessionError> {
        let respond = |out: &mut Vec<u8>, error: u16, index: u16, varbinds: Vec<VarBind>| {
            out.extend(pdu::encode(&Pdu {
                header: Header {
                    flags: 0,
                    ..p.header
                },
                body: Body::Response {
                    sys_uptime: 0,
                    error,
                    index,
                    varbinds,
                },
            }));
        };
        match p.body {
            Body::Response {
                sys_uptime, error, ..
            } => {
                let id = p.header.packet_id;
                if self.phase == Phase::Opening && id == self.open_id {
                    if error != error::NO_ERROR {
                        self.phase = Phase::Closed;
                        return Err(SessionError::OpenRefused(error));
                    }
                    self.session_id = p.header.session_id;
                    happened.push(Happened::Opened {
                        session_id: self.session_id,
                        sys_uptime,
                    });
                    self.register_all(out);
                } else if self.ping == Some(id) {
                    self.ping = None;
                } else if let Some(i) = self.pending.iter().position(|(pid, _)| *pid == id) {
                    let (_, subtree) = self.pending.remove(i);
                    happened.push(if error == error::NO_ERROR {
                        Happened::Registered(subtree)
                    } else {
                        Happened::RegisterRefused(subtree, error)
                    });
                    if self.pending.is_empty() {
                        self.phase = Phase::Ready;
                    }
                }
                // Responses to our Notify and Close need nothing.
            }
            Body::Get {
                context: Some(_), ..
            }
            | Body::GetNext {
                context: Some(_), ..
            }
            | Body::GetBulk {
                context: Some(_), ..
            } => {
                respond(out, error::UNSUPPORTED_CONTEXT, 0, Vec::new());
            }
            Body::Get { ranges, .. } => {
                let v = cached.get_or_insert_with(&mut *view);
                let vbs = ranges
                    .iter()
                    .map(|r| VarBind {
                        name: r.start.clone(),
                        value: v.get(&r.start),
                    })
                    .collect();
                respond(out, error::NO_ERROR, 0, vbs);
            }
            Body::GetNext { ranges, .. } => {
                let v = cached.get_or_insert_with(&mut *view);
                let vbs = ranges.iter().map(|r| v.get_next(r)).collect();
                respond(out, error::NO_ERROR, 0, vbs);
            }
            Body::GetBulk {
                non_repeaters,
                max_repetitions,
                ranges,
                ..
            } => {
                let v = cached.get_or_insert_with(&mut *view);
                let vbs = v.get_bulk(non_repeaters, max_repetitions, &ranges);
                respond(out, error::NO_ERROR, 0, vbs);
            }
            // Read-only MIBs: the first binding is not writable (RFC 2741 §7.2.4.1).
            Body::TestSet { varbinds, .. } => {
                let index = u16::from(!varbinds.is_empty());
                respond(out, error::NOT_WRITABLE, index, Vec::new());
            }
            Body::CommitSet | Body::UndoSet => respond(out, error::GEN_ERR, 0, Vec::new()),
            Body::CleanupSet => {}
            Body::Ping { .. } => respond(out, error::NO_ERROR, 0, Vec::new()),
            Body::Close { reason } => {
                self.phase = Phase::Closed;
                happened.push(Happened::ClosedByMaster(reason));
            }
            Body::Open { .. } | Body::Register { .. } | Body::Notify { .. } => {
                respond(out, error::PARSE_ERROR, 0, Vec::new());
            }
            Body::Other { .. } => respond(out, error::PROCESSING_ERROR, 0, Vec::new()),
        }
        Ok(())
    }

    fn register_all(&mut self, out: &mut Vec<u8>) {
        self.phase = Phase::Registering;
        for subtree in self.settings.subtrees.clone() {
            let header = self.header();
            self.pending.push((header.packet_id, subtree.clone()));
            out.extend(pdu::encode(&Pdu {
                header,
                body: Body::Register {
                    context: None,
                    timeout: 0,
                    priority: 127,
                    range_subid: 0,
                    subtree,
                    upper_bound: None,
                },
            }));
        }
        if self.pending.is_empty() {
            self.phase = Phase::Ready;
        }
    }

    /// A Notify (§6.2.10) with these bindings after `snmpTrapOID.0 = trap` (the master adds
    /// sysUpTime.0); None until the session is open.
    pub fn notify(&mut self, trap: &Oid, varbinds: Vec<VarBind>) -> Option<Vec<u8>> {
        if !matches!(self.phase, Phase::Registering | Phase::Ready) {
            return None;
        }
        let mut vbs = vec![VarBind {
            name: Oid::new(&SNMP_TRAP_OID),
            value: Value::ObjectId(trap.clone()),
        }];
        vbs.extend(varbinds);
        let header = self.header();
        Some(pdu::encode(&Pdu {
            header,
            body: Body::Notify {
                context: None,
                varbinds: vbs,
            },
        }))
    }

    /// A Ping (§6.2.13) to learn that the master still serves the session; None until the
    /// session is open.
    pub fn ping(&mut self) -> Option<Vec<u8>> {
        if self.phase != Phase::Ready {
            return None;
        }
        let header = self.header();
        self.ping = Some(header.packet_id);
        Some(pdu::encode(&Pdu {
            header,
            body: Body::Ping { context: None },
        }))
    }

    /// Our last Ping has not been answered.
    pub fn ping_unanswered(&self) -> bool {
        self.ping.is_some()
    }

    /// The Close PDU ending an open session (`close_reason::SHUTDOWN` on stop); None when
    /// there is nothing to close.
    pub fn close(&mut self, reason: u8) -> Option<Vec<u8>> {
        if matches!(self.phase, Phase::Opening | Phase::Closed) {
            self.phase = Phase::Closed;
            return None;
        }
        self.phase = Phase::Closed;
        let header = self.header();
        Some(pdu::encode(&Pdu {
            header,
            body: Body::Close { reason },
        }))
    }
}

/// `snmpTrapOID.0` (RFC 3418).
pub const SNMP_TRAP_OID: [u32; 11] = [1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0];

/// The reason a shutting-down subagent gives.
pub const SHUTDOWN: u8 = close_reason::SHUTDOWN;
