//! `vrrp_instance` and `vrrp_sync_group` blocks, and the address / route / rule / track
//! lines they share with the static blocks.

use super::super::model::*;
use super::super::tree::Node;
use super::super::Span;
use super::values::{parse_prefix, Ctx, Shape};
use std::time::Duration;

/// The keywords of `vrrp_instance`.
pub const INSTANCE: &[(&str, Shape)] = &[
    ("state", Shape::Line),
    ("interface", Shape::Line),
    ("vrf", Shape::Line),
    ("use_vmac", Shape::Line),
    ("use_vmac_addr", Shape::Line),
    ("vmac_xmit_base", Shape::Line),
    ("use_ipvlan", Shape::Line),
    ("native_ipv6", Shape::Line),
    ("dont_track_primary", Shape::Line),
    ("track_interface", Shape::Block),
    ("track_script", Shape::Block),
    ("track_file", Shape::Block),
    ("track_process", Shape::Block),
    ("track_bfd", Shape::Block),
    ("mcast_src_ip", Shape::Line),
    ("unicast_src_ip", Shape::Line),
    ("mcast_dst_ip", Shape::Line),
    ("track_src_ip", Shape::Line),
    ("version", Shape::Line),
    ("check_unicast_src", Shape::Line),
    ("unicast_peer", Shape::Block),
    ("unicast_fault_no_peer", Shape::Line),
    ("unicast_ttl", Shape::Line),
    ("old_unicast_checksum", Shape::Line),
    ("v3_checksum_as_v2", Shape::Line),
    ("garp_master_delay", Shape::Line),
    ("garp_master_repeat", Shape::Line),
    ("garp_lower_prio_delay", Shape::Line),
    ("garp_lower_prio_repeat", Shape::Line),
    ("garp_master_refresh", Shape::Line),
    ("garp_master_refresh_repeat", Shape::Line),
    ("garp_extra_if", Shape::Line),
    ("down_timer_adverts", Shape::Line),
    ("lower_prio_no_advert", Shape::Line),
    ("higher_prio_send_advert", Shape::Line),
    ("virtual_router_id", Shape::Line),
    ("priority", Shape::Line),
    ("advert_int", Shape::Line),
    ("authentication", Shape::Block),
    ("virtual_ipaddress", Shape::Block),
    ("virtual_ipaddress_excluded", Shape::Block),
    ("promote_secondaries", Shape::Line),
    ("virtual_routes", Shape::Block),
    ("virtual_rules", Shape::Block),
    ("accept", Shape::Line),
    ("no_accept", Shape::Line),
    ("nopreempt", Shape::Line),
    ("preempt", Shape::Line),
    ("preempt_delay", Shape::Line),
    ("skip_check_adv_addr", Shape::Line),
    ("strict_mode", Shape::Line),
    ("debug", Shape::Line),
    ("notify_master", Shape::Line),
    ("notify_backup", Shape::Line),
    ("notify_fault", Shape::Line),
    ("notify_stop", Shape::Line),
    ("notify_deleted", Shape::Line),
    ("notify", Shape::Line),
    ("notify_master_rx_lower_pri", Shape::Line),
    ("notify_conflict", Shape::Line),
    ("notify_priority_changes", Shape::Line),
    ("smtp_alert", Shape::Line),
    ("kernel_rx_buf_size", Shape::Line),
    ("linkbeat_use_polling", Shape::Line),
    ("lvs_sync_daemon_interface", Shape::Line),
];

pub(super) const SYNC_GROUP: &[(&str, Shape)] = &[
    ("group", Shape::Block),
    ("track_interface", Shape::Block),
    ("track_script", Shape::Block),
    ("track_file", Shape::Block),
    ("track_process", Shape::Block),
    ("track_bfd", Shape::Block),
    ("notify_master", Shape::Line),
    ("notify_backup", Shape::Line),
    ("notify_fault", Shape::Line),
    ("notify_stop", Shape::Line),
    ("notify", Shape::Line),
    ("notify_priority_changes", Shape::Line),
    ("smtp_alert", Shape::Line),
    ("global_tracking", Shape::Line),
    ("sync_group_tracking_weight", Shape::Line),
];

const AUTH: &[(&str, Shape)] = &[("auth_type", Shape::Line), ("auth_pass", Shape::Line)];

