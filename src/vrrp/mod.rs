//! VRRP: the packet codec (`packet`), the RFC state machine of one virtual router
//! (`instance`), sync groups (`group`), tracking weights (`track`) and notify lines
//! (`notify`). Pure: time comes in with each call.

pub mod conflict;
pub mod group;
pub mod instance;
pub mod notify;
pub mod packet;
pub mod reason;
pub mod rx;
pub mod stats;
pub mod track;

use std::fmt;

/// The state of a virtual router as keepalived names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum State {
    Initialize,
    Backup,
    Master,
    /// keepalived's FAULT: an interface or tracked object is down.
    Fault,
    /// Stopped (after shutdown).
    Stop,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Initialize => "INIT",
            State::Backup => "BACKUP",
            State::Master => "MASTER",
            State::Fault => "FAULT",
            State::Stop => "STOP",
        })
    }
}

/// The virtual router MAC of RFC 3768 §7.3 / RFC 5798 §7.3.
pub fn virtual_mac(vrid: u8, ipv6: bool) -> [u8; 6] {
    [0x00, 0x00, 0x5e, 0x00, if ipv6 { 0x02 } else { 0x01 }, vrid]
}
