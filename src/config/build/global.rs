//! `global_defs` and the top-level process keywords (`net_namespace`, `instance`, ...).

use super::super::model::*;
use super::super::tree::Node;
use super::values::{Ctx, Shape};
use std::time::Duration;

/// How a keyword kept in `GlobalDefs::other` is typed.
#[derive(Clone, Copy)]
pub enum Kind {
    Flag,
    /// `[<BOOL>]`.
    OptBool,
    Int(i64, i64),
    /// `[N]`: stored as `Flag` without a value.
    OptInt(i64, i64),
    Str,
    /// Any number of words (possibly none).
    Words,
}

/// The rarely used `global_defs` keywords, with their types.
pub const OTHER: &[(&str, Kind)] = &[
    ("tmp_config_directory", Kind::Str),
    ("config_save_dir", Kind::Str),
    ("process_names", Kind::Flag),
    ("process_name", Kind::Str),
    ("vrrp_process_name", Kind::Str),
    ("checker_process_name", Kind::Str),
    ("bfd_process_name", Kind::Str),
    ("nftables", Kind::Words),
    ("nftables_priority", Kind::Int(-1000, 1000)),
    ("nftables_counters", Kind::Flag),
    ("nftables_ifindex", Kind::Flag),
    ("nftables_ipvs", Kind::Words),
    ("nftables_ipvs_priority", Kind::Int(-1000, 1000)),
    ("nftables_ipvs_start_fwmark", Kind::Int(1, 4294967295)),
    ("vrrp_iptables", Kind::Words),
    ("vrrp_ipsets", Kind::Words),
    ("disable_local_igmp", Kind::Flag),
    ("max_auto_priority", Kind::OptInt(-1, 99)),
    ("min_auto_priority_delay", Kind::Int(1, 10_000_000)),
    ("vrrp_priority", Kind::Int(-20, 19)),
    ("checker_priority", Kind::Int(-20, 19)),
    ("bfd_priority", Kind::Int(-20, 19)),
    ("vrrp_no_swap", Kind::Flag),
    ("checker_no_swap", Kind::Flag),
    ("bfd_no_swap", Kind::Flag),
    ("vrrp_cpu_affinity", Kind::Words),
    ("checker_cpu_affinity", Kind::Words),
    ("bfd_cpu_affinity", Kind::Words),
    ("vrrp_rt_priority", Kind::Int(1, 99)),
    ("checker_rt_priority", Kind::Int(1, 99)),
    ("bfd_rt_priority", Kind::Int(1, 99)),
    ("vrrp_rlimit_rttime", Kind::Int(2, 2147483647)),
    ("checker_rlimit_rttime", Kind::Int(2, 2147483647)),
    ("bfd_rlimit_rttime", Kind::Int(2, 2147483647)),
    ("snmp_socket", Kind::Str),
    ("enable_snmp_vrrp", Kind::Flag),
    ("enable_snmp_keepalived", Kind::Flag),
    ("enable_snmp_checker", Kind::Flag),
    ("enable_snmp_rfc", Kind::Flag),
    ("enable_snmp_rfcv2", Kind::Flag),
    ("enable_snmp_rfcv3", Kind::Flag),
    ("enable_traps", Kind::Flag),
    ("enable_dbus", Kind::Flag),
    ("dbus_service_name", Kind::Str),
    ("vrrp_netlink_cmd_rcv_bufs", Kind::Int(0, 4294967295)),
    ("vrrp_netlink_cmd_rcv_bufs_force", Kind::OptBool),
    ("vrrp_netlink_monitor_rcv_bufs", Kind::Int(0, 4294967295)),
    ("vrrp_netlink_monitor_rcv_bufs_force", Kind::OptBool),
    ("lvs_netlink_cmd_rcv_bufs", Kind::Int(0, 4294967295)),
    ("lvs_netlink_cmd_rcv_bufs_force", Kind::OptBool),
    ("lvs_netlink_monitor_rcv_bufs", Kind::Int(0, 4294967295)),
    ("lvs_netlink_monitor_rcv_bufs_force", Kind::OptBool),
    ("process_monitor_rcv_bufs", Kind::Int(0, 4294967295)),
    ("process_monitor_rcv_bufs_force", Kind::OptBool),
    ("vrrp_rx_bufs_policy", Kind::Str),
    ("vrrp_rx_bufs_multiplier", Kind::Int(1, 1000)),
    ("rs_init_notifies", Kind::Flag),
    ("no_checker_emails", Kind::Flag),
    ("umask", Kind::Words),
    ("log_unknown_vrids", Kind::Flag),
    ("vmac_prefix", Kind::Str),
    ("vmac_addr_prefix", Kind::Str),
    ("random_seed", Kind::Int(0, 4294967295)),
    ("reload_check_config", Kind::Words),
    ("include_check", Kind::Words),
    ("reload_time_file", Kind::Str),
    ("reload_repeat", Kind::Flag),
    ("reload_file", Kind::Words),
    ("data_use_instance", Kind::OptBool),
];