/// Values an instance gave explicitly, kept apart so `resolve` can fill the rest from
/// `global_defs`, and the spans `validate` reports at.
#[derive(Default, Clone)]
pub struct Explicit {
    pub version: Option<(VrrpVersion, Span)>,
    pub advert_int: Option<(Duration, Span)>,
    pub priority: Option<Span>,
    pub vrid: Option<Span>,
    pub state: Option<Span>,
    pub interface: Option<Span>,
    pub auth: Option<Span>,
    pub auth_type: Option<(String, Span)>,
    pub auth_pass: Option<(String, Span)>,
    pub preempt_delay: Option<Span>,
    pub nopreempt: Option<Span>,
    pub down_timer_adverts: Option<u32>,
    pub accept: Option<(bool, Span)>,
    pub strict: Option<bool>,
    pub skip_check_adv_addr: Option<bool>,
    pub check_unicast_src: Option<bool>,
    pub smtp_alert: Option<bool>,
    pub notify_priority_changes: Option<bool>,
    pub v3_checksum_as_v2: Option<bool>,
    /// `use_vmac` gave a 5-octet MAC: the VRID is its last octet.
    pub vmac_short: bool,
    pub native_ipv6: bool,
    /// What few instances set, boxed so that the many that don't stay small (see
    /// [`Explicit::rare`]).
    pub unicast_peer: Option<Span>,
    /// The span of each unicast peer line, parallel to `unicast_peers`.
    pub peer_spans: Vec<Span>,
    pub rare: Option<Box<RareExplicit>>,
}

/// The explicit values that few instances give (gratuitous ARP tuning, advert variants,
/// the unicast source): out of line, since a draft of every instance is held until the whole
/// file is read.
#[derive(Default, Clone)]
pub struct RareExplicit {
    pub vmac_xmit_base: Option<Span>,
    pub garp_master_delay: Option<Duration>,
    pub garp_master_repeat: Option<u32>,
    pub garp_lower_prio_delay: Option<Duration>,
    pub garp_lower_prio_repeat: Option<u32>,
    pub garp_master_refresh: Option<Duration>,
    pub garp_master_refresh_repeat: Option<u32>,
    pub garp_extra_if: Option<GarpExtraIf>,
    pub lower_prio_no_advert: Option<(bool, Span)>,
    pub higher_prio_send_advert: Option<(bool, Span)>,
    pub unicast_src_ip: Option<Span>,
}

impl Explicit {
    /// The rarely given values, made on first use.
    pub fn rare(&mut self) -> &mut RareExplicit {
        self.rare.get_or_insert_with(Box::default)
    }
}

/// An instance as written, before globals are folded in.
pub struct Draft {
    pub inst: VrrpInstance,
    pub ex: Explicit,
}

pub fn instance(ctx: &mut Ctx, node: &Node) -> Option<Draft> {
    let name = match node.args.first() {
        Some(w) => w.text.clone(),
        None => {
            ctx.error(
                &node.keyword.span,
                "vrrp_instance: missing instance name".to_string(),
            );
            return None;
        }
    };
    ctx.no_extra(node, 1);
    let mut inst = VrrpInstance::with_defaults(&name, node.keyword.span.clone());
    let mut ex = Explicit::default();
    let mut seen = Vec::new();
    for c in node.children.as_deref().unwrap_or(&[]) {
        if !ctx.check_keyword(c, INSTANCE) {
            continue;
        }
        if matches!(c.keyword.text.as_str(), "use_vmac" | "notify_deleted")
            && !ctx.first_time(&mut seen, c)
        {
            continue;
        }
        instance_keyword(ctx, &mut inst, &mut ex, c);
    }
    Some(Draft { inst, ex })
}

fn kids(node: &Node) -> &[Node] {
    node.children.as_deref().unwrap_or(&[])
}

