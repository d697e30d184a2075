//! Folding `global_defs` into each instance (version, advert_int rounding, GARP, accept,
//! strict mode, ...), then handing the whole model to `validate`.

use super::super::model::*;
use super::super::script_check::Host;
use super::super::{LoadOptions, Span};
use super::validate;
use super::values::{fmt_duration, Ctx};
use super::vrrp::{Draft, RareExplicit};
use super::Builder;
use std::net::IpAddr;
use std::time::Duration;

pub fn finish(ctx: &mut Ctx, b: Builder, opts: &LoadOptions, host: Option<&dyn Host>) -> Config {
    let mut config = b.config;
    let global = config.global.clone();
    let mut drafts = b.instances;
    for (g, (smtp, prio)) in config.sync_groups.iter_mut().zip(&b.group_explicit) {
        if !smtp {
            g.smtp_alert = global
                .smtp_alert_vrrp
                .or(global.smtp_alert)
                .unwrap_or(false);
        }
        if !prio {
            g.notify_priority_changes = global.vrrp_notify_priority_changes;
        }
    }
    for d in &mut drafts {
        resolve_instance(ctx, &global, d);
        ctx.tick();
    }
    validate::validate(
        ctx,
        &mut config,
        &mut drafts,
        opts,
        host,
        b.global_span,
        &b.vs_protocol,
    );
    config.instances = drafts
        .into_iter()
        .map(|mut d| {
            // Validation rebuilt some lists.
            super::compact::instance(&mut d.inst);
            ctx.tick();
            d.inst
        })
        .collect();
    // The collect reuses the drafts' (larger) allocation: give the spare back.
    config.instances.shrink_to_fit();
    config
}

fn family_of(a: &IpAddr) -> Family {
    if a.is_ipv4() {
        Family::Inet
    } else {
        Family::Inet6
    }
}

fn family_name(f: Family) -> &'static str {
    match f {
        Family::Inet => "IPv4",
        Family::Inet6 => "IPv6",
    }
}

pub(super) fn fam_name(f: Family) -> &'static str {
    family_name(f)
}

