//! Checks across blocks: required keywords, duplicate names and VRIDs, references to
//! scripts / track files / processes / BFD instances / instances / groups, unicast peer
//! families, real-server families, and — when the caller gives the host's interfaces —
//! interfaces that do not exist; for a file loaded from this host, its scripts
//! (`script_vet`).

use super::super::model::*;
use super::super::script_check::Host;
use super::super::{LoadOptions, Span};
use super::resolve::fam_name;
use super::script_vet;
use super::values::Ctx;
use super::vrrp::Draft;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// Ending of the "no such interface" diagnostics: keepalived stops reading at such a
/// configuration (status 5) before it looks at script security.
pub const NO_SUCH_INTERFACE: &str = "does not exist on this host";

pub fn validate(
    ctx: &mut Ctx,
    config: &mut Config,
    drafts: &mut [Draft],
    opts: &LoadOptions,
    host: Option<&dyn Host>,
    global_span: Option<Span>,
    vs_protocol: &BTreeMap<Span, Span>,
) {
    instances(ctx, drafts);
    references(ctx, config, drafts);
    sync_groups(ctx, config, drafts);
    fixed_priority_weights(ctx, config, drafts);
    garp_groups(ctx, config);
    lvs(ctx, config, vs_protocol);
    sync_daemon(ctx, config, drafts);
    if let Some(ifs) = &opts.host_interfaces {
        host_interfaces(ctx, config, drafts, ifs);
    }
    if let Some(host) = host {
        script_vet::vet(ctx, config, drafts, &global_span, host);
    }
}

/// One LVS sync daemon: a global `lvs_sync_daemon` wins over an instance's deprecated
/// `lvs_sync_daemon_interface`, and the first instance with that keyword over the later
/// ones; the others are ignored with keepalived 2.2.7's words ("(VI_2)
/// lvs_sync_daemon_interface has already been specified as eth0 - ignoring"). keepalived
/// 2.2.7's `-t` says nothing about sync ids (an id shared with another director's daemon,
/// or with another instance's VRID, is not detected): neither does this.
fn sync_daemon(ctx: &mut Ctx, config: &Config, drafts: &mut [Draft]) {
    let mut first: Option<String> = config
        .global
        .lvs_sync_daemon
        .as_ref()
        .map(|d| d.interface.clone());
    for d in drafts.iter_mut() {
        let inst = &mut d.inst;
        let Some(ifname) = inst.lvs_sync_daemon_interface.as_deref() else {
            continue;
        };
        match &first {
            None => first = Some(ifname.clone()),
            Some(f) => {
                ctx.warn(
                    &inst.span,
                    format!(
                        "({}) lvs_sync_daemon_interface has already been specified as {f} - ignoring",
                        inst.name
                    ),
                );
                inst.lvs_sync_daemon_interface = None;
            }
        }
    }
}

/// Members of a sync group (without `sync_group_tracking_weight`) and address owners
/// (priority 255) cannot have their priority changed: keepalived 2.2.7 ignores weighted
/// tracking on them, and so do we, saying so.
fn fixed_priority_weights(ctx: &mut Ctx, config: &Config, drafts: &mut [Draft]) {
    let mut group_of: BTreeMap<&str, &SyncGroup> = BTreeMap::new();
    for g in &config.sync_groups {
        for m in &g.members {
            group_of.insert(m.as_str(), g);
        }
    }
    let script_w: BTreeMap<&str, i32> = config
        .vrrp_scripts
        .iter()
        .map(|s| (s.name.as_str(), s.weight))
        .collect();
    let file_w: BTreeMap<&str, i32> = config
        .track_files
        .iter()
        .map(|s| (s.name.as_str(), s.weight))
        .collect();
    let proc_w: BTreeMap<&str, i32> = config
        .track_processes
        .iter()
        .map(|s| (s.name.as_str(), s.weight))
        .collect();
    let bfd_w: BTreeMap<&str, i32> = config
        .bfd_instances
        .iter()
        .map(|s| (s.name.as_str(), s.weight))
        .collect();
    for d in drafts.iter_mut() {
        let inst = &mut d.inst;
        let why = match group_of.get(inst.name.as_str()) {
            Some(g) if !g.sync_group_tracking_weight => format!("sync group {}", g.name),
            _ if inst.priority == 255 => format!("address owner {} (priority 255)", inst.name),
            _ => continue,
        };
        let empty = BTreeMap::new();
        let lists: [(&mut Vec<TrackRef>, &BTreeMap<&str, i32>, &str); 5] = [
            (&mut inst.track_interfaces, &empty, "track_interface"),
            (&mut inst.track_scripts, &script_w, "track_script"),
            (&mut inst.track_files, &file_w, "track_file"),
            (&mut inst.track_processes, &proc_w, "track_process"),
            (&mut inst.track_bfds, &bfd_w, "track_bfd"),
        ];
        for (refs, defaults, block) in lists {
            refs.retain(|r| {
                let w = r
                    .weight
                    .or_else(|| defaults.get(r.name.as_str()).copied())
                    .unwrap_or(0);
                if w == 0 {
                    return true;
                }
                ctx.warn(
                    &r.span,
                    format!(
                        "{block}: {} has weight {w}, which is ignored for the {why}; tracking removed (use weight 0)",
                        r.name
                    ),
                );
                false
            });
        }
    }
}

