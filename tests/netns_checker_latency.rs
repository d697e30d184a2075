//! End to end: checkers that hang cost a timer, never the loop. One daemon runs a VRRP
//! Master at 100 ms adverts (the Backup is a second daemon in another namespace) and, in
//! the same process, checkers pointed at servers that never answer: an HTTP_GET to a
//! listener that never reads, an SSL_GET whose handshake is never answered, a TCP_CHECK
//! to a port whose SYNs are dropped, and a
//! MISC_CHECK whose script never exits. A capture on the segment gives the Master's
//! advert times: no gap may come near the Master_Down_Interval (RFC 5798 §6.1: 3 ×
//! Advertisement_Interval + Skew_Time, 0.32 s here), past which the Backup would take
//! over. A loop blocked by a checker would show gaps of seconds (the connect and misc
//! timeouts). Needs root; without it the test prints a notice and passes, unless CI is set.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

mod sys_util;

use std::time::Duration;
use sys_util::*;

const VIP: &str = "10.77.0.100";

fn vrrp(prio: u8) -> String {
    format!(
        "vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 44
    priority {prio}
    advert_int 0.1
    version 3
    virtual_ipaddress {{
        {VIP}/24
    }}
}}
"
    )
}

/// The Master's checkers: every one of them hangs.
fn checkers() -> String {
    "virtual_server 10.77.0.100 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 10.77.0.2 8080 {
        HTTP_GET {
            url {
                path /
                status_code 200
            }
            connect_timeout 2
            retry 0
        }
    }
    real_server 10.77.0.2 8081 {
        TCP_CHECK {
            connect_timeout 2
            retry 0
        }
    }
    real_server 10.77.0.2 8083 {
        SSL_GET {
            url {
                path /
                status_code 200
            }
            connect_timeout 2
            retry 0
        }
    }
    real_server 10.77.0.2 8082 {
        MISC_CHECK {
            misc_path \"/bin/sleep 3600\"
            misc_timeout 2
        }
    }
}
"
    .to_string()
}

/// Advert times of `src` in a capture.
fn advert_times(cap: &mut Capture, src: &str) -> Vec<f64> {
    cap.stop(&["frame.time_epoch", "ip.src"], "vrrp")
        .into_iter()
        .filter(|f| f.get(1).map(String::as_str) == Some(src))
        .filter_map(|f| f.first()?.parse().ok())
        .collect()
}

#[test]
fn hanging_checkers_do_not_delay_adverts() {
    if !require_root("hanging_checkers_do_not_delay_adverts") {
        return;
    }
    ensure_capture_tools();
    ensure_installed("/usr/sbin/nft", "nftables");
    ensure_installed("/usr/bin/python3", "python3");
    let lab = Lab::new(2, 1);
    // r2 serves: 8080 and 8083 accept (the kernel completes the handshake) and never read
    // nor answer; 8081 drops every SYN.
    let _hang = Daemon::start_program(
        &lab,
        "r2",
        "hang",
        "python3",
        &[
            "-c",
            "import socket,time\n\
             s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
             s.bind(('10.77.0.2', 8080)); s.listen(128)\n\
             t=socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
             t.bind(('10.77.0.2', 8083)); t.listen(128)\n\
             time.sleep(3600)",
        ],
    );
    lab.must("r2", "nft add table inet sysconn");
    lab.must(
        "r2",
        "nft add chain inet sysconn in { type filter hook input priority 0 \\; }",
    );
    lab.must("r2", "nft add rule inet sysconn in tcp dport 8081 drop");
    let r1 = Daemon::start(&lab, "r1", "r1", &format!("{}{}", vrrp(200), checkers()));
    let _r2 = Daemon::start(&lab, "r2", "r2", &vrrp(100));
    assert!(
        wait_for(Duration::from_secs(5), || lab.holders(VIP) == ["r1"]),
        "r1 never became the only holder: {:?}\n{}",
        lab.holders(VIP),
        r1.log_text()
    );
    let mut cap = Capture::start(&lab, "br0", "checkers", "ip proto 112");
    // Several rounds of every checker: each hangs until its 2 s timeout.
    std::thread::sleep(Duration::from_secs(7));
    let adv = advert_times(&mut cap, "10.77.0.1");
    let log = r1.log_text();
    let gaps: Vec<f64> = adv.windows(2).map(|w| w[1] - w[0]).collect();
    let max_gap = gaps.iter().copied().fold(0.0f64, f64::max);
    eprintln!(
        "{} adverts, largest gap {:.1} ms",
        adv.len(),
        max_gap * 1000.0
    );
    for l in log.lines().filter(|l| l.contains("10.77.0.2]")) {
        eprintln!("{l}");
    }
    assert!(adv.len() > 40, "too few adverts captured: {adv:?}\n{log}");
    // The checkers ran, and each of the hanging servers was found down.
    for rs in [
        "10.77.0.2]:tcp:8080",
        "10.77.0.2]:tcp:8081",
        "10.77.0.2]:tcp:8082",
        "10.77.0.2]:tcp:8083",
    ] {
        assert!(
            log.lines().any(|l| l.contains(rs) && l.contains("down")),
            "{rs} never reported down:\n{log}"
        );
    }
    // Master_Down_Interval at priority 200 is 0.32 s; 0.25 s leaves scheduling noise on
    // a loaded machine room while a blocked loop (seconds) fails at once.
    assert!(
        max_gap < 0.25,
        "an advert gap of {:.0} ms while checkers hang\n{log}",
        max_gap * 1000.0
    );
    assert_eq!(lab.holders(VIP), ["r1"], "the Backup took over");
}