fn instance_keyword(ctx: &mut Ctx, inst: &mut VrrpInstance, ex: &mut Explicit, c: &Node) {
    let kw = c.keyword.text.as_str();
    let span = &c.keyword.span;
    match kw {
        "state" => {
            if let Some(w) = ctx.arg(c, 0, "MASTER|BACKUP") {
                match w.text.to_ascii_uppercase().as_str() {
                    "MASTER" => inst.initial_state = InitialState::Master,
                    "BACKUP" => inst.initial_state = InitialState::Backup,
                    _ => ctx.error(
                        &w.span,
                        format!("state: '{}' is not MASTER or BACKUP", w.text),
                    ),
                }
                ex.state = Some(span.clone());
            }
            ctx.no_extra(c, 1);
        }
        "interface" => {
            if let Some(s) = ctx.string_arg(c) {
                if s == "lo" {
                    // As keepalived 2.2.7: the loopback cannot carry VRRP; an interface
                    // given before stays.
                    ctx.error(
                        &c.args[0].span,
                        format!("vrrp_instance {}: cannot use a loopback interface (lo) for vrrp - ignoring", inst.name),
                    );
                    return;
                }
                inst.interface = Some(s);
                ex.interface = Some(c.args[0].span.clone());
            }
        }
        "vrf" => inst.vrf = ctx.string_arg(c),
        "use_vmac" => {
            let mut name = None;
            let mut mac = None;
            for w in &c.args {
                if let Some(m) = parse_mac(&w.text) {
                    mac = Some(m);
                    ex.vmac_short = w.text.split(':').count() == 5;
                } else if name.is_none() && mac.is_none() {
                    name = Some(w.text.clone());
                } else {
                    ctx.error(
                        &w.span,
                        format!("use_vmac: '{}' is not a MAC address", w.text),
                    );
                }
            }
            // The VRID may come later: build leaves the defaults to `resolve`.
            inst.use_vmac = Some(Vmac {
                name: name.unwrap_or_default(),
                mac: mac.unwrap_or([0; 6]),
            });
        }
        "use_vmac_addr" => inst.use_vmac_addr = ctx.flag(c),
        "vmac_xmit_base" => {
            inst.vmac_xmit_base = ctx.flag(c);
            ex.rare().vmac_xmit_base = Some(span.clone());
        }
        "use_ipvlan" => {
            let mut v = Ipvlan {
                name: None,
                addr: None,
                mode: None,
            };
            for w in &c.args {
                match w.text.as_str() {
                    "bridge" | "private" | "vepa" => v.mode = Some(w.text.clone()),
                    t => {
                        if let Ok(p) = parse_prefix(t) {
                            v.addr = Some(p);
                        } else if v.name.is_none() && v.addr.is_none() {
                            v.name = Some(t.to_string());
                        } else {
                            ctx.error(&w.span, format!("use_ipvlan: unexpected argument '{t}'"));
                        }
                    }
                }
            }
            inst.use_ipvlan = Some(Box::new(v));
            // Accepted as keepalived accepts it (same -t status), but not run here.
            ctx.run_time_notice(
                span,
                format!(
                    "use_ipvlan: not implemented in this version; {} runs on its interface without an ipvlan",
                    inst.name
                ),
            );
        }
        "native_ipv6" => {
            ex.native_ipv6 = ctx.flag(c);
            inst.family = Family::Inet6;
        }
        "dont_track_primary" => inst.dont_track_primary = ctx.flag(c),
        "track_interface" => inst.track_interfaces = track_refs(ctx, c, 253),
        "track_script" => inst.track_scripts = track_refs(ctx, c, 253),
        "track_file" => inst.track_files = track_refs(ctx, c, 254),
        "track_process" => inst.track_processes = track_refs(ctx, c, 254),
        "track_bfd" => inst.track_bfds = track_refs(ctx, c, 253),
        "mcast_src_ip" => inst.mcast_src_ip = ctx.ip_arg(c),
        "unicast_src_ip" => {
            inst.unicast_src_ip = ctx.ip_arg(c);
            ex.rare().unicast_src_ip = Some(span.clone());
        }
        "mcast_dst_ip" => {
            if let Some(a) = ctx.ip_arg(c) {
                if a.is_multicast() {
                    inst.mcast_dst_ip = Some(a);
                } else {
                    ctx.error(
                        &c.args[0].span,
                        format!("mcast_dst_ip: {a} is not a multicast address"),
                    );
                }
            }
        }
        "track_src_ip" => inst.track_src_ip = ctx.flag(c),
        "version" => {
            if let Some(v) = ctx.int_arg(c, 2, 3) {
                let v = if v == 2 {
                    VrrpVersion::V2
                } else {
                    VrrpVersion::V3
                };
                ex.version = Some((v, span.clone()));
            }
        }
        "check_unicast_src" => ex.check_unicast_src = Some(ctx.flag(c)),
        "unicast_peer" => {
            ctx.no_extra(c, 0);
            ex.unicast_peer = Some(span.clone());
            for p in kids(c) {
                if let Some(peer) = unicast_peer(ctx, p) {
                    inst.unicast_peers.push(peer);
                    ex.peer_spans.push(p.keyword.span.clone());
                }
            }
        }
        "unicast_fault_no_peer" => inst.unicast_fault_no_peer = ctx.flag(c),
        "unicast_ttl" => inst.unicast_ttl = ctx.int_arg(c, 0, 255).map(|v| v as u8),
        "old_unicast_checksum" => {
            let never = match c.args.first() {
                None => false,
                Some(w) if w.text == "never" => true,
                Some(w) => {
                    ctx.error(
                        &w.span,
                        format!("old_unicast_checksum: unexpected argument '{}'", w.text),
                    );
                    false
                }
            };
            ctx.no_extra(c, 1);
            inst.old_unicast_checksum = Some(never);
        }
        "v3_checksum_as_v2" => ex.v3_checksum_as_v2 = Some(ctx.opt_bool(c)),
        "garp_master_delay" => {
            ex.rare().garp_master_delay = ctx.int_arg(c, 0, 4294).map(|v| secs(v as u64))
        }
        "garp_master_repeat" => {
            ex.rare().garp_master_repeat = ctx.int_arg(c, 1, i64::from(i32::MAX)).map(|v| v as u32)
        }
        "garp_lower_prio_delay" => {
            ex.rare().garp_lower_prio_delay = ctx.int_arg(c, 0, 4294).map(|v| secs(v as u64))
        }
        "garp_lower_prio_repeat" => {
            ex.rare().garp_lower_prio_repeat =
                ctx.int_arg(c, 0, i64::from(i32::MAX)).map(|v| v as u32)
        }
        "garp_master_refresh" => {
            ex.rare().garp_master_refresh = ctx.int_arg(c, 0, 4294).map(|v| secs(v as u64))
        }
        "garp_master_refresh_repeat" => {
            ex.rare().garp_master_refresh_repeat =
                ctx.int_arg(c, 1, i64::from(i32::MAX)).map(|v| v as u32)
        }
        "garp_extra_if" => ex.rare().garp_extra_if = garp_extra_if(ctx, c),
        "down_timer_adverts" => ex.down_timer_adverts = ctx.int_arg(c, 1, 100).map(|v| v as u32),
        "lower_prio_no_advert" => {
            ex.rare().lower_prio_no_advert = Some((ctx.opt_bool(c), span.clone()))
        }
        "higher_prio_send_advert" => {
            ex.rare().higher_prio_send_advert = Some((ctx.opt_bool(c), span.clone()))
        }
        "virtual_router_id" => {
            // Given, even if invalid: "not set" would be a second report of one mistake.
            ex.vrid = Some(span.clone());
            if let Some(v) = ctx.int_arg(c, 1, 255) {
                inst.vrid = v as u8;
            }
        }
        "priority" => {
            if let Some(v) = ctx.int_arg(c, 1, 255) {
                inst.priority = v as u8;
                ex.priority = Some(span.clone());
            }
        }
        "advert_int" => {
            if let Some(d) = ctx.timer_arg(c, 0.0, 255.0) {
                ex.advert_int = Some((d, c.args[0].span.clone()));
            }
        }
        "authentication" => {
            ctx.no_extra(c, 0);
            ex.auth = Some(span.clone());
            for a in kids(c) {
                if !ctx.check_keyword(a, AUTH) {
                    continue;
                }
                if let Some(s) = ctx.string_arg(a) {
                    let v = Some((s, a.args[0].span.clone()));
                    if a.keyword.text == "auth_type" {
                        ex.auth_type = v;
                    } else {
                        ex.auth_pass = v;
                    }
                }
            }
        }
        "virtual_ipaddress" | "virtual_ipaddress_excluded" => {
            ctx.no_extra(c, 0);
            for a in kids(c) {
                if let Some(addr) = address(ctx, kw, a, false) {
                    if kw == "virtual_ipaddress" {
                        inst.vips.push(addr);
                    } else {
                        inst.excluded_vips.push(addr);
                    }
                }
            }
        }
        "promote_secondaries" => inst.promote_secondaries = ctx.flag(c),
        "virtual_routes" => {
            ctx.no_extra(c, 0);
            for r in kids(c) {
                if let Some(r) = super::iproute::route(ctx, kw, r, true) {
                    inst.virtual_routes.push(r);
                }
            }
        }
        "virtual_rules" => {
            ctx.no_extra(c, 0);
            for r in kids(c) {
                if let Some(r) = super::iproute::rule(ctx, kw, r, true) {
                    inst.virtual_rules.push(r);
                }
            }
        }
        "accept" => ex.accept = Some((ctx.flag(c), span.clone())),
        "no_accept" => ex.accept = Some((!ctx.flag(c), span.clone())),
        "nopreempt" => {
            inst.nopreempt = ctx.flag(c);
            ex.nopreempt = Some(span.clone());
        }
        "preempt" => inst.nopreempt = !ctx.flag(c),
        "preempt_delay" => {
            if let Some(d) = ctx.timer_arg(c, 0.0, 1000.0) {
                inst.preempt_delay = d;
                ex.preempt_delay = Some(span.clone());
            }
        }
        "skip_check_adv_addr" => ex.skip_check_adv_addr = Some(ctx.opt_bool(c)),
        "strict_mode" => ex.strict = Some(ctx.opt_bool(c)),
        "debug" => inst.debug = ctx.int_arg(c, 0, 4).map(|v| v as u8),
        "notify_master" => ctx.set_notify(&mut inst.notify.master, c),
        "notify_backup" => ctx.set_notify(&mut inst.notify.backup, c),
        "notify_fault" => ctx.set_notify(&mut inst.notify.fault, c),
        "notify_stop" => ctx.set_notify(&mut inst.notify.stop, c),
        "notify_deleted" => inst.notify.deleted = notify_deleted(ctx, c).map(Box::new),
        "notify" => ctx.set_notify(&mut inst.notify.any, c),
        "notify_master_rx_lower_pri" => ctx.set_notify(&mut inst.notify.master_rx_lower_pri, c),
        "notify_conflict" => ctx.set_notify(&mut inst.notify.conflict, c),
        "notify_priority_changes" => ex.notify_priority_changes = Some(ctx.opt_bool(c)),
        "smtp_alert" => ex.smtp_alert = Some(ctx.opt_bool(c)),
        "kernel_rx_buf_size" => {
            inst.kernel_rx_buf_size = ctx.int_arg(c, 0, i64::from(u32::MAX)).map(|v| v as u32)
        }
        "linkbeat_use_polling" => {
            inst.linkbeat_use_polling = ctx.flag(c);
            ctx.warn(
                span,
                "linkbeat_use_polling: deprecated in a vrrp_instance; use a linkbeat_interfaces block".to_string(),
            );
        }
        "lvs_sync_daemon_interface" => {
            inst.lvs_sync_daemon_interface = ctx.string_arg(c);
            ctx.warn(
                span,
                "lvs_sync_daemon_interface: deprecated in a vrrp_instance; use global_defs lvs_sync_daemon".to_string(),
            );
        }
        _ => {}
    }
}

