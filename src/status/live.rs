//! The live status of `keepalived-rs --status [--json] [INSTANCE...]` (an extension of
//! keepalived-rs, answered on the control socket): every instance's state, effective and
//! configured priority, the Master as last heard, time and reason of the last transition,
//! tracked objects and their states, VRID conflicts, counters; then sync groups, the
//! tracked scripts, files and processes, and the real servers with their checkers. Built from the same [`Snapshot`] as the dumps.
//!
//! Each section is one function from the snapshot to [`Record`]s (listed in [`SECTIONS`]);
//! `super::doc` renders the same records as text or JSON. A new part of the status (real
//! servers, checkers) is one more function in that list.

use super::doc::{self, Record, Section, TextStyle, Value};
use super::json::state_number;
use super::snapshot::{InstanceStatus, Snapshot, TrackKind, Tracked};
use super::text::vip;
use super::HostFacts;
use crate::config::model::VrrpVersion;
use crate::vrrp::State;

/// What a section function sees.
pub struct View<'a> {
    pub snap: &'a Snapshot,
    pub facts: &'a HostFacts,
    /// Instance names asked for (empty: all).
    pub only: &'a [String],
}

impl View<'_> {
    fn wanted(&self, name: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|n| n == name)
    }

    fn time(&self, t: Option<crate::sched::Instant>) -> Value {
        t.map_or(Value::Null, |t| Value::Time(self.facts.wall(t)))
    }
}

/// One section: its JSON member, its text title, its records.
struct SectionFn {
    key: &'static str,
    title: &'static str,
    /// Shown when particular instances are asked for.
    with_filter: bool,
    records: fn(&View) -> Vec<Record>,
}

/// The sections, in order.
const SECTIONS: &[SectionFn] = &[
    SectionFn {
        key: "instances",
        title: "VRRP instance",
        with_filter: true,
        records: instances,
    },
    SectionFn {
        key: "sync_groups",
        title: "VRRP sync group",
        with_filter: false,
        records: groups,
    },
    SectionFn {
        key: "scripts",
        title: "VRRP script",
        with_filter: false,
        records: scripts,
    },
    SectionFn {
        key: "track_files",
        title: "Track file",
        with_filter: false,
        records: files,
    },
    SectionFn {
        key: "track_processes",
        title: "Track process",
        with_filter: false,
        records: processes,
    },
    SectionFn {
        key: "real_servers",
        title: "Real server",
        with_filter: false,
        records: real_servers,
    },
];

/// The names in `only` that are no instance of the snapshot.
pub fn unknown_instances(snap: &Snapshot, only: &[String]) -> Vec<String> {
    only.iter()
        .filter(|n| !snap.instances.iter().any(|i| &i.cfg.name == *n))
        .cloned()
        .collect()
}

fn sections(v: &View) -> Vec<Section> {
    SECTIONS
        .iter()
        .filter(|s| v.only.is_empty() || s.with_filter)
        .map(|s| Section {
            key: s.key,
            title: s.title,
            records: (s.records)(v),
        })
        .collect()
}

fn header(v: &View) -> Record {
    Record::new()
        .with("program", "keepalived-rs")
        .with("version", env!("CARGO_PKG_VERSION"))
        .with("host", v.facts.hostname.as_str())
        .with("time", Value::Time(v.facts.wall(v.snap.now)))
        .with("uptime", Value::Float(v.snap.now.as_nanos() as f64 / 1e9))
}

/// The status as text: a header line, then one block per instance (and, without a
/// filter, per sync group, script, file and process).
pub fn render_status_text(snap: &Snapshot, facts: &HostFacts, only: &[String]) -> String {
    let v = View { snap, facts, only };
    let style = TextStyle {
        utc_offset_secs: facts.utc_offset_secs,
    };
    let mut out = format!(
        "keepalived-rs {} on {}, {} (up {:.0} s)\n\n",
        env!("CARGO_PKG_VERSION"),
        if facts.hostname.is_empty() {
            "-"
        } else {
            &facts.hostname
        },
        facts.wall(snap.now).ctime(facts.utc_offset_secs),
        snap.now.as_nanos() as f64 / 1e9
    );
    out.push_str(&doc::text(&sections(&v), style));
    out
}

/// The status as JSON: `{"program", "version", "host", "time", "uptime", "instances":
/// [...], "sync_groups": [...], "scripts": [...], "track_files": [...],
/// "track_processes": [...]}` (only `instances` with a filter).
pub fn render_status_json(snap: &Snapshot, facts: &HostFacts, only: &[String]) -> String {
    let v = View { snap, facts, only };
    doc::json(&header(&v), &sections(&v))
}

