//! Which `smtp_alert` setting decides whether an event sends an e-mail, keepalived's way:
//!
//! - a VRRP instance: its own `smtp_alert`, else global `smtp_alert_vrrp`, else global
//!   `smtp_alert`, else no (resolved by `config` into `VrrpInstance::smtp_alert`);
//! - a sync group: the same chain (resolved into `SyncGroup::smtp_alert`);
//! - a real server: its own `smtp_alert`, else global `smtp_alert_checker`, else global
//!   `smtp_alert`, else **yes** (keepalived keeps that default for backward
//!   compatibility);
//! - a virtual server's quorum gained or lost: its own `smtp_alert`, else global
//!   `smtp_alert_checker`, else global `smtp_alert`, else no;
//! - which VRRP states: MASTER, BACKUP and FAULT (not FAULT with `no_email_faults`);
//!   keepalived's alerts for STOP never leave a stopping keepalived, so none is raised.

use crate::config::model::{GlobalDefs, RealServer, VirtualServer};
use crate::vrrp::State;

/// Whether real server `rs` sends alerts.
pub fn real_server(global: &GlobalDefs, rs: &RealServer) -> bool {
    real_server_flag(global, rs.smtp_alert)
}

/// The same from the real server's own `smtp_alert` (None: not written).
pub fn real_server_flag(global: &GlobalDefs, own: Option<bool>) -> bool {
    checker_chain(global, own, true)
}

/// The checker side's chain: own setting, `smtp_alert_checker`, `smtp_alert`, `default`.
fn checker_chain(global: &GlobalDefs, own: Option<bool>, default: bool) -> bool {
    own.or(global.smtp_alert_checker)
        .or(global.smtp_alert)
        .unwrap_or(default)
}

/// Whether virtual server `vs` sends quorum alerts: its own `smtp_alert`, else global
/// `smtp_alert_checker`, else global `smtp_alert`, else no (quorum alerts are newer than
/// the real servers' default of yes).
pub fn virtual_server(global: &GlobalDefs, vs: &VirtualServer) -> bool {
    virtual_server_flag(global, vs.smtp_alert)
}

/// The same from the virtual server's own `smtp_alert` (None: not written).
pub fn virtual_server_flag(global: &GlobalDefs, own: Option<bool>) -> bool {
    checker_chain(global, own, false)
}

/// Whether entering `state` is worth an alert (for an instance or group that sends them).
pub fn vrrp_state(state: State, no_email_faults: bool) -> bool {
    match state {
        State::Master | State::Backup => true,
        State::Fault => !no_email_faults,
        State::Initialize | State::Stop => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::LvsMethod;
    use std::net::{IpAddr, Ipv4Addr};

    fn rs(alert: Option<bool>) -> RealServer {
        RealServer {
            addr: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: Some(80),
            span: Default::default(),
            weight: 1,
            lvs_method: LvsMethod::Nat,
            notify_up: None,
            notify_down: None,
            uthreshold: None,
            lthreshold: None,
            smtp_alert: alert,
            virtualhost: None,
            snmp_name: None,
            alpha: None,
            connect_timeout: None,
            retry: None,
            delay_before_retry: None,
            warmup: None,
            delay_loop: None,
            inhibit_on_failure: false,
            checkers: vec![],
        }
    }

    #[test]
    fn real_server_chain() {
        let mut g = GlobalDefs::default();
        assert!(real_server(&g, &rs(None)), "default yes");
        assert!(!real_server(&g, &rs(Some(false))));
        g.smtp_alert = Some(false);
        assert!(!real_server(&g, &rs(None)));
        assert!(real_server(&g, &rs(Some(true))));
        g.smtp_alert_checker = Some(true);
        assert!(
            real_server(&g, &rs(None)),
            "smtp_alert_checker before smtp_alert"
        );
    }

    #[test]
    fn virtual_server_chain() {
        let mut g = GlobalDefs::default();
        assert!(!virtual_server_flag(&g, None), "default no");
        assert!(virtual_server_flag(&g, Some(true)));
        g.smtp_alert = Some(true);
        assert!(virtual_server_flag(&g, None));
        assert!(!virtual_server_flag(&g, Some(false)));
        g.smtp_alert_checker = Some(false);
        assert!(
            !virtual_server_flag(&g, None),
            "smtp_alert_checker before smtp_alert"
        );
    }

    #[test]
    fn states() {
        assert!(vrrp_state(State::Master, false));
        assert!(vrrp_state(State::Backup, true));
        assert!(vrrp_state(State::Fault, false));
        assert!(!vrrp_state(State::Fault, true));
        assert!(!vrrp_state(State::Stop, false));
        assert!(!vrrp_state(State::Initialize, false));
    }
}