fn secs(v: u64) -> Duration {
    Duration::from_secs(v)
}

/// `notify_deleted [SCRIPT [USER [GROUP]]]`: without a script, an empty command says
/// "report DELETED".
fn notify_deleted(ctx: &mut Ctx, c: &Node) -> Option<ScriptCommand> {
    if c.args.is_empty() {
        return Some(ScriptCommand::default());
    }
    ctx.script_arg(c)
}

pub fn garp_extra_if(ctx: &mut Ctx, c: &Node) -> Option<GarpExtraIf> {
    let mut all = false;
    let mut i = 0;
    if c.args.first().is_some_and(|w| w.text == "all") {
        all = true;
        i = 1;
    }
    let w = match c.args.get(i) {
        Some(w) => w,
        None => {
            ctx.error(
                &c.keyword.span,
                format!("{}: missing interval", c.keyword.text),
            );
            return None;
        }
    };
    let v = ctx.int_word(&c.keyword.text, w, 0, 86400)?;
    ctx.no_extra(c, i + 1);
    Some(GarpExtraIf {
        all,
        interval: secs(v as u64),
    })
}

/// The lines of a `track_*` block: `NAME [weight N [reverse|noreverse|no_reverse]]`.
pub fn track_refs(ctx: &mut Ctx, node: &Node, max_weight: i64) -> Vec<TrackRef> {
    ctx.no_extra(node, 0);
    let block = node.keyword.text.as_str();
    let mut out = Vec::new();
    for c in kids(node) {
        let mut r = TrackRef {
            name: c.keyword.text.clone(),
            weight: None,
            reverse: false,
            span: c.keyword.span.clone(),
        };
        let mut i = 0;
        while i < c.args.len() {
            let w = &c.args[i];
            match w.text.as_str() {
                "weight" => match c.args.get(i + 1) {
                    Some(v) => {
                        r.weight = ctx
                            .int_word(&format!("{block} weight"), v, -max_weight, max_weight)
                            .map(|v| v as i32);
                        i += 1;
                    }
                    None => ctx.error(&w.span, format!("{block}: weight needs a value")),
                },
                "reverse" => r.reverse = true,
                "noreverse" | "no_reverse" => r.reverse = false,
                t => ctx.error(&w.span, format!("{block}: unexpected argument '{t}'")),
            }
            i += 1;
        }
        if c.open_brace.is_some() {
            ctx.error(&c.keyword.span, format!("{block}: unexpected block"));
        }
        if out.iter().any(|o: &TrackRef| o.name == r.name) {
            ctx.warn(
                &r.span,
                format!("{block}: {} is listed twice; this one is ignored", r.name),
            );
            continue;
        }
        out.push(r);
    }
    out
}