fn state_word(s: State) -> &'static str {
    match s {
        State::Initialize => "INIT",
        State::Backup => "BACKUP",
        State::Master => "MASTER",
        State::Fault => "FAULT",
        State::Stop => "STOP",
    }
}

/// The Master as this instance knows it: itself when Master, else the last one heard.
fn master(i: &InstanceStatus) -> Value {
    match (i.state, i.master_heard) {
        (State::Master, _) => Record::new()
            .with("address", i.src_addr.map(|a| a.to_string()))
            .with("priority", i.effective_priority)
            .with("self", true)
            .into(),
        (_, Some((addr, prio))) => Record::new()
            .with("address", addr.to_string())
            .with("priority", prio)
            .with("self", false)
            .into(),
        _ => Value::Null,
    }
}

/// What a tracked object reports right now, in words.
fn tracked_status(v: &View, t: &Tracked) -> String {
    let s = v.snap;
    match t.kind {
        TrackKind::Interface => {
            let up = s.interfaces.iter().any(|i| i.name == t.name && i.up);
            if up { "up" } else { "down" }.to_string()
        }
        TrackKind::Script => match s.scripts.iter().find(|x| x.cfg.name == t.name) {
            Some(x) if x.ok => "GOOD".into(),
            Some(_) => "BAD".into(),
            None => "unknown".into(),
        },
        TrackKind::File => match s.files.iter().find(|f| f.cfg.name == t.name) {
            Some(f) => f
                .value
                .map_or("unread".to_string(), |n| format!("value {n}")),
            None => "unknown".into(),
        },
        TrackKind::Process => match s.processes.iter().find(|p| p.cfg.name == t.name) {
            Some(p) => {
                let n = p.count.map_or("not counted".to_string(), |c| c.to_string());
                let q = if p.have_quorum { "quorum" } else { "no quorum" };
                format!("{n} running, {q}")
            }
            None => "unknown".into(),
        },
    }
}

fn kind_word(k: TrackKind) -> &'static str {
    match k {
        TrackKind::Interface => "interface",
        TrackKind::Script => "script",
        TrackKind::File => "file",
        TrackKind::Process => "process",
    }
}

fn tracked(v: &View, list: &[Tracked]) -> Value {
    Value::List(
        list.iter()
            .map(|t| {
                Record::new()
                    .with("kind", kind_word(t.kind))
                    .with("name", t.name.as_str())
                    .with("status", tracked_status(v, t))
                    .with("weight", t.weight)
                    .with("reverse", t.reverse)
                    .with("via_sync_group", t.via_group)
                    .with("fault", t.fault)
                    .with("priority_delta", t.delta)
                    .into()
            })
            .collect(),
    )
}

fn instance(v: &View, i: &InstanceStatus) -> Record {
    let c = &i.cfg;
    let s = &i.stats;
    let vips: Vec<Value> = c
        .vips
        .iter()
        .map(|a| {
            let line = vip(a, &i.vip_ifname, false);
            line.split(' ')
                .next()
                .unwrap_or_default()
                .to_string()
                .into()
        })
        .collect();
    let conflicts = i
        .conflicts
        .iter()
        .map(|k| {
            Record::new()
                .with("kind", k.kind.word())
                .with("active", k.active)
                .with("episodes", k.episodes)
                .with("peer", k.peer.map(|p| p.to_string()))
                .with("since", v.time(k.since))
                .with("last_seen", v.time(k.last_seen))
                .into()
        })
        .collect();
    let counters = Record::new()
        .with("advert_rcvd", s.adverts_received)
        .with("advert_sent", s.adverts_sent)
        .with("become_master", s.became_master)
        .with("release_master", s.released_master)
        .with("packet_len_err", s.length_errors)
        .with("advert_interval_err", s.interval_errors)
        .with("ip_ttl_err", s.ttl_errors)
        .with("invalid_type_rcvd", s.type_errors)
        .with("addr_list_err", s.address_list_errors)
        .with("invalid_authtype", s.auth_type_invalid)
        .with("authtype_mismatch", s.auth_type_mismatch)
        .with("auth_failure", s.auth_failures)
        .with("pri_zero_rcvd", s.priority_zero_received)
        .with("pri_zero_sent", s.priority_zero_sent)
        .with("vips_restored", s.vips_restored)
        .with("conflicts", s.conflicts)
        .with("discarded", s.discarded());
    Record::new()
        .with("name", c.name.as_str())
        .with("state", state_word(i.state))
        .with("state_code", state_number(i.state))
        .with("wanted_state", state_word(i.wantstate))
        .with("interface", i.vip_ifname.as_str())
        .with("vrid", c.vrid)
        .with(
            "version",
            match c.version {
                VrrpVersion::V2 => 2u8,
                VrrpVersion::V3 => 3,
            },
        )
        .with("effective_priority", i.effective_priority)
        .with("configured_priority", c.priority)
        .with("master", master(i))
        .with("last_transition", v.time(i.last_transition))
        .with(
            "last_transition_reason",
            i.last_transition_reason.as_ref().map(|r| r.to_string()),
        )
        .with("advert_interval", Value::Float(i.adver_int.as_secs_f64()))
        .with(
            "master_advert_interval",
            Value::Float(i.master_adver_int.as_secs_f64()),
        )
        .with("vips", Value::List(vips))
        .with("sync_group", i.sync_group.clone())
        .with("tracked", tracked(v, &i.tracked))
        .with("conflicts", Value::List(conflicts))
        .with("counters", counters)
}

