//! The smaller top-level blocks: `vrrp_script`, `track_file`, `vrrp_track_process`,
//! `track_group`, `garp_group`, `linkbeat_interfaces`, `interface_up_down_delays`,
//! `bfd_instance` and `SSL`.

use super::super::model::*;
use super::super::tree::Node;
use super::values::{split_command, Ctx, Shape};
use std::time::Duration;

fn kids(node: &Node) -> &[Node] {
    node.children.as_deref().unwrap_or(&[])
}

fn name_arg(ctx: &mut Ctx, node: &Node) -> Option<String> {
    let n = match node.args.first() {
        Some(w) => w.text.clone(),
        None => {
            ctx.error(
                &node.keyword.span,
                format!("{}: missing name", node.keyword.text),
            );
            return None;
        }
    };
    ctx.no_extra(node, 1);
    Some(n)
}

/// `weight N [reverse]` with the range of the block.
fn weight(ctx: &mut Ctx, c: &Node, lo: i64, hi: i64) -> Option<(i64, bool)> {
    let w = ctx.arg(c, 0, "weight")?;
    let v = ctx.int_word("weight", w, lo, hi)?;
    let mut reverse = false;
    match c.args.get(1) {
        Some(r) if r.text == "reverse" => reverse = true,
        Some(r) if r.text == "noreverse" || r.text == "no_reverse" => {}
        Some(r) => ctx.error(&r.span, format!("weight: unexpected argument '{}'", r.text)),
        None => {}
    }
    ctx.no_extra(c, 2);
    Some((v, reverse))
}

pub(super) const SCRIPT: &[(&str, Shape)] = &[
    ("script", Shape::Line),
    ("interval", Shape::Line),
    ("timeout", Shape::Line),
    ("weight", Shape::Line),
    ("rise", Shape::Line),
    ("fall", Shape::Line),
    ("user", Shape::Line),
    ("init_fail", Shape::Line),
];

pub fn vrrp_script(ctx: &mut Ctx, node: &Node) -> Option<VrrpScript> {
    let name = name_arg(ctx, node)?;
    let mut s = VrrpScript {
        name,
        span: node.keyword.span.clone(),
        script: ScriptCommand::default(),
        interval: Duration::from_secs(1),
        timeout: None,
        weight: 0,
        reverse: false,
        rise: 1,
        fall: 1,
        init_fail: false,
    };
    for c in kids(node) {
        if !ctx.check_keyword(c, SCRIPT) {
            continue;
        }
        match c.keyword.text.as_str() {
            "script" => {
                // `script "cmd args"` or `script cmd args` (unquoted words join).
                let line: Vec<String> = c.args.iter().map(|w| w.text.clone()).collect();
                if line.is_empty() {
                    ctx.error(&c.keyword.span, "script: missing command".to_string());
                } else {
                    s.script.argv = if line.len() == 1 {
                        split_command(&line[0])
                    } else {
                        line
                    };
                }
            }
            // Whole seconds, as keepalived 2.2.7 takes them.
            "interval" => {
                if let Some(v) = ctx.int_arg(c, 1, 4294) {
                    s.interval = Duration::from_secs(v as u64);
                }
            }
            "timeout" => {
                s.timeout = ctx
                    .int_arg(c, 1, 4294)
                    .map(|v| Duration::from_secs(v as u64))
            }
            "weight" => {
                if let Some((w, r)) = weight(ctx, c, -253, 253) {
                    s.weight = w as i32;
                    s.reverse = r;
                }
            }
            "rise" => {
                if let Some(v) = ctx.int_arg(c, 1, 1_000_000) {
                    s.rise = v as u32;
                }
            }
            "fall" => {
                if let Some(v) = ctx.int_arg(c, 1, 1_000_000) {
                    s.fall = v as u32;
                }
            }
            "user" => {
                if let Some(w) = ctx.arg(c, 0, "user name") {
                    s.script.user = Some(w.text.clone());
                }
                s.script.group = c.args.get(1).map(|w| w.text.clone());
                ctx.no_extra(c, 2);
            }
            "init_fail" => s.init_fail = ctx.flag(c),
            _ => {}
        }
    }
    if s.script.argv.is_empty() {
        ctx.error(
            &node.keyword.span,
            format!("vrrp_script {}: no script configured", s.name),
        );
        return None;
    }
    Some(s)
}

pub(super) const TRACK_FILE: &[(&str, Shape)] = &[
    ("file", Shape::Line),
    ("weight", Shape::Line),
    ("init_file", Shape::Line),
];

