//! What-if from the command line (an extension of keepalived-rs):
//! `keepalived-rs --simulate --node r1=a.conf --node r2=b.conf --event 'kill r1 at 10s'`.
//!
//! The operator's own configuration files become simulated routers. Segments are derived
//! from interface names (every node's `eth0` is on segment `eth0`), unless `--segment`
//! says otherwise; each node gets an address on each of its segments: the `unicast_src_ip`
//! / `mcast_src_ip` its file gives, the unicast peer address another node's file names for
//! it, or else a free host address in the subnet of the VIPs on that interface (and an
//! IPv6 link-local address). The events are the scenario language's stimuli in a quick
//! form. The run is an ordinary scenario (the same engine, the same simulated world),
//! printed as a readable timeline — state changes, VIPs moving, notify scripts with their
//! arguments, conflicts — and a summary of who was Master when. Same input, same output.

use super::clock::fmt_duration;
use super::trace::{Rec, TraceLine};
use super::{run_text, BadScenario};
use crate::config::model::Config;
use crate::config::{load, LoadOptions};
use crate::sched::Instant;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What the command line asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WhatIf {
    /// (node name, configuration file), in command-line order.
    pub nodes: Vec<(String, PathBuf)>,
    /// Quick-form events, e.g. `kill r1 at 10s`.
    pub events: Vec<String>,
    /// `NAME=node:iface,node:iface`: these ports form segment NAME.
    pub segments: Vec<String>,
    pub seed: u64,
    pub until: Option<Duration>,
}

/// An error in the command line or in a file, said so a user can fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WhatIfError(pub String);

/// One interface of a node: (explicit source addresses, VIPs on it with their prefix
/// lengths, whether it carries IPv6 VRRP).
type IfaceNet = (Vec<IpAddr>, Vec<(IpAddr, u8)>, bool);

/// A Master period of one instance: (node, instance, from, to).
type Period = (String, String, Instant, Option<Instant>);

/// The interfaces a node's configuration uses, with the addresses that tell which
/// subnet each is on.
#[derive(Default)]
struct NodeNet {
    ifaces: BTreeMap<String, IfaceNet>,
    /// Unicast peer addresses this node sends to, by interface.
    peers: BTreeMap<String, Vec<IpAddr>>,
}

fn node_net(cfg: &Config) -> NodeNet {
    let mut n = NodeNet::default();
    for inst in &cfg.instances {
        let Some(ifname) = inst.interface.clone() else {
            continue;
        };
        let e = n.ifaces.entry(ifname.clone()).or_default();
        for a in [inst.unicast_src_ip, inst.mcast_src_ip]
            .into_iter()
            .flatten()
        {
            if !e.0.contains(&a) {
                e.0.push(a);
            }
        }
        let mut other_devs = Vec::new();
        for v in inst.vips.iter().chain(inst.excluded_vips.iter()) {
            match &v.dev {
                Some(d) if *d != ifname => other_devs.push(d.clone()),
                _ => e.1.push((v.addr, v.prefix_len)),
            }
        }
        e.2 |= inst.family == crate::config::model::Family::Inet6;
        for d in other_devs {
            n.ifaces.entry(d).or_default();
        }
        let p = n.peers.entry(ifname.clone()).or_default();
        p.extend(inst.unicast_peers.iter().map(|u| u.addr));
        for t in &inst.track_interfaces {
            n.ifaces.entry(t.name.clone()).or_default();
        }
    }
    n
}

/// A free IPv4 host address in the /24 (or the VIP's own, wider, prefix) of `vip`.
fn free_v4(vip: Ipv4Addr, prefix: u8, taken: &BTreeSet<IpAddr>) -> Option<Ipv4Addr> {
    let len = if prefix >= 24 || prefix == 0 {
        24
    } else {
        prefix
    };
    let mask = u32::MAX << (32 - u32::from(len));
    let net = u32::from(vip) & mask;
    let size = !mask;
    (1..size.min(4096))
        .map(|k| Ipv4Addr::from(net + size - k))
        .find(|a| !taken.contains(&IpAddr::V4(*a)))
}

