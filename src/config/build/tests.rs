//! Building and resolving: keepalived's defaults, globals folded into instances, the
//! inheritance of checker options, deprecated aliases.

use super::super::model::*;
use super::super::{load_str, LoadOptions, Loaded};
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

fn load(text: &str) -> Loaded {
    load_str(text, Path::new("t.conf"), &LoadOptions::default())
}

fn clean(text: &str) -> Config {
    let l = load(text);
    assert!(l.diagnostics.is_empty(), "{:#?}", l.diagnostics);
    l.config
}

const VI: &str = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 9\n";

#[test]
fn instance_defaults() {
    let c = clean(&format!("{VI} virtual_ipaddress {{\n  10.0.0.1\n }}\n}}\n"));
    let i = &c.instances[0];
    assert_eq!(i.priority, 100);
    assert_eq!(i.vrid, 9);
    assert_eq!(i.version, VrrpVersion::V2);
    assert_eq!(i.family, Family::Inet);
    assert_eq!(i.advert_int, Duration::from_secs(1));
    assert_eq!(i.initial_state, InitialState::Backup);
    assert!(i.accept);
    assert!(!i.strict_mode);
    assert!(!i.lower_prio_no_advert);
    assert_eq!(i.down_timer_adverts, 3);
    assert_eq!(i.garp, GarpSettings::default());
    assert_eq!(i.vips[0].prefix_len, 32);
}

#[test]
fn globals_fold_into_instances_and_instances_win() {
    let c = clean(&format!(
        "global_defs {{\n vrrp_version 3\n vrrp_garp_master_delay 10\n vrrp_garp_master_repeat 2\n \
         vrrp_lower_prio_no_advert\n vrrp_skip_check_adv_addr\n vrrp_down_timer_adverts 5\n \
         vrrp_garp_interval 0.001\n vrrp_check_unicast_src\n smtp_alert_vrrp on\n}}\n\
         {VI} garp_master_repeat 7\n advert_int 0.5\n virtual_ipaddress {{\n  10.0.0.1/24\n }}\n}}\n"
    ));
    let i = &c.instances[0];
    assert_eq!(i.version, VrrpVersion::V3);
    assert_eq!(i.advert_int, Duration::from_millis(500));
    assert_eq!(i.garp.master_delay, Duration::from_secs(10));
    assert_eq!(i.garp.lower_prio_delay, Duration::from_secs(10));
    assert_eq!(i.garp.master_repeat, 7);
    assert_eq!(i.garp.interval, Duration::from_millis(1));
    assert!(i.lower_prio_no_advert);
    assert!(i.skip_check_adv_addr);
    assert!(i.check_unicast_src);
    assert!(i.smtp_alert);
    assert_eq!(i.down_timer_adverts, 5);
}

#[test]
fn lower_prio_delay_follows_master_delay_in_any_order() {
    let c = clean("global_defs {\n vrrp_garp_lower_prio_delay 3\n vrrp_garp_master_delay 8\n}\n");
    assert_eq!(c.global.vrrp_garp.lower_prio_delay, Duration::from_secs(3));
    assert_eq!(c.global.vrrp_garp.master_delay, Duration::from_secs(8));
    let c = clean("global_defs {\n vrrp_min_garp\n}\n");
    assert_eq!(c.global.vrrp_garp.master_repeat, 1);
    assert_eq!(c.global.vrrp_garp.master_delay, Duration::ZERO);
}

#[test]
fn strict_mode_resolves_accept_and_adverts() {
    let c = clean(&format!(
        "global_defs {{\n vrrp_strict\n}}\n{VI} virtual_ipaddress {{\n  10.0.0.1\n }}\n}}\n\
         vrrp_instance VI_2 {{\n interface eth0\n virtual_router_id 10\n priority 255\n state MASTER\n \
         virtual_ipaddress {{\n  10.0.0.2\n }}\n}}\n"
    ));
    assert!(c.instances[0].strict_mode);
    assert!(!c.instances[0].accept, "no_accept unless the address owner");
    assert!(c.instances[0].lower_prio_no_advert);
    assert!(c.instances[1].accept, "the owner accepts");
}