fn resolve_instance(ctx: &mut Ctx, g: &GlobalDefs, d: &mut Draft) {
    let inst = &mut d.inst;
    let ex = &mut d.ex;
    let no_rare = RareExplicit::default();
    let rare = ex.rare.as_deref().unwrap_or(&no_rare);
    let name = inst.name.clone();

    // keepalived: `state MASTER` without a priority makes the address owner.
    if inst.initial_state == InitialState::Master && ex.priority.is_none() {
        inst.priority = 255;
    }

    // Preemption settings that cannot work, reset as keepalived does.
    if inst.nopreempt {
        let span = ex.nopreempt.clone().unwrap_or_else(|| inst.span.clone());
        if inst.priority == 255 {
            ctx.warn(
                &span,
                format!("nopreempt: {name} has priority 255 (the address owner), which always takes over; ignored"),
            );
            inst.nopreempt = false;
        } else if inst.initial_state == InitialState::Master {
            ctx.warn(
                &span,
                format!("nopreempt: does not work with state MASTER in {name}; ignored"),
            );
            inst.nopreempt = false;
        }
    }
    if !inst.preempt_delay.is_zero() && inst.nopreempt {
        let span = ex
            .preempt_delay
            .clone()
            .unwrap_or_else(|| inst.span.clone());
        ctx.warn(
            &span,
            format!("preempt_delay: has no effect with nopreempt in {name}; using 0"),
        );
        inst.preempt_delay = Duration::ZERO;
    }
    if !inst.preempt_delay.is_zero() && inst.initial_state == InitialState::Master {
        let span = ex
            .preempt_delay
            .clone()
            .unwrap_or_else(|| inst.span.clone());
        ctx.warn(
            &span,
            format!("preempt_delay: does not work with state MASTER in {name}; using 0"),
        );
        inst.preempt_delay = Duration::ZERO;
    }

    // Address family: the first VIP decides; every other VIP must match.
    if ex.native_ipv6 {
        inst.family = Family::Inet6;
    } else if let Some(first) = inst.vips.first() {
        inst.family = family_of(&first.addr);
    } else if let Some(a) = inst.unicast_src_ip.or(inst.mcast_src_ip) {
        inst.family = family_of(&a);
    } else if let Some(p) = inst.unicast_peers.first() {
        inst.family = family_of(&p.addr);
    }
    let fam = inst.family;
    let mut kept = Vec::with_capacity(inst.vips.len());
    for v in std::mem::take(&mut inst.vips) {
        if family_of(&v.addr) != fam {
            ctx.error(
                &v.span,
                format!(
                    "virtual_ipaddress: {} is {} but {} is an {} instance; addresses of both families need virtual_ipaddress_excluded",
                    v.addr,
                    family_name(family_of(&v.addr)),
                    name,
                    family_name(fam)
                ),
            );
        } else {
            kept.push(v);
        }
    }
    inst.vips = kept;

    // Version: explicit, else global, else 2; IPv6 always 3.
    let mut version = ex
        .version
        .as_ref()
        .map(|(v, _)| *v)
        .or(g.vrrp_version)
        .unwrap_or(VrrpVersion::V2);
    if fam == Family::Inet6 && version == VrrpVersion::V2 {
        if let Some((VrrpVersion::V2, span)) = &ex.version {
            ctx.warn(
                span,
                format!("version: {name} has IPv6 addresses, which need VRRPv3; using version 3"),
            );
        }
        version = VrrpVersion::V3;
    }
    inst.version = version;

    // advert_int, rounded for the version.
    if let Some((d, span)) = ex.advert_int.clone() {
        inst.advert_int = round_advert_int(ctx, &name, version, d, &span);
    }

    // Authentication (VRRPv2 only).
    if let Some(auth_span) = ex.auth.clone() {
        if inst.auth.is_some() && version == VrrpVersion::V3 {
            ctx.warn(
                &auth_span,
                format!("authentication: {name} uses VRRPv3, which has no authentication; ignored"),
            );
            inst.auth = None;
        }
    }
    if matches!(inst.auth, Some(Auth::Ah(_)))
        && inst.initial_state == InitialState::Master
        && inst.priority != 255
    {
        let span = ex.state.clone().unwrap_or_else(|| inst.span.clone());
        ctx.warn(
            &span,
            format!("state: MASTER is incompatible with AH authentication in {name}; using BACKUP"),
        );
        inst.initial_state = InitialState::Backup;
    }

    if inst.vrf.is_some() && inst.interface.is_some() {
        ctx.warn(
            &inst.span,
            format!("vrf: {name} has an interface, whose VRF applies; vrf ignored"),
        );
        inst.vrf = None;
    } else if inst.vrf.is_some() {
        ctx.run_time_notice(
            &inst.span,
            format!("vrf: not implemented in this version; {name} runs outside the VRF"),
        );
    }
    if let Some(v) = &inst.use_ipvlan {
        if v.addr.is_none() && fam == Family::Inet {
            ctx.warn(
                &inst.span,
                format!("use_ipvlan: an IPv4 ipvlan needs an address ({name} starts in FAULT)"),
            );
        }
    }
    if inst.use_vmac.is_some() && inst.interface.is_none() {
        ctx.warn(
            &inst.span,
            format!("use_vmac: {name} has no interface to put the VMAC on; use_vmac ignored"),
        );
        inst.use_vmac = None;
    }
    if inst.vmac_xmit_base && inst.use_vmac.is_none() {
        let span = rare
            .vmac_xmit_base
            .clone()
            .unwrap_or_else(|| inst.span.clone());
        ctx.warn(
            &span,
            format!("vmac_xmit_base: {name} has no use_vmac; ignored"),
        );
        inst.vmac_xmit_base = false;
    }
    if inst.use_vmac.is_some() && !inst.unicast_peers.is_empty() && !inst.vmac_xmit_base {
        ctx.warn(
            &inst.span,
            format!("use_vmac: unicast needs vmac_xmit_base in {name}; vmac_xmit_base set"),
        );
        inst.vmac_xmit_base = true;
    }
    if inst.use_vmac.is_some() && inst.promote_secondaries {
        ctx.warn(
            &inst.span,
            format!("promote_secondaries: set automatically with use_vmac in {name}; ignored"),
        );
        inst.promote_secondaries = false;
    }

    // use_vmac defaults need the VRID.
    if let Some(v) = &mut inst.use_vmac {
        if ex.vmac_short {
            v.mac[5] = inst.vrid;
        }
        if v.name.is_empty() {
            let prefix = match g.other.get("vmac_prefix") {
                Some(GlobalValue::Str(p)) => p.clone(),
                _ => "vrrp".to_string(),
            };
            v.name = format!("{prefix}.{}", inst.vrid);
        }
        let kind = if fam == Family::Inet6 { 2 } else { 1 };
        let rfc = [0x00, 0x00, 0x5e, 0x00, kind, inst.vrid];
        if v.mac != [0; 6] && v.mac[..5] == rfc[..5] {
            // keepalived: an explicit MAC may not be the RFC 5798 one (it is the default).
            ctx.warn(
                &inst.span,
                format!(
                    "use_vmac: {name} may not name the RFC 5798 MAC explicitly; it is the default"
                ),
            );
            v.mac = [0; 6];
        }
        if v.mac == [0; 6] {
            v.mac = rfc;
        }
    }

    // Unicast settings without a peer: keepalived falls back to multicast (or, with
    // unicast_fault_no_peer, to FAULT) and says so.
    if inst.unicast_peers.is_empty() {
        if inst.unicast_ttl.is_some() {
            ctx.warn(
                &inst.span,
                format!("unicast_ttl: {name} has no unicast_peer; ignored"),
            );
            inst.unicast_ttl = None;
        }
        let unicast_words = inst.unicast_src_ip.is_some()
            || ex.unicast_peer.is_some()
            || ex.check_unicast_src == Some(true)
            || inst.old_unicast_checksum.is_some();
        if unicast_words && !inst.unicast_fault_no_peer {
            ctx.warn(
                &inst.span,
                format!("unicast_peer: {name} has unicast settings but no unicast peer; it uses multicast (set unicast_fault_no_peer for FAULT instead)"),
            );
        }
    }

    // A non-default global multicast group applies to instances that name none.
    if inst.mcast_dst_ip.is_none() && inst.unicast_peers.is_empty() {
        let def = GlobalDefs::default();
        inst.mcast_dst_ip = match fam {
            Family::Inet if g.vrrp_mcast_group4 != def.vrrp_mcast_group4 => {
                Some(IpAddr::V4(g.vrrp_mcast_group4))
            }
            Family::Inet6 if g.vrrp_mcast_group6 != def.vrrp_mcast_group6 => {
                Some(IpAddr::V6(g.vrrp_mcast_group6))
            }
            _ => None,
        };
    }

    // Everything else with a global default.
    let strict = ex.strict.unwrap_or(g.vrrp_strict);
    inst.strict_mode = strict;
    let gg = &g.vrrp_garp;
    inst.garp = GarpSettings {
        master_delay: rare.garp_master_delay.unwrap_or(gg.master_delay),
        master_repeat: rare.garp_master_repeat.unwrap_or(gg.master_repeat),
        master_refresh: match rare.garp_master_refresh {
            Some(d) if d.is_zero() => None,
            Some(d) => Some(d),
            None => gg.master_refresh,
        },
        master_refresh_repeat: rare
            .garp_master_refresh_repeat
            .unwrap_or(gg.master_refresh_repeat),
        lower_prio_delay: rare
            .garp_lower_prio_delay
            .or(rare.garp_master_delay)
            .unwrap_or(gg.lower_prio_delay),
        lower_prio_repeat: rare.garp_lower_prio_repeat.or(gg.lower_prio_repeat),
        interval: gg.interval,
        na_interval: gg.na_interval,
    };
    inst.garp_extra_if = rare.garp_extra_if.clone().or(g.vrrp_garp_extra_if.clone());
    inst.down_timer_adverts = ex
        .down_timer_adverts
        .or(g.vrrp_down_timer_adverts)
        .unwrap_or(3);
    inst.skip_check_adv_addr = ex.skip_check_adv_addr.unwrap_or(g.vrrp_skip_check_adv_addr);
    inst.check_unicast_src = ex.check_unicast_src.unwrap_or(g.vrrp_check_unicast_src)
        || inst
            .unicast_peers
            .iter()
            .any(|p| p.min_ttl.is_some() || p.max_ttl.is_some());
    inst.smtp_alert = ex
        .smtp_alert
        .or(g.smtp_alert_vrrp)
        .or(g.smtp_alert)
        .unwrap_or(false);
    inst.v3_checksum_as_v2 = ex.v3_checksum_as_v2.unwrap_or(g.v3_checksum_as_v2);
    inst.notify_priority_changes = ex
        .notify_priority_changes
        .unwrap_or(g.vrrp_notify_priority_changes);
    inst.lower_prio_no_advert = rare
        .lower_prio_no_advert
        .as_ref()
        .map(|(b, _)| *b)
        .unwrap_or(g.vrrp_lower_prio_no_advert || strict);
    inst.higher_prio_send_advert = rare
        .higher_prio_send_advert
        .as_ref()
        .map(|(b, _)| *b)
        .unwrap_or(g.vrrp_higher_prio_send_advert);
    inst.accept = match &ex.accept {
        Some((a, _)) => *a,
        None => !strict || inst.priority == 255,
    };
    if strict {
        strict_rules(ctx, d);
    }
}