fn unicast_peer(ctx: &mut Ctx, p: &Node) -> Option<UnicastPeer> {
    let addr = ctx.ip_word("unicast_peer", &p.keyword)?;
    let mut peer = UnicastPeer {
        addr,
        min_ttl: None,
        max_ttl: None,
    };
    let mut i = 0;
    while i < p.args.len() {
        let w = &p.args[i];
        match w.text.as_str() {
            "min_ttl" | "max_ttl" => match p.args.get(i + 1) {
                Some(v) => {
                    let t = ctx.int_word(&w.text, v, 0, 255).map(|v| v as u8);
                    if w.text == "min_ttl" {
                        peer.min_ttl = t;
                    } else {
                        peer.max_ttl = t;
                    }
                    i += 1;
                }
                None => ctx.error(&w.span, format!("unicast_peer: {} needs a value", w.text)),
            },
            t => ctx.error(&w.span, format!("unicast_peer: unexpected argument '{t}'")),
        }
        i += 1;
    }
    Some(peer)
}

/// An address line: `IP[/LEN] [brd IP|+|-] [dev IF] [scope S] [label L] ...`.
pub fn address(ctx: &mut Ctx, block: &str, a: &Node, is_static: bool) -> Option<VirtualAddress> {
    let (addr, prefix_len) = match parse_prefix(&a.keyword.text) {
        Ok(p) => p,
        Err(e) => {
            ctx.error(&a.keyword.span, format!("{block}: {e}"));
            return None;
        }
    };
    let mut v = VirtualAddress::new(addr, prefix_len, a.keyword.span.clone());
    let args = &a.args;
    let mut i = 0;
    while i < args.len() {
        let w = &args[i];
        let next = args.get(i + 1);
        let takes_value = matches!(
            w.text.as_str(),
            "brd"
                | "broadcast"
                | "dev"
                | "scope"
                | "label"
                | "peer"
                | "preferred_lft"
                | "track_group"
        );
        if takes_value && next.is_none() {
            ctx.error(&w.span, format!("{block}: {} needs a value", w.text));
            break;
        }
        match (w.text.as_str(), next) {
            ("brd" | "broadcast", Some(n)) => {
                match n.text.as_str() {
                    "+" => v.options.brd_set_host_bits = Some(true),
                    "-" => v.options.brd_set_host_bits = Some(false),
                    t => match t.parse::<std::net::Ipv4Addr>() {
                        Ok(b) if addr.is_ipv4() => v.brd = Some(b),
                        _ => ctx.error(
                            &n.span,
                            format!("{block}: '{t}' is not an IPv4 broadcast address"),
                        ),
                    },
                }
                i += 1;
            }
            ("dev", Some(n)) => {
                v.dev = Some(n.text.clone());
                i += 1;
            }
            ("scope", Some(n)) => {
                match n.text.as_str() {
                    "global" | "site" | "link" | "host" | "nowhere" => {
                        v.scope = Some(n.text.clone())
                    }
                    t if t.parse::<u8>().is_ok() => v.scope = Some(t.to_string()),
                    t => ctx.error(&n.span, format!("{block}: '{t}' is not a scope")),
                }
                i += 1;
            }
            ("label", Some(n)) => {
                v.label = Some(n.text.clone());
                i += 1;
            }
            ("peer", Some(n)) => {
                match parse_prefix(&n.text) {
                    Ok((p, _)) if p.is_ipv4() == addr.is_ipv4() => v.peer = Some(p),
                    _ => ctx.error(
                        &n.span,
                        format!(
                            "{block}: '{}' is not a peer address of the same family",
                            n.text
                        ),
                    ),
                }
                i += 1;
            }
            ("preferred_lft", Some(n)) => {
                if n.text == "forever" {
                    v.options.preferred_forever = true;
                } else if let Some(x) = ctx.int_word("preferred_lft", n, 0, i64::from(u32::MAX)) {
                    v.preferred_lft = Some(x as u32);
                }
                i += 1;
            }
            ("track_group", Some(n)) if is_static => {
                v.options.track_group = Some(n.text.clone());
                i += 1;
            }
            ("-nodad" | "nodad", _) => v.no_dad = true,
            ("home", _) => v.options.home = true,
            ("mngtmpaddr", _) => v.options.mngtmpaddr = true,
            ("noprefixroute", _) => v.options.noprefixroute = true,
            ("autojoin", _) => v.options.autojoin = true,
            ("no_track", _) if !is_static => v.options.no_track = true,
            ("use_vmac", _) if !is_static => v.options.use_vmac = true,
            (t, _) => ctx.error(
                &w.span,
                format!(
                    "{block}: unknown option '{t}' for address {}",
                    a.keyword.text
                ),
            ),
        }
        i += 1;
    }
    if a.open_brace.is_some() {
        ctx.error(&a.keyword.span, format!("{block}: unexpected block"));
    }
    Some(v)
}