#[test]
fn ipv6_forces_version_3_and_vmac_defaults() {
    let c = clean(&format!(
        "{VI} use_vmac\n virtual_ipaddress {{\n  fe80::1/64\n  2001:db8::1/64\n }}\n}}\n"
    ));
    let i = &c.instances[0];
    assert_eq!(i.family, Family::Inet6);
    assert_eq!(i.version, VrrpVersion::V3);
    let v = i.use_vmac.as_ref().expect("vmac");
    assert_eq!(v.name, "vrrp.9");
    assert_eq!(v.mac, [0, 0, 0x5e, 0, 2, 9]);
}

#[test]
fn auth_pass_is_eight_bytes_and_scripts_split() {
    let c = clean(&format!(
        "{VI} authentication {{\n  auth_type PASS\n  auth_pass 1234567890\n }}\n \
         notify_master \"/usr/bin/x a 'b c'\" nobody\n virtual_ipaddress {{\n  10.0.0.1\n }}\n}}\n"
    ));
    let i = &c.instances[0];
    assert_eq!(i.auth, Some(Auth::Pass(*b"12345678")));
    let n = i.notify.master.as_ref().expect("notify_master");
    assert_eq!(n.argv, vec!["/usr/bin/x", "a", "b c"]);
    assert_eq!(n.user.as_deref(), Some("nobody"));
}

#[test]
fn checker_options_inherit_vs_rs_checker() {
    let c = clean(
        "virtual_server 10.0.0.1 80 {\n protocol TCP\n delay_loop 10\n lb_algo rr\n lb_kind DR\n nb_get_retry 4\n \
         real_server 10.0.1.1 80 {\n  connect_timeout 2\n  HTTP_GET {\n   url {\n    path /\n   }\n  }\n  \
         DNS_CHECK {\n   retry 9\n  }\n  MISC_CHECK {\n   misc_path \"/bin/check x\"\n  }\n }\n}\n",
    );
    let vs = &c.virtual_servers[0];
    assert_eq!(vs.lvs_sched, "rr");
    assert_eq!(vs.lvs_method, LvsMethod::Dr);
    let rs = &vs.real_servers[0];
    assert_eq!(
        rs.lvs_method,
        LvsMethod::Dr,
        "the VS method is the RS default"
    );
    let http = &rs.checkers[0];
    assert_eq!(http.delay_loop, Duration::from_secs(10));
    assert_eq!(http.connect_timeout, Duration::from_secs(2));
    assert_eq!(http.retry, 4);
    assert_eq!(http.delay_before_retry, Duration::from_secs(3));
    assert_eq!(http.warmup, Duration::from_secs(10));
    match &http.kind {
        CheckerKind::Http(h) => assert_eq!(h.urls[0].status_codes, vec![(200, 299)]),
        k => panic!("{k:?}"),
    }
    let dns = &rs.checkers[1];
    assert_eq!(dns.retry, 9);
    assert_eq!(
        dns.delay_before_retry,
        Duration::from_secs(10),
        "DNS: delay_loop"
    );
    assert_eq!(
        dns.kind,
        CheckerKind::Dns {
            qtype: "SOA".into(),
            name: ".".into()
        }
    );
    let misc = &rs.checkers[2];
    assert_eq!(misc.retry, 4, "the VS retry beats MISC's default 0");
}

#[test]
fn deprecated_aliases_are_accepted() {
    let c = clean("vrrp_track_file tf {\n file /run/x\n weight -10 reverse\n}\n");
    assert_eq!(c.track_files[0].name, "tf");
    assert_eq!(c.track_files[0].weight, -10);
    assert!(c.track_files[0].reverse);
}