/// The scenario text of a what-if run, and a label for each (node, instance): its
/// virtual router (`VRID 51 IPv4 on eth0`), which is what ties instances of different
/// nodes together.
pub fn scenario_text(w: &WhatIf) -> Result<(String, Labels), WhatIfError> {
    if w.nodes.is_empty() {
        return Err(WhatIfError(
            "--simulate without a FILE needs --node NAME=FILE".into(),
        ));
    }
    let mut seen = BTreeSet::new();
    let mut nets = Vec::new();
    let mut routers: Vec<Vec<(String, String, String)>> = Vec::new();
    let mut taken: BTreeSet<IpAddr> = BTreeSet::new();
    for (name, path) in &w.nodes {
        if !seen.insert(name.clone()) {
            return Err(WhatIfError(format!("--node {name} given twice")));
        }
        if name.is_empty() || name.contains(char::is_whitespace) || name.contains(':') {
            return Err(WhatIfError(format!(
                "--node `{name}`: a node name is one word"
            )));
        }
        let loaded = load(path, &LoadOptions::default());
        if !loaded.can_run() {
            return Err(WhatIfError(format!("{}: cannot be read", path.display())));
        }
        let n = node_net(&loaded.config);
        routers.push(
            loaded
                .config
                .instances
                .iter()
                .map(|i| {
                    let fam = match i.family {
                        crate::config::model::Family::Inet => "IPv4",
                        crate::config::model::Family::Inet6 => "IPv6",
                    };
                    let ifname = i.interface.clone().unwrap_or_default();
                    (i.name.clone(), format!("VRID {} {fam}", i.vrid), ifname)
                })
                .collect(),
        );
        for (src, vips, _) in n.ifaces.values() {
            taken.extend(src.iter().copied());
            taken.extend(vips.iter().map(|v| v.0));
        }
        for p in n.peers.values() {
            taken.extend(p.iter().copied());
        }
        nets.push(n);
    }
    // Ports -> segment: by interface name, unless --segment says otherwise.
    let mut seg_of: BTreeMap<(String, String), String> = BTreeMap::new();
    for (i, (name, _)) in w.nodes.iter().enumerate() {
        for ifname in nets[i].ifaces.keys() {
            seg_of.insert((name.clone(), ifname.clone()), ifname.clone());
        }
    }
    for s in &w.segments {
        let (seg, ports) = s
            .split_once('=')
            .ok_or_else(|| WhatIfError(format!("--segment `{s}`: write NAME=node:iface,...")))?;
        for port in ports.split(',').filter(|p| !p.is_empty()) {
            let (node, ifname) = port.split_once(':').ok_or_else(|| {
                WhatIfError(format!("--segment `{s}`: `{port}` is not node:iface"))
            })?;
            if !seen.contains(node) {
                return Err(WhatIfError(format!("--segment `{s}`: no node {node}")));
            }
            seg_of.insert((node.to_string(), ifname.to_string()), seg.to_string());
        }
    }
    // Unicast peer addresses nobody claims as its source: the other nodes', in order.
    let claimed: BTreeSet<IpAddr> = nets
        .iter()
        .flat_map(|n| n.ifaces.values().flat_map(|v| v.0.iter().copied()))
        .collect();
    let mut assigned: BTreeMap<(usize, String), Vec<IpAddr>> = BTreeMap::new();
    for (i, n) in nets.iter().enumerate() {
        for (ifname, peers) in &n.peers {
            let others: Vec<usize> = (0..w.nodes.len()).filter(|&j| j != i).collect();
            for (k, p) in peers.iter().filter(|p| !claimed.contains(p)).enumerate() {
                if let Some(&j) = others.get(k % others.len().max(1)) {
                    let v = assigned.entry((j, ifname.clone())).or_default();
                    if !v.contains(p) && v.len() < 4 {
                        v.push(*p);
                    }
                }
            }
        }
    }
    let mut text = String::from("# what-if run generated by keepalived-rs --simulate --node\n");
    let segments: BTreeSet<&String> = seg_of.values().collect();
    for s in &segments {
        let _ = writeln!(text, "segment {s}");
    }
    for (i, (name, path)) in w.nodes.iter().enumerate() {
        let _ = writeln!(text, "host {name}");
        for (ifname, (src, vips, _)) in &nets[i].ifaces {
            let seg = &seg_of[&(name.clone(), ifname.clone())];
            let mut addrs: Vec<String> = Vec::new();
            let mut own: Vec<IpAddr> = src.clone();
            own.extend(
                assigned
                    .get(&(i, ifname.clone()))
                    .cloned()
                    .unwrap_or_default(),
            );
            let has_v4 = own.iter().any(IpAddr::is_ipv4);
            if !has_v4 {
                let base = vips
                    .iter()
                    .find_map(|(a, p)| match a {
                        IpAddr::V4(v) => Some((*v, *p)),
                        IpAddr::V6(_) => None,
                    })
                    .unwrap_or((Ipv4Addr::new(192, 0, 2, 0), 24));
                if let Some(a) = free_v4(base.0, base.1, &taken) {
                    taken.insert(IpAddr::V4(a));
                    own.push(IpAddr::V4(a));
                }
            }
            for a in &own {
                let len = if a.is_ipv4() { 24 } else { 64 };
                addrs.push(format!("{a}/{len}"));
            }
            addrs.push(format!("fe80::{:x}", i + 1));
            let _ = writeln!(text, "  iface {ifname} {seg} {}", addrs.join(" "));
        }
        let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        let _ = writeln!(text, "  config file {}", abs.display());
    }
    for e in &w.events {
        let _ = writeln!(text, "at {}", quick_event(e)?);
    }
    if let Some(u) = w.until {
        let _ = writeln!(text, "until {}s", u.as_secs_f64());
    }
    let mut labels = Labels::new();
    for (i, (name, _)) in w.nodes.iter().enumerate() {
        for (inst, vr, ifname) in &routers[i] {
            let seg = seg_of
                .get(&(name.clone(), ifname.clone()))
                .cloned()
                .unwrap_or_else(|| ifname.clone());
            labels.insert((name.clone(), inst.clone()), format!("{vr} on {seg}"));
        }
    }
    Ok((text, labels))
}

