//! End to end, in network namespaces (scripts/lab.sh): Accept_Mode with nftables and
//! multipath virtual routes, checked from the outside.
//!
//! - A Master with `no_accept` (or `vrrp_strict`) drops pings to its VIPs (IPv4 and IPv6;
//!   ARP and ND still answered) with keepalived's `keepalived` tables; with `accept` the
//!   VIP answers. SIGTERM removes the tables; after SIGKILL the next start removes the
//!   leftover (no duplicate table or rule); with -V the table stays with the VIPs.
//! - A multipath virtual route is installed with both next hops on promotion and removed
//!   on demotion.
//!
//! Needs root; without it the tests print a notice and pass, unless CI is set.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

mod sys_util;

use std::sync::Mutex;
use std::time::Duration;
use sys_util::*;

static SERIAL: Mutex<()> = Mutex::new(());

const VIP: &str = "10.77.0.100";
const VIP6: &str = "2001:db8:77::100";

fn conf(prio: u8, instance_extra: &str, top: &str) -> String {
    format!(
        "{top}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 42
    priority {prio}
    advert_int 0.1
    version 3
    virtual_ipaddress {{
        {VIP}/24
    }}
    {instance_extra}
}}
vrrp_instance VI_6 {{
    state BACKUP
    interface eth0
    virtual_router_id 43
    priority {prio}
    advert_int 0.1
    version 3
    virtual_ipaddress {{
        {VIP6}/64
    }}
    {instance_extra}
}}
"
    )
}

fn tools() {
    ensure_installed("/usr/sbin/nft", "nftables");
    ensure_installed("/usr/bin/ping", "iputils-ping");
}

/// Whether `addr` answers one ping from r2 (within a second).
fn pings(lab: &Lab, addr: &str) -> bool {
    lab.sh("r2", &format!("ping -n -c 1 -W 1 {addr}")).0
}

fn tables(lab: &Lab) -> String {
    lab.must("r1", "nft list tables")
}

fn lab_with_v6() -> Lab {
    let lab = Lab::new(2, 1);
    lab.must("r1", "ip -6 addr add 2001:db8:77::1/64 dev eth0 nodad");
    lab.must("r2", "ip -6 addr add 2001:db8:77::2/64 dev eth0 nodad");
    lab
}

fn wait_vips(lab: &Lab, d: &Daemon) {
    assert!(
        wait_for(Duration::from_secs(5), || lab.has_addr("r1", VIP)
            && lab.has_addr("r1", VIP6)),
        "r1 did not become master of both instances\n{}",
        d.log_text()
    );
}