/// `global_defs` keywords keepalived takes once (a repeat is reported and ignored).
const ONCE: &[&str] = &[
    "metrics_listen",
    "notify_fifo",
    "notify_fifo_script",
    "vrrp_notify_fifo",
    "vrrp_notify_fifo_script",
    "lvs_notify_fifo",
    "lvs_notify_fifo_script",
    "startup_script",
    "shutdown_script",
    "vmac_prefix",
    "lvs_sync_daemon",
];

/// The typed keywords of `global_defs`.
pub(super) const TYPED: &[(&str, Shape)] = &[
    ("router_id", Shape::Line),
    ("notification_email", Shape::Any),
    ("notification_email_from", Shape::Line),
    ("smtp_server", Shape::Line),
    ("smtp_helo_name", Shape::Line),
    ("smtp_connect_timeout", Shape::Line),
    ("smtp_alert", Shape::Line),
    ("smtp_alert_vrrp", Shape::Line),
    ("smtp_alert_checker", Shape::Line),
    ("checker_log_all_failures", Shape::Line),
    ("no_email_faults", Shape::Line),
    ("script_user", Shape::Line),
    ("enable_script_security", Shape::Line),
    ("vrrp_strict", Shape::Line),
    ("vrrp_mcast_group4", Shape::Line),
    ("vrrp_mcast_group6", Shape::Line),
    ("default_interface", Shape::Line),
    ("lvs_sync_daemon", Shape::Line),
    ("lvs_timeouts", Shape::Line),
    ("lvs_flush", Shape::Line),
    ("lvs_flush_on_stop", Shape::Line),
    ("vrrp_garp_master_delay", Shape::Line),
    ("vrrp_garp_master_repeat", Shape::Line),
    ("vrrp_garp_lower_prio_delay", Shape::Line),
    ("vrrp_garp_lower_prio_repeat", Shape::Line),
    ("vrrp_garp_master_refresh", Shape::Line),
    ("vrrp_garp_master_refresh_repeat", Shape::Line),
    ("vrrp_garp_interval", Shape::Line),
    ("vrrp_gna_interval", Shape::Line),
    ("vrrp_min_garp", Shape::Line),
    ("vrrp_garp_extra_if", Shape::Line),
    ("vrrp_down_timer_adverts", Shape::Line),
    ("vrrp_lower_prio_no_advert", Shape::Line),
    ("vrrp_higher_prio_send_advert", Shape::Line),
    ("vrrp_version", Shape::Line),
    ("vrrp_check_unicast_src", Shape::Line),
    ("vrrp_skip_check_adv_addr", Shape::Line),
    ("vrrp_notify_priority_changes", Shape::Line),
    ("vrrp_startup_delay", Shape::Line),
    ("notify_fifo", Shape::Line),
    ("notify_fifo_script", Shape::Line),
    ("vrrp_notify_fifo", Shape::Line),
    ("vrrp_notify_fifo_script", Shape::Line),
    ("lvs_notify_fifo", Shape::Line),
    ("lvs_notify_fifo_script", Shape::Line),
    ("fifo_write_vrrp_states_on_reload", Shape::Line),
    ("startup_script", Shape::Line),
    ("startup_script_timeout", Shape::Line),
    ("shutdown_script", Shape::Line),
    ("shutdown_script_timeout", Shape::Line),
    ("dynamic_interfaces", Shape::Line),
    ("v3_checksum_as_v2", Shape::Line),
    ("metrics_listen", Shape::Line),
];