#[test]
fn sync_group_and_unicast() {
    let c = clean(&format!(
        "{VI} unicast_src_ip 10.0.0.1\n unicast_peer {{\n  10.0.0.2 min_ttl 250\n  10.0.0.3\n }}\n \
         virtual_ipaddress {{\n  10.0.0.9\n }}\n}}\n\
         vrrp_instance VI_2 {{\n interface eth1\n virtual_router_id 9\n virtual_ipaddress {{\n  10.1.0.9\n }}\n}}\n\
         vrrp_sync_group G {{\n group {{\n  VI_1\n  VI_2\n }}\n notify /bin/n\n}}\n"
    ));
    let i = &c.instances[0];
    assert_eq!(i.unicast_peers.len(), 2);
    assert_eq!(i.unicast_peers[0].min_ttl, Some(250));
    assert!(i.check_unicast_src, "a TTL bound turns the source check on");
    assert_eq!(
        i.unicast_src_ip,
        Some("10.0.0.1".parse::<IpAddr>().unwrap())
    );
    assert_eq!(c.sync_groups[0].members, vec!["VI_1", "VI_2"]);
}

#[test]
fn advert_int_rounding_reports_and_rounds() {
    let l = load(&format!(
        "{VI} advert_int 2.4\n virtual_ipaddress {{\n  10.0.0.1\n }}\n}}\n"
    ));
    assert_eq!(l.config.instances[0].advert_int, Duration::from_secs(2));
    assert_eq!(l.diagnostics.len(), 1);
    let l = load(&format!(
        "{VI} version 3\n advert_int 0.004\n virtual_ipaddress {{\n  10.0.0.1\n }}\n}}\n"
    ));
    assert_eq!(l.config.instances[0].advert_int, Duration::from_secs(1));
    assert!(l.has_errors());
}

#[test]
fn global_multicast_group_applies_to_multicast_instances() {
    let c = clean(&format!(
        "global_defs {{\n vrrp_mcast_group4 224.0.0.99\n}}\n{VI} virtual_ipaddress {{\n  10.0.0.1\n }}\n}}\n"
    ));
    assert_eq!(
        c.instances[0].mcast_dst_ip,
        Some("224.0.0.99".parse::<IpAddr>().unwrap())
    );
    let c = clean(&format!("{VI} virtual_ipaddress {{\n  10.0.0.1\n }}\n}}\n"));
    assert_eq!(
        c.instances[0].mcast_dst_ip, None,
        "None means the RFC group"
    );
}

#[test]
fn state_master_without_priority_is_the_owner() {
    let c = clean(&format!(
        "{VI} state MASTER\n virtual_ipaddress {{\n  10.0.0.1\n }}\n}}\n"
    ));
    assert_eq!(c.instances[0].priority, 255);
    let c = clean(&format!(
        "{VI} state MASTER\n priority 90\n virtual_ipaddress {{\n  10.0.0.1\n }}\n}}\n"
    ));
    assert_eq!(c.instances[0].priority, 90);
}

#[test]
fn v3_checksum_as_v2_global_and_instance() {
    let c = clean(&format!(
        "global_defs {{\n v3_checksum_as_v2\n}}\n{VI} version 3\n virtual_ipaddress {{\n  10.0.0.1\n }}\n}}\n\
         vrrp_instance VI_2 {{\n interface eth0\n virtual_router_id 10\n version 3\n v3_checksum_as_v2 off\n \
         virtual_ipaddress {{\n  10.0.0.2\n }}\n}}\n"
    ));
    assert!(c.instances[0].v3_checksum_as_v2);
    assert!(!c.instances[1].v3_checksum_as_v2);
    let d = super::super::dump::dump(&c);
    let again = clean(&d);
    assert!(again.instances[0].v3_checksum_as_v2);
    assert!(!again.instances[1].v3_checksum_as_v2);
}