fn instances(ctx: &mut Ctx, drafts: &mut [Draft]) {
    // Duplicate names, found on indices sorted by name (no copy of any name: this runs
    // over every instance of files of tens of thousands).
    let mut first_of: BTreeMap<usize, Span> = BTreeMap::new();
    let mut order: Vec<u32> = (0..drafts.len() as u32).collect();
    order.sort_by(|&a, &b| {
        drafts[a as usize]
            .inst
            .name
            .cmp(&drafts[b as usize].inst.name)
    });
    for same in
        order.chunk_by(|&a, &b| drafts[a as usize].inst.name == drafts[b as usize].inst.name)
    {
        for &later in &same[1..] {
            first_of.insert(later as usize, drafts[same[0] as usize].inst.span.clone());
        }
    }
    drop(order);
    for (at, d) in drafts.iter_mut().enumerate() {
        let inst = &mut d.inst;
        let ex = &d.ex;
        if let Some(first) = first_of.get(&at) {
            ctx.error(
                &inst.span,
                format!(
                    "vrrp_instance {}: duplicate instance name (first defined at {first})",
                    inst.name
                ),
            );
        }
        if ex.vrid.is_none() {
            ctx.error(
                &inst.span,
                format!("vrrp_instance {}: virtual_router_id is not set", inst.name),
            );
        }
        if inst.vips.is_empty() && !inst.strict_mode {
            ctx.warn(
                &inst.span,
                format!(
                    "vrrp_instance {}: no virtual_ipaddress; at least one is sensible",
                    inst.name
                ),
            );
        }
        if inst.interface.is_none() && inst.unicast_peers.is_empty() {
            ctx.error(
                &inst.span,
                format!(
                    "vrrp_instance {}: interface is required unless unicast_peer is used",
                    inst.name
                ),
            );
        }
        // Unicast peers and source of the instance's family.
        let fam = inst.family;
        let mut peers = Vec::new();
        let mut spans = Vec::new();
        for (i, p) in std::mem::take(&mut inst.unicast_peers)
            .into_iter()
            .enumerate()
        {
            let span = ex
                .peer_spans
                .get(i)
                .cloned()
                .unwrap_or_else(|| inst.span.clone());
            let pf = if p.addr.is_ipv4() {
                Family::Inet
            } else {
                Family::Inet6
            };
            if pf != fam {
                ctx.error(
                    &span,
                    format!(
                        "unicast_peer: {} is {} but {} is an {} instance",
                        p.addr,
                        fam_name(pf),
                        inst.name,
                        fam_name(fam)
                    ),
                );
            } else {
                peers.push(p);
                spans.push(span);
            }
        }
        inst.unicast_peers = peers;
        if let Some(src) = inst.unicast_src_ip {
            if src.is_ipv4() != (fam == Family::Inet) {
                let span = ex
                    .rare
                    .as_ref()
                    .and_then(|r| r.unicast_src_ip.clone())
                    .unwrap_or_else(|| inst.span.clone());
                ctx.error(
                    &span,
                    format!(
                        "unicast_src_ip: {src} is not an {} address like the rest of {}",
                        fam_name(fam),
                        inst.name
                    ),
                );
                inst.unicast_src_ip = None;
            }
        }
    }
    duplicate_vrids(ctx, drafts);
}