/// VRRPv2: whole seconds 1-255; VRRPv3: 10 ms steps, 0.01-40.95 s. Off-grid values are
/// rounded with a warning, out-of-range ones replaced by the default 1 s.
fn round_advert_int(
    ctx: &mut Ctx,
    name: &str,
    version: VrrpVersion,
    d: Duration,
    span: &Span,
) -> Duration {
    let us = d.as_micros() as u64;
    match version {
        VrrpVersion::V2 => {
            let secs = (us + 500_000) / 1_000_000;
            if secs == 0 || secs > 255 {
                ctx.error(
                    span,
                    format!(
                        "advert_int: {} s is out of range [1, 255] for VRRPv2 in {name}; using 1",
                        fmt_duration(d)
                    ),
                );
                return Duration::from_secs(1);
            }
            if us % 1_000_000 != 0 {
                ctx.warn(
                    span,
                    format!(
                        "advert_int: VRRPv2 needs whole seconds; {} s rounded to {secs} s in {name}",
                        fmt_duration(d)
                    ),
                );
            }
            Duration::from_secs(secs)
        }
        VrrpVersion::V3 => {
            let cs = (us + 5_000) / 10_000;
            if cs == 0 || cs > 4095 {
                ctx.error(
                    span,
                    format!(
                        "advert_int: {} s is out of range [0.01, 40.95] for VRRPv3 in {name}; using 1",
                        fmt_duration(d)
                    ),
                );
                return Duration::from_secs(1);
            }
            let r = Duration::from_millis(cs * 10);
            if us % 10_000 != 0 {
                ctx.warn(
                    span,
                    format!(
                        "advert_int: VRRPv3 counts in centiseconds; {} s rounded to {} s in {name}",
                        fmt_duration(d),
                        fmt_duration(r)
                    ),
                );
            }
            r
        }
    }
}