#[test]
fn sync_group_alert_defaults_follow_globals() {
    let c = clean(&format!(
        "global_defs {{\n smtp_alert on\n vrrp_notify_priority_changes on\n}}\n\
         {VI} virtual_ipaddress {{\n  10.0.0.1\n }}\n}}\n\
         vrrp_instance VI_2 {{\n interface eth1\n virtual_router_id 9\n virtual_ipaddress {{\n  10.1.0.9\n }}\n}}\n\
         vrrp_sync_group G {{\n group {{\n  VI_1\n  VI_2\n }}\n}}\n"
    ));
    assert!(c.sync_groups[0].smtp_alert);
    assert!(c.sync_groups[0].notify_priority_changes);
}

#[test]
fn five_octet_vmac_takes_the_vrid() {
    let c = clean(&format!(
        "{VI} use_vmac vr9 02:11:22:33:44\n virtual_ipaddress {{\n  10.0.0.1\n }}\n}}\n"
    ));
    let v = c.instances[0].use_vmac.as_ref().expect("vmac");
    assert_eq!(v.name, "vr9");
    assert_eq!(v.mac, [0x02, 0x11, 0x22, 0x33, 0x44, 9]);
}

#[test]
fn url_regex_is_compiled_at_load() {
    let http = |url_body: &str| {
        format!(
            "virtual_server 10.0.0.1 80 {{\n protocol TCP\n lb_algo rr\n lb_kind DR\n real_server 10.0.1.1 80 {{\n  \
             HTTP_GET {{\n   url {{\n    path /\n{url_body}   }}\n  }}\n }}\n}}\n"
        )
    };
    let c = clean(&http(
        "    regex \"wor.d\"\n    regex_options caseless multiline\n",
    ));
    let rs = &c.virtual_servers[0].real_servers[0];
    let CheckerKind::Http(h) = &rs.checkers[0].kind else {
        panic!()
    };
    assert_eq!(h.urls[0].regex.as_deref(), Some("wor.d"));

    // PCRE-only syntax: a located error.
    let l = load(&http("    regex \"(?<=a)b\"\n"));
    assert_eq!(l.diagnostics.len(), 1, "{:#?}", l.diagnostics);
    let d = &l.diagnostics[0];
    assert_eq!(d.severity, super::super::Severity::Error);
    assert!(d.message.contains("not supported"), "{}", d.message);
    assert!(d.to_string().starts_with("t.conf:9:"), "{d}");

    // Unsupported and unknown options: warnings; regex_stack (no effect) and options
    // without a regex are accepted silently, as keepalived does.
    let l = load(&http(
        "    regex \"x\"\n    regex_options alt_bsux bogus\n    regex_stack 100 200\n",
    ));
    let w: Vec<_> = l.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(w.len(), 2, "{w:#?}");
    assert!(l
        .diagnostics
        .iter()
        .all(|d| d.severity == super::super::Severity::Warning));
    assert!(w.iter().any(|m| m.contains("'alt_bsux'")), "{w:?}");
    assert!(w.iter().any(|m| m.contains("'bogus'")), "{w:?}");
    clean(&http("    regex_options caseless\n"));
}

#[test]
fn smtp_server_host_names_are_a_run_time_notice() {
    let c = clean("global_defs {\n smtp_server 192.0.2.25 2525\n}\n");
    assert_eq!(c.global.smtp_server.as_deref(), Some("192.0.2.25"));
    assert_eq!(c.global.smtp_server_port, Some(2525));
    let l = load("global_defs {\n smtp_server mail.example.com\n}\n");
    assert_eq!(l.diagnostics.len(), 1, "{:#?}", l.diagnostics);
    let d = &l.diagnostics[0];
    assert_eq!(d.kind, super::super::diag::Kind::RunTimeNotice);
    assert!(!d.counts(), "-t status stays 0, as keepalived's");
    assert!(d.message.contains("mail.example.com"), "{}", d.message);
    assert_eq!(
        l.config.global.smtp_server.as_deref(),
        Some("mail.example.com")
    );
}