/// Duplicate VRIDs on one interface and family: unicast instances whose peer sets do not
/// overlap may share a VRID, as may different multicast groups. Each instance is compared
/// with the earlier ones of its (interface, family, group, VRID) that did not clash
/// themselves; the work is on indices sorted by that key.
fn duplicate_vrids(ctx: &mut Ctx, drafts: &[Draft]) {
    let key = |i: u32| {
        let inst = &drafts[i as usize].inst;
        (
            inst.interface.as_deref().unwrap_or_default(),
            inst.family,
            inst.mcast_dst_ip,
            inst.vrid,
        )
    };
    let mut idx: Vec<u32> = (0..drafts.len() as u32)
        .filter(|&i| drafts[i as usize].ex.vrid.is_some() && drafts[i as usize].inst.vrid != 0)
        .collect();
    idx.sort_by(|&a, &b| key(a).cmp(&key(b)));
    let mut clashes: Vec<(u32, u32)> = Vec::new();
    let mut accepted: Vec<u32> = Vec::new();
    for group in idx.chunk_by(|&a, &b| key(a) == key(b)) {
        accepted.clear();
        for &i in group {
            let mine = &drafts[i as usize].inst.unicast_peers;
            let clash = accepted.iter().copied().find(|&j| {
                let peers = &drafts[j as usize].inst.unicast_peers;
                (peers.is_empty() == mine.is_empty())
                    && (mine.is_empty()
                        || peers.iter().any(|a| mine.iter().any(|m| m.addr == a.addr)))
            });
            match clash {
                Some(j) => clashes.push((i, j)),
                None => accepted.push(i),
            }
        }
    }
    clashes.sort_unstable();
    for (i, other) in clashes {
        let (inst, ex) = (&drafts[i as usize].inst, &drafts[i as usize].ex);
        let fam = inst.family;
        let other = &drafts[other as usize].inst.name;
        let span = ex.vrid.clone().unwrap_or_else(|| inst.span.clone());
        ctx.error(
            &span,
            format!(
                "virtual_router_id: {} and {other} both use VRID {} for {} on {}",
                inst.name,
                inst.vrid,
                fam_name(fam),
                inst.interface.as_deref().unwrap_or("(no interface)")
            ),
        );
    }
}

/// Keeps the references that name something; reports the others.
fn check_refs(
    ctx: &mut Ctx,
    refs: &mut Vec<TrackRef>,
    names: &BTreeSet<&str>,
    what: &str,
    block: &str,
) {
    refs.retain(|r| {
        if names.contains(r.name.as_str()) {
            true
        } else {
            ctx.error(&r.span, format!("{block}: no {what} named '{}'", r.name));
            false
        }
    });
}

fn references(ctx: &mut Ctx, config: &mut Config, drafts: &mut [Draft]) {
    let scripts: BTreeSet<&str> = config
        .vrrp_scripts
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    let files: BTreeSet<&str> = config.track_files.iter().map(|s| s.name.as_str()).collect();
    let procs: BTreeSet<&str> = config
        .track_processes
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    let bfds: BTreeSet<&str> = config
        .bfd_instances
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    for d in drafts.iter_mut() {
        let i = &mut d.inst;
        check_refs(
            ctx,
            &mut i.track_scripts,
            &scripts,
            "vrrp_script",
            "track_script",
        );
        check_refs(ctx, &mut i.track_files, &files, "track_file", "track_file");
        check_refs(
            ctx,
            &mut i.track_processes,
            &procs,
            "vrrp_track_process",
            "track_process",
        );
        check_refs(ctx, &mut i.track_bfds, &bfds, "bfd_instance", "track_bfd");
    }
    for g in &mut config.sync_groups {
        check_refs(
            ctx,
            &mut g.track_scripts,
            &scripts,
            "vrrp_script",
            "track_script",
        );
        check_refs(ctx, &mut g.track_files, &files, "track_file", "track_file");
        check_refs(
            ctx,
            &mut g.track_processes,
            &procs,
            "vrrp_track_process",
            "track_process",
        );
        check_refs(ctx, &mut g.track_bfds, &bfds, "bfd_instance", "track_bfd");
    }
    let groups: BTreeSet<String> = config.track_groups.iter().map(|g| g.name.clone()).collect();
    let inst_names: BTreeSet<&str> = drafts.iter().map(|d| d.inst.name.as_str()).collect();
    for g in &config.track_groups {
        for m in &g.members {
            if !inst_names.contains(m.as_str()) {
                ctx.error(
                    &g.span,
                    format!("track_group {}: no vrrp_instance named '{m}'", g.name),
                );
            }
        }
    }
    for a in &mut config.static_addresses {
        if let Some(t) = &a.options.track_group {
            if !groups.contains(t.as_str()) {
                ctx.error(
                    &a.span,
                    format!("static_ipaddress: no track_group named '{t}'"),
                );
                a.options.track_group = None;
            }
        }
    }
    for r in &mut config.static_routes {
        if let Some(t) = r.track_group.take() {
            if groups.contains(&t) {
                r.track_group = Some(t);
            } else {
                ctx.error(
                    &r.span,
                    format!("static_routes: no track_group named '{t}'"),
                );
            }
        }
    }
    for r in &mut config.static_rules {
        if let Some(t) = r.track_group.take() {
            if groups.contains(&t) {
                r.track_group = Some(t);
            } else {
                ctx.error(&r.span, format!("static_rules: no track_group named '{t}'"));
            }
        }
    }
}