fn instances(v: &View) -> Vec<Record> {
    v.snap
        .instances
        .iter()
        .filter(|i| v.wanted(&i.cfg.name))
        .map(|i| instance(v, i))
        .collect()
}

fn groups(v: &View) -> Vec<Record> {
    v.snap
        .groups
        .iter()
        .map(|g| {
            let members: Vec<Value> = g.cfg.members.iter().map(|m| m.as_str().into()).collect();
            Record::new()
                .with("name", g.cfg.name.as_str())
                .with("state", state_word(g.state))
                .with("members", Value::List(members))
                .with("members_in_fault", g.members_fault)
                .with("tracked", tracked(v, &g.tracked))
        })
        .collect()
}

fn scripts(v: &View) -> Vec<Record> {
    v.snap
        .scripts
        .iter()
        .map(|s| {
            Record::new()
                .with("name", s.cfg.name.as_str())
                .with("status", if s.ok { "GOOD" } else { "BAD" })
                .with("running", s.running)
                .with("command", s.cfg.script.argv.join(" "))
                .with("interval", Value::Float(s.cfg.interval.as_secs_f64()))
                .with("weight", s.cfg.weight)
        })
        .collect()
}

fn files(v: &View) -> Vec<Record> {
    v.snap
        .files
        .iter()
        .map(|f| {
            Record::new()
                .with("name", f.cfg.name.as_str())
                .with("file", f.cfg.file.as_str())
                .with("value", f.value)
                .with("weight", f.cfg.weight)
        })
        .collect()
}

fn processes(v: &View) -> Vec<Record> {
    v.snap
        .processes
        .iter()
        .map(|p| {
            Record::new()
                .with("name", p.cfg.name.as_str())
                .with("process", p.cfg.process.join(" "))
                .with("running", p.count)
                .with("quorum", p.cfg.quorum)
                .with("have_quorum", p.have_quorum)
                .with("weight", p.cfg.weight)
        })
        .collect()
}

/// Every real server of every virtual server, with its checkers.
fn real_servers(v: &View) -> Vec<Record> {
    let mut out = Vec::new();
    for vs in &v.snap.virtual_servers {
        for rs in &vs.real_servers {
            let checkers: Vec<Value> = rs
                .checkers
                .iter()
                .map(|c| {
                    let state = if !c.enabled {
                        "NOT IMPLEMENTED"
                    } else if c.up {
                        "UP"
                    } else {
                        "DOWN"
                    };
                    Value::Rec(
                        Record::new()
                            .with("type", c.cfg.kind.keyword())
                            .with("state", state)
                            .with("checks", c.checks)
                            .with("failures", c.failures)
                            .with("retries_used", c.retry_it)
                            .with("weight_delta", c.weight_delta)
                            .with(
                                "last_failure",
                                c.last_failure.clone().map_or(Value::Null, Value::Str),
                            ),
                    )
                })
                .collect();
            out.push(
                Record::new()
                    .with("virtual_server", vs.name.as_str())
                    .with("real_server", rs.name.as_str())
                    .with("state", if rs.up { "UP" } else { "DOWN" })
                    .with("weight", rs.weight)
                    .with("configured_weight", rs.cfg.weight)
                    .with("inhibit_on_failure", rs.cfg.inhibit_on_failure)
                    .with("became_up", rs.up_transitions)
                    .with("became_down", rs.down_transitions)
                    .with("last_transition", v.time(rs.last_transition))
                    .with("checkers", Value::List(checkers)),
            );
        }
    }
    out
}