pub fn global_defs(ctx: &mut Ctx, config: &mut Config, children: &[Node]) {
    let mut table: Vec<(&'static str, Shape)> = TYPED.to_vec();
    table.extend(OTHER.iter().map(|(k, _)| (*k, Shape::Line)));
    let mut seen = Vec::new();
    for c in children {
        if !ctx.check_keyword(c, &table) {
            continue;
        }
        let kw = c.keyword.text.as_str();
        if ONCE.contains(&kw) && !ctx.first_time(&mut seen, c) {
            continue;
        }
        if kw == "vrrp_iptables" || kw == "vrrp_ipsets" {
            // Debian's keepalived 2.2.7 is built with nftables only, and says so.
            ctx.warn(
                &c.keyword.span,
                format!("{kw}: iptables is not supported; use nftables"),
            );
        }
        snmp_notes(ctx, c, kw);
        if let Some((_, kind)) = OTHER.iter().find(|(k, _)| *k == kw) {
            if let Some(v) = other_value(ctx, c, *kind) {
                config.global.other.insert(kw.to_string(), v);
            }
        } else {
            typed(ctx, &mut config.global, c);
        }
    }
    // Defaults that follow other keywords, whatever their order in the block.
    let given = |k: &str| children.iter().any(|c| c.keyword.text == k);
    let g = &mut config.global;
    if g.vrrp_min_garp {
        if !given("vrrp_garp_master_repeat") {
            g.vrrp_garp.master_repeat = 1;
        }
        if !given("vrrp_garp_master_delay") {
            g.vrrp_garp.master_delay = Duration::ZERO;
        }
    }
    if !given("vrrp_garp_lower_prio_delay") {
        g.vrrp_garp.lower_prio_delay = g.vrrp_garp.master_delay;
    }
}

/// SNMP keywords keepalived accepts but we cannot serve: KEEPALIVED-MIB's checker part
/// is not implemented, and a `snmp_socket` we cannot use (e.g. `udp:`). Said at -t and at
/// start as notices (the file is as valid as for keepalived).
fn snmp_notes(ctx: &mut Ctx, c: &Node, kw: &str) {
    match kw {
        "enable_snmp_checker" => ctx.run_time_notice(
            &c.keyword.span,
            "enable_snmp_checker: KEEPALIVED-MIB's checker part is not implemented".to_string(),
        ),
        "snmp_socket" => {
            if let Some(w) = c.args.first() {
                if let Err(e) = crate::snmp::settings::parse_socket(&w.text) {
                    ctx.run_time_notice(&w.span, format!("{e}; SNMP stays off"));
                }
            }
        }
        _ => {}
    }
}

fn other_value(ctx: &mut Ctx, c: &Node, kind: Kind) -> Option<GlobalValue> {
    Some(match kind {
        Kind::Flag => {
            ctx.flag(c);
            GlobalValue::Flag
        }
        Kind::OptBool => GlobalValue::Bool(ctx.opt_bool(c)),
        Kind::Int(lo, hi) => GlobalValue::Int(ctx.int_arg(c, lo, hi)?),
        Kind::OptInt(lo, hi) => {
            if c.args.is_empty() {
                GlobalValue::Flag
            } else {
                GlobalValue::Int(ctx.int_arg(c, lo, hi)?)
            }
        }
        Kind::Str => GlobalValue::Str(ctx.string_arg(c)?),
        Kind::Words => GlobalValue::Words(c.args.iter().map(|w| w.text.clone()).collect()),
    })
}

fn secs(v: i64) -> Duration {
    Duration::from_secs(v.max(0) as u64)
}

fn typed(ctx: &mut Ctx, g: &mut GlobalDefs, c: &Node) {
    let kw = c.keyword.text.as_str();
    match kw {
        "router_id" => g.router_id = ctx.string_arg(c),
        "notification_email" => {
            let block = c.children.as_deref().unwrap_or(&[]);
            if c.args.is_empty() && block.is_empty() {
                ctx.warn(
                    &c.keyword.span,
                    "notification_email: empty; no address given".to_string(),
                );
            }
            for a in &c.args {
                g.notification_email.push(a.text.clone());
            }
            for e in c.children.as_deref().unwrap_or(&[]) {
                g.notification_email.push(e.keyword.text.clone());
                for a in &e.args {
                    g.notification_email.push(a.text.clone());
                }
            }
        }
        "notification_email_from" => g.notification_email_from = ctx.string_arg(c),
        "smtp_server" => {
            if let Some(w) = ctx.arg(c, 0, "server") {
                if w.text.parse::<std::net::IpAddr>().is_ok() {
                    g.smtp_server = Some(w.text.clone());
                } else if is_hostname(&w.text) {
                    g.smtp_server = Some(w.text.clone());
                    // keepalived resolves it when it reads the file; we do not (yet).
                    ctx.run_time_notice(
                        &w.span,
                        format!(
                            "smtp_server {}: host names are not resolved by this version; \
                             no e-mail alert will be sent (give an IP address)",
                            w.text
                        ),
                    );
                } else {
                    ctx.error(
                        &w.span,
                        format!(
                            "smtp_server: '{}' is not an IP address or host name",
                            w.text
                        ),
                    );
                }
            }
            if let Some(p) = c.args.get(1) {
                g.smtp_server_port = ctx.int_word("smtp_server", p, 1, 65535).map(|v| v as u16);
            }
            ctx.no_extra(c, 2);
        }
        "smtp_helo_name" => g.smtp_helo_name = ctx.string_arg(c),
        "smtp_connect_timeout" => {
            if let Some(v) = ctx.int_arg(c, 1, 3600) {
                g.smtp_connect_timeout = secs(v);
            }
        }
        "smtp_alert" => g.smtp_alert = Some(ctx.opt_bool(c)),
        "smtp_alert_vrrp" => g.smtp_alert_vrrp = Some(ctx.opt_bool(c)),
        "smtp_alert_checker" => g.smtp_alert_checker = Some(ctx.opt_bool(c)),
        "checker_log_all_failures" => g.checker_log_all_failures = ctx.opt_bool(c),
        "no_email_faults" => g.no_email_faults = ctx.flag(c),
        "script_user" => {
            if let Some(w) = ctx.arg(c, 0, "user name") {
                g.script_user = Some(w.text.clone());
            }
            g.script_group = c.args.get(1).map(|w| w.text.clone());
            ctx.no_extra(c, 2);
        }
        "enable_script_security" => g.enable_script_security = ctx.flag(c),
        "vrrp_strict" => g.vrrp_strict = ctx.flag(c),
        "vrrp_mcast_group4" => {
            if let Some(w) = ctx.arg(c, 0, "IPv4 multicast address") {
                match w.text.parse::<std::net::Ipv4Addr>() {
                    Ok(a) if a.is_multicast() => g.vrrp_mcast_group4 = a,
                    _ => ctx.error(
                        &w.span,
                        format!(
                            "vrrp_mcast_group4: '{}' is not an IPv4 multicast address",
                            w.text
                        ),
                    ),
                }
            }
            ctx.no_extra(c, 1);
        }
        "vrrp_mcast_group6" => {
            if let Some(w) = ctx.arg(c, 0, "IPv6 multicast address") {
                match w.text.parse::<std::net::Ipv6Addr>() {
                    Ok(a) if a.is_multicast() => g.vrrp_mcast_group6 = a,
                    _ => ctx.error(
                        &w.span,
                        format!(
                            "vrrp_mcast_group6: '{}' is not an IPv6 multicast address",
                            w.text
                        ),
                    ),
                }
            }
            ctx.no_extra(c, 1);
        }
        "default_interface" => g.default_interface = ctx.string_arg(c),
        "lvs_sync_daemon" => g.lvs_sync_daemon = lvs_sync_daemon(ctx, c),
        "lvs_timeouts" => g.lvs_timeouts = lvs_timeouts(ctx, c),
        "lvs_flush" => g.lvs_flush = ctx.flag(c),
        "lvs_flush_on_stop" => {
            let vs = match c.args.first() {
                None => false,
                Some(w) if w.text == "VS" => true,
                Some(w) => {
                    ctx.error(
                        &w.span,
                        format!("lvs_flush_on_stop: unexpected argument '{}'", w.text),
                    );
                    false
                }
            };
            ctx.no_extra(c, 1);
            g.lvs_flush_on_stop = Some(vs);
        }
        "vrrp_garp_master_delay" => {
            if let Some(v) = ctx.int_arg(c, 0, 4294) {
                g.vrrp_garp.master_delay = secs(v);
            }
        }
        "vrrp_garp_master_repeat" => {
            if let Some(v) = ctx.int_arg(c, 1, i64::from(i32::MAX)) {
                g.vrrp_garp.master_repeat = v as u32;
            }
        }
        "vrrp_garp_lower_prio_delay" => {
            if let Some(v) = ctx.int_arg(c, 0, 4294) {
                g.vrrp_garp.lower_prio_delay = secs(v);
            }
        }
        "vrrp_garp_lower_prio_repeat" => {
            if let Some(v) = ctx.int_arg(c, 0, i64::from(i32::MAX)) {
                g.vrrp_garp.lower_prio_repeat = Some(v as u32);
            }
        }
        "vrrp_garp_master_refresh" => {
            if let Some(v) = ctx.int_arg(c, 0, 4294) {
                g.vrrp_garp.master_refresh = if v == 0 { None } else { Some(secs(v)) };
            }
        }
        "vrrp_garp_master_refresh_repeat" => {
            if let Some(v) = ctx.int_arg(c, 1, i64::from(i32::MAX)) {
                g.vrrp_garp.master_refresh_repeat = v as u32;
            }
        }
        "vrrp_garp_interval" => {
            if let Some(d) = ctx.timer_arg(c, 0.000001, 4294.967295) {
                g.vrrp_garp.interval = d;
            }
        }
        "vrrp_gna_interval" => {
            if let Some(d) = ctx.timer_arg(c, 0.000001, 4294.967295) {
                g.vrrp_garp.na_interval = d;
            }
        }
        "vrrp_min_garp" => g.vrrp_min_garp = ctx.opt_bool(c),
        "vrrp_garp_extra_if" => g.vrrp_garp_extra_if = super::vrrp::garp_extra_if(ctx, c),
        "vrrp_down_timer_adverts" => {
            g.vrrp_down_timer_adverts = ctx.int_arg(c, 1, 100).map(|v| v as u32)
        }
        "vrrp_lower_prio_no_advert" => g.vrrp_lower_prio_no_advert = ctx.opt_bool(c),
        "vrrp_higher_prio_send_advert" => g.vrrp_higher_prio_send_advert = ctx.opt_bool(c),
        "vrrp_version" => {
            if let Some(v) = ctx.int_arg(c, 2, 3) {
                g.vrrp_version = Some(if v == 2 {
                    VrrpVersion::V2
                } else {
                    VrrpVersion::V3
                });
            }
        }
        "vrrp_check_unicast_src" => g.vrrp_check_unicast_src = ctx.flag(c),
        "vrrp_skip_check_adv_addr" => g.vrrp_skip_check_adv_addr = ctx.opt_bool(c),
        "vrrp_notify_priority_changes" => g.vrrp_notify_priority_changes = ctx.opt_bool(c),
        "vrrp_startup_delay" => g.vrrp_startup_delay = ctx.timer_arg(c, 0.001, 4294.967295),
        "notify_fifo" => g.notify_fifo = fifo(ctx, c),
        "vrrp_notify_fifo" => g.vrrp_notify_fifo = fifo(ctx, c),
        "lvs_notify_fifo" => g.lvs_notify_fifo = fifo(ctx, c),
        "notify_fifo_script" => g.notify_fifo_script = ctx.script_arg(c),
        "vrrp_notify_fifo_script" => g.vrrp_notify_fifo_script = ctx.script_arg(c),
        "lvs_notify_fifo_script" => g.lvs_notify_fifo_script = ctx.script_arg(c),
        "fifo_write_vrrp_states_on_reload" => g.fifo_write_vrrp_states_on_reload = ctx.flag(c),
        "startup_script" => g.startup_script = ctx.script_arg(c),
        "shutdown_script" => g.shutdown_script = ctx.script_arg(c),
        "startup_script_timeout" => {
            if let Some(v) = ctx.int_arg(c, 1, 1000) {
                g.startup_script_timeout = secs(v);
            }
        }
        "shutdown_script_timeout" => {
            if let Some(v) = ctx.int_arg(c, 1, 1000) {
                g.shutdown_script_timeout = secs(v);
            }
        }
        "v3_checksum_as_v2" => g.v3_checksum_as_v2 = ctx.opt_bool(c),
        "metrics_listen" => g.metrics_listen = metrics_listen(ctx, c),
        "dynamic_interfaces" => {
            let allow = match c.args.first() {
                None => false,
                Some(w) if w.text == "allow_if_changes" => true,
                Some(w) => {
                    ctx.error(
                        &w.span,
                        format!("dynamic_interfaces: unexpected argument '{}'", w.text),
                    );
                    false
                }
            };
            ctx.no_extra(c, 1);
            g.dynamic_interfaces = Some(allow);
        }
        _ => {}
    }
}

/// `metrics_listen ADDRESS:PORT` (extension): `127.0.0.1:9650`, `[::1]:9650`.
fn metrics_listen(ctx: &mut Ctx, c: &Node) -> Option<std::net::SocketAddr> {
    let w = ctx.arg(c, 0, "ADDRESS:PORT")?;
    ctx.no_extra(c, 1);
    match w.text.parse::<std::net::SocketAddr>() {
        Ok(a) if a.port() != 0 => Some(a),
        _ => {
            ctx.error(
                &w.span,
                format!(
                    "metrics_listen: '{}' is not ADDRESS:PORT (e.g. 127.0.0.1:9650 or [::1]:9650)",
                    w.text
                ),
            );
            None
        }
    }
}

/// `FIFO [USER [GROUP]]`: the path (the user and group only matter to the reader script).
fn fifo(ctx: &mut Ctx, c: &Node) -> Option<String> {
    let w = ctx.arg(c, 0, "FIFO path")?;
    let p = w.text.clone();
    ctx.no_extra(c, 3);
    Some(p)
}

fn lvs_sync_daemon(ctx: &mut Ctx, c: &Node) -> Option<LvsSyncDaemon> {
    let w = ctx.arg(c, 0, "interface")?;
    let mut d = LvsSyncDaemon {
        interface: w.text.clone(),
        instance: None,
        sync_id: None,
        maxlen: None,
        port: None,
        ttl: None,
        group: None,
    };
    let mut i = 1;
    while i < c.args.len() {
        let w = &c.args[i];
        let next = c.args.get(i + 1);
        match (w.text.as_str(), next) {
            ("inst", Some(n)) => d.instance = Some(n.text.clone()),
            ("id", Some(n)) => {
                d.sync_id = ctx
                    .int_word("lvs_sync_daemon id", n, 0, 255)
                    .map(|v| v as u8)
            }
            ("maxlen", Some(n)) => {
                d.maxlen = ctx
                    .int_word("lvs_sync_daemon maxlen", n, 1, 65507)
                    .map(|v| v as u16)
            }
            ("port", Some(n)) => {
                d.port = ctx
                    .int_word("lvs_sync_daemon port", n, 1, 65535)
                    .map(|v| v as u16)
            }
            ("ttl", Some(n)) => {
                d.ttl = ctx
                    .int_word("lvs_sync_daemon ttl", n, 1, 255)
                    .map(|v| v as u8)
            }
            ("group", Some(n)) => d.group = ctx.ip_word("lvs_sync_daemon group", n),
            ("inst" | "id" | "maxlen" | "port" | "ttl" | "group", None) => {
                ctx.error(
                    &w.span,
                    format!("lvs_sync_daemon: {} needs a value", w.text),
                );
            }
            (t, _) if i == 1 && d.instance.is_none() => {
                d.instance = Some(t.to_string());
                i += 1;
                continue;
            }
            (t, _) => {
                ctx.error(
                    &w.span,
                    format!("lvs_sync_daemon: unexpected argument '{t}'"),
                );
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    Some(d)
}

fn lvs_timeouts(ctx: &mut Ctx, c: &Node) -> Option<LvsTimeouts> {
    let mut t = LvsTimeouts::default();
    let mut i = 0;
    if c.args.is_empty() {
        ctx.error(
            &c.keyword.span,
            "lvs_timeouts: at least one of tcp, tcpfin, udp is needed".to_string(),
        );
        return None;
    }
    while i < c.args.len() {
        let w = &c.args[i];
        let Some(n) = c.args.get(i + 1) else {
            ctx.error(&w.span, format!("lvs_timeouts: {} needs a value", w.text));
            break;
        };
        let v = ctx
            .int_word(&format!("lvs_timeouts {}", w.text), n, 1, 86400 * 365)
            .map(|v| v as u32);
        match w.text.as_str() {
            "tcp" => t.tcp = v,
            "tcpfin" => t.tcpfin = v,
            "udp" => t.udp = v,
            o => ctx.error(&w.span, format!("lvs_timeouts: unexpected argument '{o}'")),
        }
        i += 2;
    }
    Some(t)
}

/// The process placement keywords (top level only, as keepalived 2.2.7).
pub fn process_keyword(ctx: &mut Ctx, p: &mut ProcessDefs, c: &Node) {
    match c.keyword.text.as_str() {
        "net_namespace" => p.net_namespace = ctx.string_arg(c),
        "net_namespace_ipvs" => {
            p.net_namespace_ipvs = Some(c.args.first().map(|w| w.text.clone()));
            ctx.no_extra(c, 1);
        }
        "namespace_with_ipsets" => p.namespace_with_ipsets = ctx.flag(c),
        "instance" => p.instance = ctx.string_arg(c),
        "use_pid_dir" => p.use_pid_dir = ctx.flag(c),
        "linkbeat_use_polling" => p.linkbeat_use_polling = ctx.flag(c),
        "child_wait_time" => {
            p.child_wait_time = ctx.int_arg(c, 0, i64::from(u32::MAX)).map(|v| v as u32)
        }
        _ => {}
    }
}

/// A DNS host name: labels of letters, digits and '-', not starting or ending with '-'.
fn is_hostname(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}
