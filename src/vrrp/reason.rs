//! Why an instance last changed state (an extension of keepalived-rs, shown by
//! `keepalived-rs --status` and the metrics): set in the instance's transition code with
//! each state change, kept across a reload that keeps the instance.

use std::fmt;
use std::net::IpAddr;

/// Why the last transition happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The daemon started (I1 / I2).
    Startup,
    /// The instance is new in a reloaded configuration.
    Reload,
    /// B3: no advert within Master_Down_Interval.
    MasterDown,
    /// B4 then B3: the Master resigned with a priority-0 advert.
    PriorityZero { from: IpAddr },
    /// M5: an advert of a higher priority.
    HigherPriority { from: IpAddr, priority: u8 },
    /// M5: an advert of our priority from a higher address.
    HigherAddress { from: IpAddr },
    /// Entered FAULT.
    Fault(FaultCause),
    /// Left FAULT: the interface and every tracked object are fine again.
    FaultCleared,
    /// The instance's sync group followed `member`, which went to `to`.
    SyncGroup {
        group: String,
        member: String,
        to: super::State,
    },
    /// The daemon is stopping.
    Shutdown,
}

/// What put an instance in FAULT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultCause {
    /// Its interface is down or missing.
    LinkDown(String),
    /// `unicast_fault_no_peer` with no unicast peer.
    NoUnicastPeer,
    /// `track_src_ip`: the source address is no longer on the interface.
    SourceAddressGone,
    /// Tracked objects, as "chk_nginx failed, eth1 down" (the engine names them).
    Tracking(String),
}

impl fmt::Display for FaultCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultCause::LinkDown(i) => write!(f, "link down: {i}"),
            FaultCause::NoUnicastPeer => f.write_str("no unicast peer (unicast_fault_no_peer)"),
            FaultCause::SourceAddressGone => {
                f.write_str("source address gone from the interface (track_src_ip)")
            }
            FaultCause::Tracking(what) if what.is_empty() => f.write_str("tracking"),
            FaultCause::Tracking(what) => write!(f, "tracking: {what}"),
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Startup => f.write_str("startup"),
            Reason::Reload => f.write_str("reload"),
            Reason::MasterDown => f.write_str("master down timer"),
            Reason::PriorityZero { from } => write!(f, "priority 0 received from {from}"),
            Reason::HigherPriority { from, priority } => {
                write!(
                    f,
                    "higher priority advert from {from} (priority {priority})"
                )
            }
            Reason::HigherAddress { from } => {
                write!(f, "same priority advert from higher address {from}")
            }
            Reason::Fault(c) => c.fmt(f),
            Reason::FaultCleared => f.write_str("fault cleared"),
            Reason::SyncGroup { group, member, to } => {
                write!(f, "sync group {group}: {member} went {to}")
            }
            Reason::Shutdown => f.write_str("shutdown"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_as_sentences() {
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(
            Reason::PriorityZero { from: a }.to_string(),
            "priority 0 received from 192.0.2.1"
        );
        assert_eq!(
            Reason::HigherPriority {
                from: a,
                priority: 200
            }
            .to_string(),
            "higher priority advert from 192.0.2.1 (priority 200)"
        );
        assert_eq!(
            Reason::Fault(FaultCause::Tracking("chk_nginx failed".into())).to_string(),
            "tracking: chk_nginx failed"
        );
        assert_eq!(
            Reason::Fault(FaultCause::LinkDown("eth0".into())).to_string(),
            "link down: eth0"
        );
        assert_eq!(
            Reason::SyncGroup {
                group: "G".into(),
                member: "VI_2".into(),
                to: crate::vrrp::State::Fault
            }
            .to_string(),
            "sync group G: VI_2 went FAULT"
        );
    }
}