fn sync_groups(ctx: &mut Ctx, config: &mut Config, drafts: &mut [Draft]) {
    let names: BTreeSet<String> = drafts.iter().map(|d| d.inst.name.clone()).collect();
    let mut owner: BTreeMap<String, String> = BTreeMap::new();
    let mut keep: Vec<SyncGroup> = Vec::new();
    for mut g in std::mem::take(&mut config.sync_groups) {
        if let Some(first) = keep.iter().find(|k| k.name == g.name) {
            ctx.error(
                &g.span,
                format!(
                    "vrrp_sync_group {}: duplicate group name (first defined at {}); ignored",
                    g.name, first.span
                ),
            );
            continue;
        }
        let mut members = Vec::new();
        for m in std::mem::take(&mut g.members) {
            if !names.contains(&m) {
                ctx.error(
                    &g.span,
                    format!("vrrp_sync_group {}: no vrrp_instance named '{m}'", g.name),
                );
            } else if let Some(other) = owner.get(&m) {
                ctx.error(
                    &g.span,
                    format!(
                        "vrrp_sync_group {}: {m} is already a member of sync group {other}",
                        g.name
                    ),
                );
            } else if members.contains(&m) {
                ctx.error(
                    &g.span,
                    format!("vrrp_sync_group {}: {m} is listed twice", g.name),
                );
            } else {
                owner.insert(m.clone(), g.name.clone());
                members.push(m);
            }
        }
        g.members = members;
        match g.members.len() {
            0 => ctx.warn(
                &g.span,
                format!(
                    "vrrp_sync_group {}: no member instance; group ignored",
                    g.name
                ),
            ),
            1 => {
                ctx.warn(
                    &g.span,
                    format!(
                        "vrrp_sync_group {}: only one member instance; a sync group needs two or more",
                        g.name
                    ),
                );
                keep.push(g);
            }
            _ => keep.push(g),
        }
    }
    config.sync_groups = keep;
    // An interface tracked by a group and by one of its members: keepalived asks for one.
    for g in &config.sync_groups {
        for d in drafts
            .iter_mut()
            .filter(|d| g.members.contains(&d.inst.name))
        {
            let name = d.inst.name.clone();
            d.inst.track_interfaces.retain(|t| {
                if g.track_interfaces.iter().any(|x| x.name == t.name) {
                    ctx.warn(
                        &t.span,
                        format!(
                            "track_interface: {} is tracked by {name} and by its sync group {}; keep one (the group's is used)",
                            t.name, g.name
                        ),
                    );
                    false
                } else {
                    true
                }
            });
        }
    }
}

/// An interface belongs to one garp_group (keepalived ignores the later ones).
fn garp_groups(ctx: &mut Ctx, config: &mut Config) {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for g in &mut config.garp_groups {
        g.interfaces.retain(|i| {
            if seen.insert(i.clone()) {
                true
            } else {
                ctx.warn(
                    &g.span,
                    format!("garp_group: {i} is already in another garp_group; ignored here"),
                );
                false
            }
        });
    }
}