/// (node, instance) -> its virtual router's label.
pub type Labels = BTreeMap<(String, String), String>;

/// `kill r1 at 10s` -> `10s kill r1`; `link r2:eth0 down at 20s` -> `20s link r2 eth0
/// down`; `script chk on r1 fails at 30s` -> `30s r1 script chk fails`; anything else the
/// scenario language takes after `at T` is taken as written.
fn quick_event(e: &str) -> Result<String, WhatIfError> {
    let words: Vec<&str> = e.split_whitespace().collect();
    let Some(pos) = words.iter().rposition(|w| *w == "at") else {
        return Err(WhatIfError(format!(
            "--event `{e}`: say when, e.g. `kill r1 at 10s`"
        )));
    };
    let (what, when) = (&words[..pos], &words[pos + 1..]);
    let [t] = when else {
        return Err(WhatIfError(format!("--event `{e}`: one time after `at`")));
    };
    let t = if t.chars().last().is_some_and(|c| c.is_ascii_digit()) {
        format!("{t}s")
    } else {
        t.to_string()
    };
    let body = match what {
        ["link", port, updown] => {
            let (node, ifname) = port.split_once(':').ok_or_else(|| {
                WhatIfError(format!("--event `{e}`: write link NODE:IFACE up|down"))
            })?;
            format!("link {node} {ifname} {updown}")
        }
        ["script", name, "on", node, rest @ ..] => {
            format!("{node} script {name} {}", rest.join(" "))
        }
        [] => return Err(WhatIfError(format!("--event `{e}`: what happens?"))),
        other => other.join(" "),
    };
    Ok(format!("{t} {body}"))
}

/// Runs a what-if and renders its timeline and summary.
pub fn run(w: &WhatIf) -> Result<String, WhatIfError> {
    let (text, labels) = scenario_text(w)?;
    let file = Path::new("/whatif.scn");
    let outcome =
        run_text(&text, file, w.seed, w.until).map_err(|BadScenario(m)| WhatIfError(m))?;
    Ok(render(&outcome.trace, outcome.end, &labels))
}

fn secs(t: Instant) -> String {
    fmt_duration(t.saturating_since(Instant::ZERO))
}