pub fn track_file(ctx: &mut Ctx, node: &Node) -> Option<TrackFile> {
    let name = name_arg(ctx, node)?;
    let mut t = TrackFile {
        name,
        span: node.keyword.span.clone(),
        file: String::new(),
        weight: 1,
        reverse: false,
        init_file: None,
    };
    let mut seen = Vec::new();
    for c in kids(node) {
        if !ctx.check_keyword(c, TRACK_FILE) {
            continue;
        }
        if matches!(c.keyword.text.as_str(), "file" | "weight") && !ctx.first_time(&mut seen, c) {
            continue;
        }
        match c.keyword.text.as_str() {
            "file" => {
                if let Some(f) = ctx.string_arg(c) {
                    t.file = f;
                }
            }
            "weight" => {
                if let Some((w, r)) = weight(ctx, c, -2147483647, 2147483647) {
                    t.weight = w as i32;
                    t.reverse = r;
                }
            }
            "init_file" => {
                let mut value = 0;
                let mut overwrite = false;
                for w in &c.args {
                    if w.text == "overwrite" {
                        overwrite = true;
                    } else if let Some(v) = ctx.int_word("init_file", w, i64::MIN + 1, i64::MAX) {
                        value = v;
                    }
                }
                t.init_file = Some((value, overwrite));
            }
            _ => {}
        }
    }
    if t.file.is_empty() {
        ctx.error(
            &node.keyword.span,
            format!("track_file {}: no file configured", t.name),
        );
        return None;
    }
    Some(t)
}

pub(super) const TRACK_PROCESS: &[(&str, Shape)] = &[
    ("process", Shape::Line),
    ("param_match", Shape::Line),
    ("weight", Shape::Line),
    ("quorum", Shape::Line),
    ("quorum_max", Shape::Line),
    ("fork_delay", Shape::Line),
    ("terminate_delay", Shape::Line),
    ("delay", Shape::Line),
    ("full_command", Shape::Line),
];

pub fn track_process(ctx: &mut Ctx, node: &Node) -> Option<TrackProcess> {
    let name = name_arg(ctx, node)?;
    let mut t = TrackProcess {
        name,
        span: node.keyword.span.clone(),
        process: Vec::new(),
        param_match: None,
        weight: 1,
        reverse: false,
        quorum: 1,
        quorum_max: None,
        delay: Duration::ZERO,
        fork_delay: None,
        terminate_delay: None,
        full_command: false,
    };
    let mut seen = Vec::new();
    for c in kids(node) {
        if !ctx.check_keyword(c, TRACK_PROCESS) {
            continue;
        }
        if matches!(c.keyword.text.as_str(), "process" | "weight") && !ctx.first_time(&mut seen, c)
        {
            continue;
        }
        match c.keyword.text.as_str() {
            "process" => {
                t.process = c.args.iter().map(|w| w.text.clone()).collect();
                if t.process.is_empty() {
                    ctx.error(&c.keyword.span, "process: missing process name".to_string());
                }
            }
            "param_match" => {
                if let Some(s) = ctx.string_arg(c) {
                    if s == "initial" || s == "partial" {
                        t.param_match = Some(s);
                    } else {
                        ctx.error(
                            &c.args[0].span,
                            format!("param_match: '{s}' is not initial or partial"),
                        );
                    }
                }
            }
            "weight" => {
                if let Some((w, r)) = weight(ctx, c, -254, 254) {
                    t.weight = w as i32;
                    t.reverse = r;
                }
            }
            "quorum" => {
                if let Some(v) = ctx.int_arg(c, 1, 65535) {
                    t.quorum = v as u32;
                }
            }
            "quorum_max" => t.quorum_max = ctx.int_arg(c, 0, 65535).map(|v| v as u32),
            "fork_delay" => t.fork_delay = ctx.timer_arg(c, 0.000001, 3600.0),
            "terminate_delay" => t.terminate_delay = ctx.timer_arg(c, 0.000001, 3600.0),
            "delay" => {
                if let Some(d) = ctx.timer_arg(c, 0.000001, 3600.0) {
                    t.delay = d;
                }
            }
            "full_command" => t.full_command = ctx.flag(c),
            _ => {}
        }
    }
    if t.process.is_empty() {
        ctx.error(
            &node.keyword.span,
            format!("vrrp_track_process {}: no process configured", t.name),
        );
        return None;
    }
    if let Some(max) = t.quorum_max {
        if max < t.quorum {
            ctx.error(
                &node.keyword.span,
                format!(
                    "vrrp_track_process {}: quorum_max {max} is below quorum {}",
                    t.name, t.quorum
                ),
            );
        }
    }
    Some(t)
}

