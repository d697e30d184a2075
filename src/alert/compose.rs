//! What an alert says: keepalived 2.2.7's subject and body for each kind of event.
//!
//! Recorded from keepalived 2.2.7 on the wire (`router_id RID1`):
//! - instance: `[RID1] VRRP Instance VI_1 - Entering MASTER state` /
//!   `=> VRRP Instance is now owning VRRP VIPs <=` (BACKUP and FAULT:
//!   `=> VRRP Instance is no longer owning VRRP VIPs <=`);
//! - sync group: `[RID1] VRRP Group G1 - Entering MASTER state` /
//!   `=> All VRRP group instances are now in MASTER state <=`.
//!
//! Real servers (keepalived's format; its checker process needs IPVS, which the lab kernel
//! lacks, so these were not recorded here): `[RID1] Realserver [10.0.0.2]:tcp:80 of virtual
//! server [192.0.2.100]:tcp:80 - DOWN`, body `=> TCP CHECK failed on service <=` (and
//! `MISC`, `UDP`, `FILE`, `DNS`, `PING` alike; `succeed` when up); HTTP_GET, SSL_GET and
//! SMTP_CHECK say `=> CHECK failed on service : REASON <=` / `=> CHECK succeed on service <=`.
//!
//! Virtual server quorum (keepalived's pattern, not recorded here for the same reason):
//! `[RID1] Virtual Server [192.0.2.100]:tcp:80 - DOWN`, body `=> Lost quorum <=` (`UP`,
//! `=> Gained quorum <=`).

use crate::vrrp::State;

/// Subject and body of one alert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text {
    pub subject: String,
    pub body: String,
}

/// A VRRP instance entered `state` (MASTER, BACKUP or FAULT).
pub fn instance(router_id: &str, name: &str, state: State) -> Text {
    let body = if state == State::Master {
        "=> VRRP Instance is now owning VRRP VIPs <="
    } else {
        "=> VRRP Instance is no longer owning VRRP VIPs <="
    };
    Text {
        subject: format!("[{router_id}] VRRP Instance {name} - Entering {state} state"),
        body: body.into(),
    }
}

/// Every member of sync group `name` is in `state`.
pub fn group(router_id: &str, name: &str, state: State) -> Text {
    Text {
        subject: format!("[{router_id}] VRRP Group {name} - Entering {state} state"),
        body: format!("=> All VRRP group instances are now in {state} state <="),
    }
}

/// A real server went up or down. `vs` and `rs` are named as keepalived logs them
/// (`[192.0.2.100]:tcp:80`); `checker` is the checker's keyword (`TCP_CHECK`); `reason`
/// why it failed, for the checkers whose body says it.
pub fn real_server(
    router_id: &str,
    vs: &str,
    rs: &str,
    up: bool,
    checker: &str,
    reason: Option<&str>,
) -> Text {
    let updown = if up { "UP" } else { "DOWN" };
    let verb = if up { "succeed" } else { "failed" };
    let body = match checker {
        "TCP_CHECK" | "MISC_CHECK" | "UDP_CHECK" | "FILE_CHECK" | "DNS_CHECK" | "PING_CHECK" => {
            let short = checker.trim_end_matches("_CHECK");
            format!("=> {short} CHECK {verb} on service <=")
        }
        _ => match (up, reason) {
            (false, Some(r)) if !r.is_empty() => {
                format!("=> CHECK failed on service : {} <=", one_line(r))
            }
            _ => format!("=> CHECK {verb} on service <="),
        },
    };
    Text {
        subject: format!("[{router_id}] Realserver {rs} of virtual server {vs} - {updown}"),
        body,
    }
}

/// Virtual server `vs` (named as keepalived logs it) gained or lost its quorum.
pub fn virtual_server(router_id: &str, vs: &str, gained: bool) -> Text {
    let (updown, what) = if gained {
        ("UP", "Gained quorum")
    } else {
        ("DOWN", "Lost quorum")
    };
    Text {
        subject: format!("[{router_id}] Virtual Server {vs} - {updown}"),
        body: format!("=> {what} <="),
    }
}

fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Subjects and bodies keepalived 2.2.7 sent in the recorded runs.
    #[test]
    fn vrrp_as_recorded() {
        let t = instance("RID1", "VI_1", State::Master);
        assert_eq!(
            t.subject,
            "[RID1] VRRP Instance VI_1 - Entering MASTER state"
        );
        assert_eq!(t.body, "=> VRRP Instance is now owning VRRP VIPs <=");
        let t = instance("vm", "VI_1", State::Backup);
        assert_eq!(t.subject, "[vm] VRRP Instance VI_1 - Entering BACKUP state");
        assert_eq!(t.body, "=> VRRP Instance is no longer owning VRRP VIPs <=");
        let t = instance("vm", "VI_1", State::Fault);
        assert_eq!(t.subject, "[vm] VRRP Instance VI_1 - Entering FAULT state");
        assert_eq!(t.body, "=> VRRP Instance is no longer owning VRRP VIPs <=");
        let t = group("RID1", "G1", State::Backup);
        assert_eq!(t.subject, "[RID1] VRRP Group G1 - Entering BACKUP state");
        assert_eq!(
            t.body,
            "=> All VRRP group instances are now in BACKUP state <="
        );
    }

    #[test]
    fn virtual_server_quorum() {
        let t = virtual_server("lb1", "[192.0.2.100]:tcp:80", false);
        assert_eq!(
            t.subject,
            "[lb1] Virtual Server [192.0.2.100]:tcp:80 - DOWN"
        );
        assert_eq!(t.body, "=> Lost quorum <=");
        let t = virtual_server("lb1", "[fwmark 7]", true);
        assert_eq!(t.subject, "[lb1] Virtual Server [fwmark 7] - UP");
        assert_eq!(t.body, "=> Gained quorum <=");
    }

    #[test]
    fn real_servers() {
        let t = real_server(
            "lb1",
            "[192.0.2.100]:tcp:80",
            "[10.0.0.2]:tcp:80",
            false,
            "TCP_CHECK",
            Some("connection refused"),
        );
        assert_eq!(
            t.subject,
            "[lb1] Realserver [10.0.0.2]:tcp:80 of virtual server [192.0.2.100]:tcp:80 - DOWN"
        );
        assert_eq!(t.body, "=> TCP CHECK failed on service <=");
        let t = real_server("lb1", "v", "r", true, "MISC_CHECK", None);
        assert!(t.subject.ends_with(" - UP"));
        assert_eq!(t.body, "=> MISC CHECK succeed on service <=");
        let t = real_server(
            "lb1",
            "v",
            "r",
            false,
            "HTTP_GET",
            Some("HTTP status\ncode 500"),
        );
        assert_eq!(
            t.body,
            "=> CHECK failed on service : HTTP status code 500 <="
        );
        let t = real_server("lb1", "v", "r", true, "SMTP_CHECK", Some("ignored when up"));
        assert_eq!(t.body, "=> CHECK succeed on service <=");
    }
}