#[test]
fn no_accept_drops_traffic_to_the_vips_and_the_table_goes_at_stop() {
    if !require_root("no_accept_drops_traffic_to_the_vips_and_the_table_goes_at_stop") {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    tools();
    let lab = lab_with_v6();

    // no_accept: no answer to a ping, but ARP / ND are answered.
    let mut r1 = Daemon::start(&lab, "r1", "noacc", &conf(200, "no_accept", ""));
    wait_vips(&lab, &r1);
    assert!(pings(&lab, "10.77.0.1"), "the primary address must answer");
    assert!(
        !pings(&lab, VIP),
        "no_accept: {VIP} answered\n{}",
        r1.log_text()
    );
    assert!(!pings(&lab, VIP6), "no_accept: {VIP6} answered");
    let neigh = lab.must("r2", "ip neigh show");
    assert!(
        neigh.contains(&format!("{VIP} dev eth0 lladdr")),
        "ARP for the VIP not answered: {neigh}"
    );
    assert!(
        neigh.contains(&format!("{VIP6} dev eth0 lladdr")),
        "ND for the VIP not answered: {neigh}"
    );
    let t = tables(&lab);
    assert!(t.contains("table ip keepalived"), "{t}");
    assert!(t.contains("table ip6 keepalived"), "{t}");
    let rules = lab.must("r1", "nft list ruleset");
    assert!(
        rules.contains(&format!("elements = {{ {VIP} }}")),
        "{rules}"
    );
    assert!(
        rules.contains(&format!("elements = {{ {VIP6} }}")),
        "{rules}"
    );
    // SIGTERM: the tables go with the VIPs.
    r1.signal(libc::SIGTERM);
    assert_eq!(
        r1.wait_exit(Duration::from_secs(5)),
        Some(0),
        "{}",
        r1.log_text()
    );
    assert!(
        tables(&lab).trim().is_empty(),
        "left after SIGTERM: {}",
        tables(&lab)
    );

    // accept: the VIPs answer, no table is made.
    let mut r1 = Daemon::start(&lab, "r1", "acc", &conf(200, "accept", ""));
    wait_vips(&lab, &r1);
    assert!(
        wait_for(Duration::from_secs(3), || pings(&lab, VIP)),
        "accept: {VIP} did not answer\n{}",
        r1.log_text()
    );
    assert!(pings(&lab, VIP6), "accept: {VIP6} did not answer");
    assert!(tables(&lab).trim().is_empty(), "{}", tables(&lab));
    r1.signal(libc::SIGTERM);
    assert_eq!(r1.wait_exit(Duration::from_secs(5)), Some(0));

    // vrrp_strict implies no_accept.
    let strict = "global_defs {\n    vrrp_strict\n}";
    let mut r1 = Daemon::start(&lab, "r1", "strict", &conf(200, "", strict));
    wait_vips(&lab, &r1);
    assert!(
        !pings(&lab, VIP),
        "vrrp_strict: {VIP} answered\n{}",
        r1.log_text()
    );
    assert!(tables(&lab).contains("table ip keepalived"));
    r1.signal(libc::SIGTERM);
    assert_eq!(r1.wait_exit(Duration::from_secs(5)), Some(0));
    assert!(tables(&lab).trim().is_empty(), "{}", tables(&lab));
}

#[test]
fn firewall_leftovers_after_sigkill_and_with_dont_release() {
    if !require_root("firewall_leftovers_after_sigkill_and_with_dont_release") {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    tools();
    let lab = lab_with_v6();

    // SIGKILL leaves the tables (and the VIPs) behind.
    let mut r1 = Daemon::start(&lab, "r1", "k1", &conf(200, "no_accept", ""));
    wait_vips(&lab, &r1);
    r1.kill();
    assert!(tables(&lab).contains("table ip keepalived"));
    // The next start (here with `accept`) removes them before anything else.
    let mut r1 = Daemon::start(&lab, "r1", "k2", &conf(200, "accept", ""));
    assert!(
        wait_for(Duration::from_secs(3), || tables(&lab).trim().is_empty()),
        "leftover tables not removed: {}\n{}",
        tables(&lab),
        r1.log_text()
    );
    wait_vips(&lab, &r1);
    assert!(wait_for(Duration::from_secs(3), || pings(&lab, VIP)));
    r1.kill();
    // Killed again, now no_accept: one table per family, one drop rule per chain.
    let mut r1 = Daemon::start(&lab, "r1", "k3", &conf(200, "no_accept", ""));
    wait_vips(&lab, &r1);
    let mut r1b = {
        r1.kill();
        Daemon::start(&lab, "r1", "k4", &conf(200, "no_accept", ""))
    };
    // Its own table is made when it becomes master (the leftover has the same shape).
    assert!(
        wait_for(Duration::from_secs(5), || r1b
            .log_text()
            .contains(&format!("setting firewall drop rule for {VIP6}"))),
        "{}",
        r1b.log_text()
    );
    wait_vips(&lab, &r1b);
    assert!(
        wait_for(Duration::from_secs(3), || {
            let t = lab.must("r1", "nft list ruleset");
            t.matches("table ip keepalived").count() == 1
                && t.matches("ip daddr @vips drop").count() == 1
                && t.matches("table ip6 keepalived").count() == 1
                && t.matches("ip6 daddr @vips drop").count() == 1
        }),
        "{}",
        lab.must("r1", "nft list ruleset")
    );
    assert!(!pings(&lab, VIP));

    // -V: the VIPs stay, and so does the table guarding them.
    r1b.signal(libc::SIGTERM);
    assert_eq!(r1b.wait_exit(Duration::from_secs(5)), Some(0));
    let mut r1 = Daemon::start_args(&lab, "r1", "v1", &conf(200, "no_accept", ""), &["-V"]);
    wait_vips(&lab, &r1);
    r1.signal(libc::SIGTERM);
    assert_eq!(
        r1.wait_exit(Duration::from_secs(5)),
        Some(0),
        "{}",
        r1.log_text()
    );
    assert!(lab.has_addr("r1", VIP), "-V: the VIP must stay");
    let rules = lab.must("r1", "nft list ruleset");
    assert!(
        rules.contains(&format!("elements = {{ {VIP} }}")),
        "-V: {rules}"
    );
    assert!(
        !pings(&lab, VIP),
        "-V: the VIP left behind must stay guarded"
    );
    // And the next start clears both.
    let mut r1 = Daemon::start(&lab, "r1", "v2", &conf(200, "accept", ""));
    assert!(
        wait_for(Duration::from_secs(3), || tables(&lab).trim().is_empty()),
        "{}",
        tables(&lab)
    );
    r1.signal(libc::SIGTERM);
    assert_eq!(r1.wait_exit(Duration::from_secs(5)), Some(0));
    assert!(!lab.has_addr("r1", VIP));
}

#[test]
fn multipath_virtual_route_follows_master() {
    if !require_root("multipath_virtual_route_follows_master") {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new(2, 1);
    let routes = "virtual_routes {
        10.99.0.0/16 no_track nexthop via 10.77.0.201 dev eth0 weight 2 nexthop via 10.77.0.202 dev eth0
        10.98.0.0/16 via 10.77.0.203 dev eth0 or 10.77.0.204
    }";
    let one = |prio: u8| {
        format!(
            "vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 42
    priority {prio}
    advert_int 0.1
    version 3
    virtual_ipaddress {{
        {VIP}/24
    }}
    {routes}
}}
"
        )
    };
    // The next hops of 10.99.0.0/16 as `ip -j route show` gives them.
    let hops = |node: &str, dst: &str| -> Vec<(String, String, u64)> {
        let j = lab.must(node, &format!("ip -j route show {dst}"));
        let mut v = Vec::new();
        for part in j.split("\"gateway\":\"").skip(1) {
            let gw = part.split('"').next().unwrap_or("").to_string();
            let dev = part
                .split("\"dev\":\"")
                .nth(1)
                .and_then(|x| x.split('"').next())
                .unwrap_or("")
                .to_string();
            let weight = part
                .split("\"weight\":")
                .nth(1)
                .and_then(|x| x.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|x| x.parse().ok())
                .unwrap_or(0);
            v.push((gw, dev, weight));
        }
        v
    };
    let want = vec![
        ("10.77.0.201".to_string(), "eth0".to_string(), 2),
        ("10.77.0.202".to_string(), "eth0".to_string(), 1),
    ];
    let want_or = vec![
        ("10.77.0.203".to_string(), "eth0".to_string(), 1),
        ("10.77.0.204".to_string(), "eth0".to_string(), 1),
    ];
    let mut r1 = Daemon::start(&lab, "r1", "r1", &one(100));
    assert!(
        wait_for(Duration::from_secs(5), || hops("r1", "10.99.0.0/16")
            == want),
        "master r1: {:?}\n{}",
        lab.must("r1", "ip -j route show 10.99.0.0/16"),
        r1.log_text()
    );
    assert_eq!(hops("r1", "10.98.0.0/16"), want_or, "the `or` route");
    // r2 (priority 200) preempts: r1 is demoted and removes the routes; r2 installs them.
    let mut r2 = Daemon::start(&lab, "r2", "r2", &one(200));
    assert!(
        wait_for(Duration::from_secs(5), || hops("r2", "10.99.0.0/16")
            == want
            && hops("r1", "10.99.0.0/16").is_empty()
            && hops("r1", "10.98.0.0/16").is_empty()),
        "after preemption: r1 {:?} r2 {:?}\n{}",
        lab.must("r1", "ip route show"),
        lab.must("r2", "ip route show"),
        r1.log_text()
    );
    assert!(!lab.has_addr("r1", VIP));
    r1.signal(libc::SIGTERM);
    r2.signal(libc::SIGTERM);
    assert_eq!(r1.wait_exit(Duration::from_secs(5)), Some(0));
    assert_eq!(r2.wait_exit(Duration::from_secs(5)), Some(0));
    assert!(hops("r2", "10.99.0.0/16").is_empty(), "left after SIGTERM");
}