fn lvs(ctx: &mut Ctx, config: &mut Config, vs_protocol: &BTreeMap<Span, Span>) {
    let groups: BTreeMap<&str, &VirtualServerGroup> = config
        .virtual_server_groups
        .iter()
        .map(|g| (g.name.as_str(), g))
        .collect();
    let files: BTreeSet<&str> = config.track_files.iter().map(|s| s.name.as_str()).collect();
    let bfds: BTreeSet<&str> = config
        .bfd_instances
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    // Group services: a group of fwmarks only takes no protocol; one with addresses needs
    // one (keepalived 2.2.7 then defaults to UDP).
    for vs in &mut config.virtual_servers {
        let VsKey::Group(g) = &vs.key else { continue };
        let Some(grp) = groups.get(g.as_str()) else {
            continue;
        };
        let fwmarks_only = grp
            .entries
            .iter()
            .all(|e| matches!(e, VsgEntry::Fwmark { .. }));
        match (fwmarks_only, vs_protocol.get(&vs.span)) {
            (true, Some(span)) => ctx.warn(
                span,
                "protocol: ignored for a virtual_server_group of fwmarks".to_string(),
            ),
            (false, None) => {
                ctx.warn(
                    &vs.span,
                    "virtual_server: no protocol given; using UDP, as keepalived 2.2.7 does"
                        .to_string(),
                );
                vs.protocol = Protocol::Udp;
            }
            _ => {}
        }
    }
    let mut drop = Vec::new();
    for (i, vs) in config.virtual_servers.iter().enumerate() {
        let fam = match &vs.key {
            VsKey::Addr { addr, .. } => Some(addr.is_ipv4()),
            VsKey::Fwmark(_) => vs.ip_family.map(|f| f == Family::Inet),
            VsKey::Group(g) => match groups.get(g.as_str()) {
                None => {
                    ctx.error(
                        &vs.span,
                        format!("virtual_server: no virtual_server_group named '{g}'"),
                    );
                    drop.push(i);
                    continue;
                }
                Some(grp) => grp.entries.iter().find_map(|e| match e {
                    VsgEntry::Range { first, .. } => Some(first.is_ipv4()),
                    _ => None,
                }),
            },
        };
        let tunnelled = |m: &LvsMethod| matches!(m, LvsMethod::Tun { .. });
        for rs in &vs.real_servers {
            if let Some(v4) = fam {
                if rs.addr.is_ipv4() != v4 && !tunnelled(&rs.lvs_method) {
                    ctx.error(
                        &rs.span,
                        format!(
                            "real_server: {} is not the same address family as its virtual server (only tunnelled real servers may differ)",
                            rs.addr
                        ),
                    );
                }
            }
            for ch in &rs.checkers {
                match &ch.kind {
                    CheckerKind::File(f) if !files.contains(f.track_file.as_str()) => ctx.error(
                        &ch.span,
                        format!("FILE_CHECK: no track_file named '{}'", f.track_file),
                    ),
                    CheckerKind::Bfd { name } if !bfds.contains(name.as_str()) => ctx.error(
                        &ch.span,
                        format!("BFD_CHECK: no bfd_instance named '{name}'"),
                    ),
                    _ => {}
                }
            }
        }
    }
    for i in drop.into_iter().rev() {
        config.virtual_servers.remove(i);
    }
    ports(ctx, config);
    // A real server twice in one virtual server: keepalived keeps the first.
    for vs in &mut config.virtual_servers {
        let mut seen: BTreeSet<(IpAddr, Option<u16>)> = BTreeSet::new();
        vs.real_servers.retain(|rs| {
            if seen.insert((rs.addr, rs.port)) {
                true
            } else {
                let port = rs.port.map(|p| format!(" {p}")).unwrap_or_default();
                ctx.warn(
                    &rs.span,
                    format!(
                        "real_server: {}{port} is listed twice in this virtual_server; the second is ignored",
                        rs.addr
                    ),
                );
                false
            }
        });
    }
}