/// `aa:bb:cc:dd:ee[:ff]` (with 5 octets, `resolve` appends the VRID).
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() != 6 && parts.len() != 5 {
        return None;
    }
    let mut mac = [0u8; 6];
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty() || p.len() > 2 {
            return None;
        }
        mac[i] = u8::from_str_radix(p, 16).ok()?;
    }
    Some(mac)
}

pub fn sync_group(ctx: &mut Ctx, node: &Node) -> Option<SyncGroup> {
    let name = match node.args.first() {
        Some(w) => w.text.clone(),
        None => {
            ctx.error(
                &node.keyword.span,
                "vrrp_sync_group: missing group name".to_string(),
            );
            return None;
        }
    };
    ctx.no_extra(node, 1);
    let mut g = SyncGroup {
        name,
        span: node.keyword.span.clone(),
        members: Vec::new(),
        track_interfaces: Vec::new(),
        track_scripts: Vec::new(),
        track_files: Vec::new(),
        track_processes: Vec::new(),
        notify: NotifyScripts::default(),
        smtp_alert: false,
        sync_group_tracking_weight: false,
        track_bfds: Vec::new(),
        notify_priority_changes: false,
        global_tracking: false,
    };
    for c in kids(node) {
        if !ctx.check_keyword(c, SYNC_GROUP) {
            continue;
        }
        match c.keyword.text.as_str() {
            "group" => {
                ctx.no_extra(c, 0);
                for m in kids(c) {
                    g.members.push(m.keyword.text.clone());
                    for extra in &m.args {
                        g.members.push(extra.text.clone());
                    }
                }
            }
            "track_interface" => g.track_interfaces = track_refs(ctx, c, 253),
            "track_script" => g.track_scripts = track_refs(ctx, c, 253),
            "track_file" => g.track_files = track_refs(ctx, c, 254),
            "track_process" => g.track_processes = track_refs(ctx, c, 254),
            "track_bfd" => g.track_bfds = track_refs(ctx, c, 253),
            "notify_master" => ctx.set_notify(&mut g.notify.master, c),
            "notify_backup" => ctx.set_notify(&mut g.notify.backup, c),
            "notify_fault" => ctx.set_notify(&mut g.notify.fault, c),
            "notify_stop" => ctx.set_notify(&mut g.notify.stop, c),
            "notify" => ctx.set_notify(&mut g.notify.any, c),
            "notify_priority_changes" => g.notify_priority_changes = ctx.opt_bool(c),
            "smtp_alert" => g.smtp_alert = ctx.opt_bool(c),
            "global_tracking" => {
                g.global_tracking = ctx.flag(c);
                ctx.warn(
                    &c.keyword.span,
                    "global_tracking: deprecated; use track_interface/track_script/track_file on the sync group".to_string(),
                );
            }
            "sync_group_tracking_weight" => g.sync_group_tracking_weight = ctx.flag(c),
            _ => {}
        }
    }
    Some(g)
}