pub fn track_group(ctx: &mut Ctx, node: &Node) -> Option<TrackGroup> {
    let name = name_arg(ctx, node)?;
    let mut g = TrackGroup {
        name,
        span: node.keyword.span.clone(),
        members: Vec::new(),
    };
    for c in kids(node) {
        if ctx.check_keyword(c, &[("group", Shape::Block)]) {
            if kids(c).is_empty() {
                ctx.warn(
                    &c.keyword.span,
                    format!("track_group {}: empty group block", g.name),
                );
            }
            for m in kids(c) {
                g.members.push(m.keyword.text.clone());
                g.members.extend(m.args.iter().map(|w| w.text.clone()));
            }
        }
    }
    Some(g)
}

const GARP_GROUP: &[(&str, Shape)] = &[
    ("garp_interval", Shape::Line),
    ("gna_interval", Shape::Line),
    ("interface", Shape::Line),
    ("interfaces", Shape::Block),
];

pub fn garp_group(ctx: &mut Ctx, node: &Node) -> Option<GarpGroup> {
    ctx.no_extra(node, 0);
    let mut g = GarpGroup {
        span: node.keyword.span.clone(),
        garp_interval: None,
        gna_interval: None,
        interfaces: Vec::new(),
    };
    for c in kids(node) {
        if !ctx.check_keyword(c, GARP_GROUP) {
            continue;
        }
        match c.keyword.text.as_str() {
            "garp_interval" => g.garp_interval = ctx.timer_arg(c, 0.0, 2147.483647),
            "gna_interval" => g.gna_interval = ctx.timer_arg(c, 0.0, 2147.483647),
            "interface" => g.interfaces.extend(ctx.string_arg(c)),
            "interfaces" => {
                for i in kids(c) {
                    g.interfaces.push(i.keyword.text.clone());
                    g.interfaces.extend(i.args.iter().map(|w| w.text.clone()));
                }
            }
            _ => {}
        }
    }
    if g.interfaces.is_empty() {
        ctx.error(
            &node.keyword.span,
            "garp_group: no interface configured".to_string(),
        );
        return None;
    }
    Some(g)
}

pub fn linkbeat_interfaces(ctx: &mut Ctx, config: &mut Config, node: &Node) {
    ctx.no_extra(node, 0);
    for c in kids(node) {
        let kind = match c.args.first() {
            None => None,
            Some(w) => match w.text.to_ascii_uppercase().as_str() {
                "MII" | "ETHTOOL" | "IOCTL" => Some(w.text.to_ascii_uppercase()),
                _ => {
                    ctx.error(
                        &w.span,
                        format!(
                            "linkbeat_interfaces: '{}' is not MII, ETHTOOL or IOCTL",
                            w.text
                        ),
                    );
                    None
                }
            },
        };
        ctx.no_extra(c, 1);
        config
            .linkbeat_interfaces
            .push((c.keyword.text.clone(), kind));
    }
}

pub fn interface_up_down_delays(ctx: &mut Ctx, config: &mut Config, node: &Node) {
    ctx.no_extra(node, 0);
    for c in kids(node) {
        let Some(d) = c
            .args
            .first()
            .and_then(|w| ctx.timer_word("interface_up_down_delays", w, 0.0, 255.0))
        else {
            if c.args.is_empty() {
                ctx.error(
                    &c.keyword.span,
                    format!(
                        "interface_up_down_delays: {} needs a down delay",
                        c.keyword.text
                    ),
                );
            }
            continue;
        };
        let up = match c.args.get(1) {
            Some(w) => ctx
                .timer_word("interface_up_down_delays", w, 0.0, 255.0)
                .unwrap_or(d),
            None => d,
        };
        ctx.no_extra(c, 2);
        config.interface_up_down_delays.push(InterfaceDelay {
            interface: c.keyword.text.clone(),
            down: d,
            up,
        });
    }
}

pub(super) const BFD: &[(&str, Shape)] = &[
    ("neighbor_ip", Shape::Line),
    ("neighbour_ip", Shape::Line),
    ("source_ip", Shape::Line),
    ("min_rx", Shape::Line),
    ("min_tx", Shape::Line),
    ("idle_tx", Shape::Line),
    ("multiplier", Shape::Line),
    ("passive", Shape::Line),
    ("ttl", Shape::Line),
    ("hoplimit", Shape::Line),
    ("max_hops", Shape::Line),
    ("weight", Shape::Line),
    ("vrrp", Shape::Line),
    ("checker", Shape::Line),
];