/// Direct routing and tunnels cannot change the port: a real or sorry server port that
/// differs from the virtual server's is reset to it, and a port on a real server of a
/// fwmark service is ignored (keepalived 2.2.7 does both, with a warning).
fn ports(ctx: &mut Ctx, config: &mut Config) {
    let groups: BTreeMap<String, Vec<VsgEntry>> = config
        .virtual_server_groups
        .iter()
        .map(|g| (g.name.clone(), g.entries.clone()))
        .collect();
    let keeps_port = |m: &LvsMethod| matches!(m, LvsMethod::Dr | LvsMethod::Tun { .. });
    for vs in &mut config.virtual_servers {
        let (vs_port, group_ports, has_fwmark) = match &vs.key {
            VsKey::Addr { port, .. } => (*port, Vec::new(), false),
            VsKey::Fwmark(_) => (None, Vec::new(), true),
            VsKey::Group(g) => {
                let entries = groups.get(g).cloned().unwrap_or_default();
                let ports: Vec<u16> = entries
                    .iter()
                    .filter_map(|e| match e {
                        VsgEntry::Range { port, .. } => *port,
                        VsgEntry::Fwmark { .. } => None,
                    })
                    .collect();
                let fw = entries.iter().any(|e| matches!(e, VsgEntry::Fwmark { .. }));
                (None, ports, fw)
            }
        };
        for rs in &mut vs.real_servers {
            if !keeps_port(&rs.lvs_method) {
                continue;
            }
            let Some(p) = rs.port else { continue };
            if let Some(v) = vs_port {
                if p != v {
                    ctx.warn(
                        &rs.span,
                        format!("real_server: port {p} differs from the virtual server's {v}, which direct routing and tunnels keep; using {v}"),
                    );
                    rs.port = Some(v);
                }
            } else if let Some(v) = group_ports.iter().find(|v| **v != p) {
                ctx.warn(
                    &rs.span,
                    format!("real_server: port {p} differs from port {v} of the virtual_server_group, which direct routing and tunnels keep"),
                );
            } else if has_fwmark {
                ctx.warn(
                    &rs.span,
                    format!("real_server: port {p} is ignored for a fwmark service with direct routing or tunnels"),
                );
                if matches!(vs.key, VsKey::Fwmark(_)) {
                    rs.port = None;
                }
            }
        }
        let sorry_method = vs
            .sorry_server_lvs_method
            .as_ref()
            .unwrap_or(&vs.lvs_method);
        if keeps_port(sorry_method) {
            if let (Some((_, Some(p))), Some(v)) = (&mut vs.sorry_server, vs_port) {
                if *p != v {
                    ctx.warn(
                        &vs.span,
                        format!("sorry_server: port {p} differs from the virtual server's {v}, which direct routing and tunnels keep; using {v}"),
                    );
                    *p = v;
                }
            }
        }
    }
}

fn host_interfaces(ctx: &mut Ctx, config: &Config, drafts: &[Draft], ifs: &[String]) {
    let exists = |n: &str| ifs.iter().any(|i| i == n);
    let missing = |ctx: &mut Ctx, name: &str, span: &Span, what: &str| {
        if !exists(name) {
            ctx.no_such_interface(
                span,
                format!("{what}: interface {name} does not exist on this host"),
            );
        }
    };
    for d in drafts {
        let i = &d.inst;
        if let (Some(name), Some(span)) = (&i.interface, &d.ex.interface) {
            missing(ctx, name, span, "interface");
        }
        if let Some(vrf) = &i.vrf {
            missing(ctx, vrf, &i.span, "vrf");
        }
        for t in &i.track_interfaces {
            missing(ctx, &t.name, &t.span, "track_interface");
        }
        for v in i.vips.iter().chain(&i.excluded_vips) {
            if let Some(dev) = &v.dev {
                missing(ctx, dev, &v.span, "virtual_ipaddress");
            }
        }
        for r in &i.virtual_routes {
            for dev in r.devices() {
                missing(ctx, dev, &r.span, "virtual_routes");
            }
        }
        for r in &i.virtual_rules {
            for dev in r.devices() {
                missing(ctx, dev, &r.span, "virtual_rules");
            }
        }
    }
    for g in &config.sync_groups {
        for t in &g.track_interfaces {
            missing(ctx, &t.name, &t.span, "track_interface");
        }
    }
    for a in &config.static_addresses {
        if let Some(dev) = &a.dev {
            missing(ctx, dev, &a.span, "static_ipaddress");
        }
    }
    for g in &config.garp_groups {
        for i in &g.interfaces {
            missing(ctx, i, &g.span, "garp_group");
        }
    }
    for r in &config.static_routes {
        for dev in r.devices() {
            missing(ctx, dev, &r.span, "static_routes");
        }
    }
    for r in &config.static_rules {
        for dev in r.devices() {
            missing(ctx, dev, &r.span, "static_rules");
        }
    }
}