/// The readable timeline: what an operator wants to know, no adverts; then, for each
/// virtual router, who was Master when and how long each takeover took.
pub fn render(trace: &[TraceLine], end: Instant, labels: &Labels) -> String {
    let mut out = String::from("Timeline\n");
    // (host, instance) -> Master since
    let mut master: BTreeMap<(String, String), Option<Instant>> = BTreeMap::new();
    let mut periods: Vec<Period> = Vec::new();
    let mut conflicts = 0;
    for l in trace {
        let line = match &l.rec {
            Rec::State {
                instance,
                from,
                to,
                prio,
            } => {
                let k = (l.host.clone(), instance.clone());
                if to == "MASTER" {
                    master.insert(k, Some(l.at));
                } else if let Some(Some(since)) = master.insert(k.clone(), None) {
                    periods.push((k.0, k.1, since, Some(l.at)));
                }
                Some(format!("{instance} {from} -> {to} (priority {prio})"))
            }
            Rec::AddAddr { ifname, addr, .. } => Some(format!("+ {addr} on {ifname}")),
            Rec::DelAddr { ifname, addr, .. } => Some(format!("- {addr} on {ifname}")),
            Rec::Script { argv, run: None } => Some(format!("runs {argv}")),
            Rec::Fifo { path, line } => Some(format!("writes {} to {path}", line.trim_end())),
            Rec::Life(s) => {
                if matches!(s.as_str(), "killed" | "stopped") {
                    for ((h, i), since) in master.iter_mut() {
                        if *h == l.host {
                            if let Some(s) = since.take() {
                                periods.push((h.clone(), i.clone(), s, Some(l.at)));
                            }
                        }
                    }
                }
                Some(format!("keepalived {s}"))
            }
            Rec::Link { ifname, up } => {
                Some(format!("link {ifname} {}", if *up { "up" } else { "down" }))
            }
            Rec::Net(s) => Some(s.clone()),
            Rec::Conflict {
                instance,
                kind,
                peer,
            } => {
                conflicts += 1;
                Some(format!("{instance} CONFLICT {kind} with {peer}"))
            }
            Rec::Warn(s) => Some(format!("warning: {s}")),
            _ => None,
        };
        if let Some(line) = line {
            let _ = writeln!(out, "{:>14}  {:<6} {line}", secs(l.at), l.host);
        }
    }
    for ((h, i), since) in master {
        if let Some(s) = since {
            periods.push((h, i, s, None));
        }
    }
    let label = |h: &str, i: &str| {
        labels
            .get(&(h.to_string(), i.to_string()))
            .cloned()
            .unwrap_or_else(|| format!("{h} {i}"))
    };
    let mut by_router: BTreeMap<String, Vec<Period>> = BTreeMap::new();
    for p in periods {
        by_router.entry(label(&p.0, &p.1)).or_default().push(p);
    }
    let _ = writeln!(out, "\nSummary (until {})", secs(end));
    for (router, mut ps) in by_router {
        ps.sort_by(|a, b| (a.2, &a.0).cmp(&(b.2, &b.0)));
        let _ = writeln!(out, "  {router}:");
        let mut last_end: Option<Instant> = None;
        for (h, i, from, to) in &ps {
            let gap = match last_end {
                Some(e) if *from > e => format!(
                    ", {} after the previous Master stopped",
                    fmt_duration(from.saturating_since(e))
                ),
                _ => String::new(),
            };
            let until = to.map_or("the end".to_string(), secs);
            let _ = writeln!(
                out,
                "    {h} ({i}) Master from {} to {until}{gap}",
                secs(*from)
            );
            last_end = *to;
        }
    }
    let _ = writeln!(out, "  conflicts raised: {conflicts}");
    out
}

/// `--simulate --node ...`: prints the timeline; 0, or 2 with the reason on stderr.
pub fn whatif_main(w: &WhatIf) -> i32 {
    match run(w) {
        Ok(text) => {
            print!("{text}");
            0
        }
        Err(WhatIfError(m)) => {
            eprintln!("{m}");
            2
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_events_become_scenario_stimuli() {
        assert_eq!(quick_event("kill r1 at 10s").unwrap(), "10s kill r1");
        assert_eq!(quick_event("kill r1 at 10").unwrap(), "10s kill r1");
        assert_eq!(
            quick_event("link r2:eth0 down at 20s").unwrap(),
            "20s link r2 eth0 down"
        );
        assert_eq!(
            quick_event("script chk_nginx on r1 fails at 30s").unwrap(),
            "30s r1 script chk_nginx fails"
        );
        assert_eq!(
            quick_event("partition r1 | r2 at 5s").unwrap(),
            "5s partition r1 | r2"
        );
        assert!(quick_event("kill r1").is_err());
        assert!(quick_event("at 3s").is_err());
    }

    #[test]
    fn free_addresses_avoid_what_the_files_use() {
        let mut taken = BTreeSet::new();
        taken.insert("192.168.1.254".parse().unwrap());
        let a = free_v4("192.168.1.10".parse().unwrap(), 32, &taken).unwrap();
        assert_eq!(a, Ipv4Addr::new(192, 168, 1, 253));
        let b = free_v4("10.1.0.7".parse().unwrap(), 16, &BTreeSet::new()).unwrap();
        assert_eq!(b, Ipv4Addr::new(10, 1, 255, 254));
    }
}