/// keepalived.conf(5) `vrrp_strict`: what RFC compliance forbids is reported and reset.
fn strict_rules(ctx: &mut Ctx, d: &mut Draft) {
    let inst = &mut d.inst;
    let ex = &d.ex;
    let no_rare = RareExplicit::default();
    let rare = ex.rare.as_deref().unwrap_or(&no_rare);
    let name = inst.name.clone();
    let at = |s: &Option<Span>| s.clone().unwrap_or_else(|| inst.span.clone());
    if inst.vips.is_empty() {
        ctx.error(
            &inst.span,
            format!("vrrp_strict: {name} has no virtual_ipaddress; strict mode needs at least one"),
        );
    }
    if !inst.unicast_peers.is_empty() {
        ctx.error(
            &at(&ex.unicast_peer),
            format!("vrrp_strict: {name} uses unicast_peer, which strict mode does not allow"),
        );
    }
    if inst.auth.is_some() {
        ctx.error(
            &at(&ex.auth),
            format!("vrrp_strict: {name} uses authentication, which strict mode does not allow; ignored"),
        );
        inst.auth = None;
    }
    if !inst.preempt_delay.is_zero() {
        ctx.error(
            &at(&ex.preempt_delay),
            format!("vrrp_strict: preempt_delay is not allowed in strict mode ({name}); using 0"),
        );
        inst.preempt_delay = Duration::ZERO;
    }
    if inst.family == Family::Inet6 {
        if let Some(v) = inst.vips.first() {
            if let IpAddr::V6(a) = v.addr {
                if (a.segments()[0] & 0xffc0) != 0xfe80 {
                    ctx.error(
                        &v.span,
                        format!("vrrp_strict: the first IPv6 address of {name} must be link-local"),
                    );
                }
            }
        }
    }
    if inst.initial_state == InitialState::Master && inst.priority != 255 {
        ctx.warn(
            &at(&ex.state),
            format!(
                "vrrp_strict: state MASTER needs priority 255 (the address owner) in strict mode; {name} has {}",
                inst.priority
            ),
        );
    }
    if let Some((true, span)) = &ex.accept {
        if inst.version == VrrpVersion::V2 {
            ctx.error(
                span,
                format!("vrrp_strict: accept mode is not part of VRRPv2 ({name}); ignored"),
            );
            inst.accept = inst.priority == 255;
        }
    }
    if let Some((false, span)) = &rare.lower_prio_no_advert {
        ctx.error(
            span,
            format!("vrrp_strict: lower_prio_no_advert cannot be cleared in strict mode ({name})"),
        );
        inst.lower_prio_no_advert = true;
    }
    if let Some((true, span)) = &rare.higher_prio_send_advert {
        ctx.error(
            span,
            format!("vrrp_strict: higher_prio_send_advert is not allowed in strict mode ({name})"),
        );
        inst.higher_prio_send_advert = false;
    }
    if inst.vmac_xmit_base {
        ctx.error(
            &at(&rare.vmac_xmit_base),
            format!("vrrp_strict: vmac_xmit_base is not allowed in strict mode ({name})"),
        );
        inst.vmac_xmit_base = false;
    }
}