pub fn bfd_instance(ctx: &mut Ctx, node: &Node) -> Option<BfdInstance> {
    let name = name_arg(ctx, node)?;
    let mut b = BfdInstance {
        name,
        span: node.keyword.span.clone(),
        neighbor_ip: None,
        source_ip: None,
        min_rx_us: 10_000,
        min_tx_us: 10_000,
        idle_tx_us: 1_000_000,
        multiplier: 5,
        passive: false,
        ttl: 255,
        hoplimit: 64,
        max_hops: 0,
        weight: 0,
        reverse: false,
        vrrp: false,
        checker: false,
    };
    for c in kids(node) {
        if !ctx.check_keyword(c, BFD) {
            continue;
        }
        // Milliseconds with µs resolution.
        let ms = |ctx: &mut Ctx, c: &Node, lo: u64| -> Option<u32> {
            let w = ctx.arg(c, 0, "milliseconds")?;
            ctx.no_extra(c, 1);
            // The TIMER parser reads "N.NNN" as seconds; the value is in milliseconds.
            let us = super::values::parse_timer(&w.text).map(|d| d.as_micros() / 1000);
            match us {
                Some(us) if us >= u128::from(lo) * 1000 && us <= 4_294_967_000 => Some(us as u32),
                _ => {
                    ctx.error(
                        &w.span,
                        format!(
                            "{}: '{}' is not in range [{lo}, 4294967] milliseconds",
                            c.keyword.text, w.text
                        ),
                    );
                    None
                }
            }
        };
        match c.keyword.text.as_str() {
            "neighbor_ip" | "neighbour_ip" => b.neighbor_ip = ctx.ip_arg(c),
            "source_ip" => b.source_ip = ctx.ip_arg(c),
            // Values are milliseconds: reuse the seconds parser and scale.
            "min_rx" => b.min_rx_us = ms(ctx, c, 1).unwrap_or(b.min_rx_us),
            "min_tx" => b.min_tx_us = ms(ctx, c, 1).unwrap_or(b.min_tx_us),
            "idle_tx" => b.idle_tx_us = ms(ctx, c, 1000).unwrap_or(b.idle_tx_us),
            "multiplier" => {
                if let Some(v) = ctx.int_arg(c, 1, 255) {
                    b.multiplier = v as u8;
                }
            }
            "passive" => b.passive = ctx.flag(c),
            "ttl" => {
                if let Some(v) = ctx.int_arg(c, 1, 255) {
                    b.ttl = v as u8;
                }
            }
            "hoplimit" => {
                if let Some(v) = ctx.int_arg(c, 1, 255) {
                    b.hoplimit = v as u8;
                }
            }
            "max_hops" => {
                if let Some(v) = ctx.int_arg(c, 0, 255) {
                    b.max_hops = v as u8;
                }
            }
            "weight" => {
                if let Some((w, r)) = weight(ctx, c, -253, 253) {
                    b.weight = w as i32;
                    b.reverse = r;
                }
            }
            "vrrp" => b.vrrp = ctx.flag(c),
            "checker" => b.checker = ctx.flag(c),
            _ => {}
        }
    }
    if b.neighbor_ip.is_none() {
        ctx.error(
            &node.keyword.span,
            format!("bfd_instance {}: no neighbor_ip configured", b.name),
        );
        return None;
    }
    Some(b)
}

const SSL: &[(&str, Shape)] = &[
    ("password", Shape::Line),
    ("ca", Shape::Line),
    ("certificate", Shape::Line),
    ("key", Shape::Line),
];

pub fn ssl(ctx: &mut Ctx, config: &mut Config, node: &Node) {
    ctx.no_extra(node, 0);
    let mut s = config.ssl.take().unwrap_or_default();
    for c in kids(node) {
        if !ctx.check_keyword(c, SSL) {
            continue;
        }
        let v = ctx.string_arg(c);
        let slot = match c.keyword.text.as_str() {
            "password" => &mut s.password,
            "ca" => &mut s.ca,
            "certificate" => &mut s.certificate,
            _ => &mut s.key,
        };
        if slot.is_some() && v.is_some() {
            ctx.warn(
                &c.keyword.span,
                format!("{}: already given; replaced", c.keyword.text),
            );
        }
        if v.is_some() {
            *slot = v;
        }
    }
    config.ssl = Some(s);
}
