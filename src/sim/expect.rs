//! Checking a scenario's expectations against the trace of its run, and explaining a
//! failure: the expectation, what was found instead, and the actual trace lines of that
//! host around the expected time.
//!
//! Without an instance name, an expectation about a host looks at all its instances: it
//! holds if any instance matches (`never`: if none does).

use super::ipvs::SimIpvs;
use super::scenario::{AdvertFilter, CmpOp, Expect, Predicate, SimDump, When};
use super::trace::{Rec, TraceLine};
use crate::config::model::{Route, Rule};
use crate::sched::Instant;
use crate::status;
use std::net::IpAddr;
use std::time::Duration;

/// One failed expectation, ready to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub line: usize,
    pub text: String,
    pub why: String,
    pub context: Vec<String>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "FAILED line {}: {}", self.line, self.text)?;
        writeln!(f, "  actual: {}", self.why)?;
        if !self.context.is_empty() {
            writeln!(f, "  trace:")?;
            for c in &self.context {
                writeln!(f, "    {c}")?;
            }
        }
        Ok(())
    }
}

/// Live values only the running engine knows (counters), captured by the run loop.
pub type CounterLookup<'a> = dyn Fn(&str, Option<&str>, &str) -> Result<u64, String> + 'a;

fn inst_ok(e: &Expect, instance: &str) -> bool {
    e.instance.as_deref().map_or(true, |i| i == instance)
}

fn filter_ok(f: &AdvertFilter, l: &TraceLine) -> bool {
    let Rec::Advert {
        ifname,
        src,
        dst,
        mac,
        ttl,
        summary,
        bytes,
    } = &l.rec
    else {
        return false;
    };
    let s = summary.as_ref();
    f.prio.map_or(true, |p| s.is_some_and(|s| s.prio == p))
        && f.vrid.map_or(true, |v| s.is_some_and(|s| s.vrid == v))
        && f.version
            .map_or(true, |v| s.is_some_and(|s| s.version == v))
        && f.int_cs.map_or(true, |v| s.is_some_and(|s| s.int_cs == v))
        && f.csum.map_or(true, |c| s.is_some_and(|s| s.csum == c))
        && f.addrs
            .as_ref()
            .map_or(true, |a| s.is_some_and(|s| &s.addrs == a))
        && f.src.map_or(true, |a| *src == a)
        && f.dst.map_or(true, |a| *dst == a)
        && f.mac.map_or(true, |m| *mac == m)
        && f.ttl.map_or(true, |t| *ttl == t)
        && f.ifname.as_ref().map_or(true, |i| i == ifname)
        && f.bytes.as_ref().map_or(true, |b| b == bytes)
}

/// Whether trace line `l` is an occurrence of an event predicate.
fn event_matches(e: &Expect, l: &TraceLine) -> bool {
    if l.host != e.host {
        return false;
    }
    match (&e.predicate, &l.rec) {
        (Predicate::Becomes(s), Rec::State { instance, to, .. }) => inst_ok(e, instance) && to == s,
        (Predicate::SendsAdvert(f), Rec::Advert { .. }) => filter_ok(f, l),
        (Predicate::SendsGarp { ip, mac }, Rec::Garp { ip: i, mac: m, .. })
        | (Predicate::SendsNa { ip, mac }, Rec::Na { ip: i, mac: m, .. }) => {
            ip.map_or(true, |x| x == *i) && mac.map_or(true, |x| x == *m)
        }
        (Predicate::SendsAnything, Rec::Advert { .. } | Rec::Garp { .. } | Rec::Na { .. }) => true,
        (Predicate::AnswersArp { ip, mac }, Rec::ArpReply { ip: i, mac: m, .. }) => {
            ip == i && mac.map_or(true, |x| x == *m)
        }
        (Predicate::AnswersPing(ip), Rec::PingReply { ip: i, .. }) => ip == i,
        (Predicate::ForwardsFrame, Rec::FrameRouted { .. }) => true,
        (Predicate::RaisesConflict(k), Rec::Conflict { instance, kind, .. }) => {
            inst_ok(e, instance) && k.as_ref().map_or(true, |k| k == kind)
        }
        (
            Predicate::DumpContains { kind, text },
            Rec::Dump {
                kind: k,
                text: dump,
            },
        ) => kind == k && dump_part(e, *kind, dump).is_some_and(|p| p.contains(text.as_str())),
        (
            Predicate::RealServer { rs, up, weight, vs },
            Rec::RealServer {
                vs: v,
                rs: r,
                up: u,
                weight: wt,
            },
        ) => {
            rs == r
                && up == u
                && weight.map_or(true, |x| x == *wt)
                && vs.as_ref().map_or(true, |x| x == v)
        }
        (Predicate::ReceivesConnection { from }, Rec::ServerConn { from: f, .. }) => {
            from.as_ref().map_or(true, |x| x == f)
        }
        (
            Predicate::ReceivesRequest { text, from },
            Rec::ServerRequest {
                text: t, from: f, ..
            },
        ) => {
            from.as_ref().map_or(true, |x| x == f)
                && text.as_ref().map_or(true, |x| t.contains(x.as_str()))
        }
        (Predicate::Ipvs(p), rec) if p.is_event() => p.matches(rec),
        (Predicate::RunsScript(name), Rec::Script { argv, .. }) => {
            let a0 = argv.split_whitespace().next().unwrap_or("");
            let base = a0.rsplit('/').next().unwrap_or(a0);
            a0 == name || base == name || base.split('.').next() == Some(name.as_str())
        }
        _ => false,
    }
}

/// The part of a dump an expectation looks at: one instance's when it names one.
fn dump_part<'a>(e: &Expect, kind: SimDump, dump: &'a str) -> Option<&'a str> {
    match (&e.instance, kind) {
        (Some(name), SimDump::Status(k)) => status::instance_part(k, dump, name),
        // The checker dump has no VRRP instance.
        (Some(_), SimDump::Check) => None,
        (None, _) => Some(dump),
    }
}

/// Why a `dump ... contains` expectation failed although dumps were taken: what the
/// nearest dump of that kind (at `t`, or the last one) says.
fn dump_why(e: &Expect, trace: &[TraceLine], t: Option<Instant>) -> Option<String> {
    let Predicate::DumpContains { kind, text } = &e.predicate else {
        return None;
    };
    let mut dumps = trace
        .iter()
        .filter(|l| l.host == e.host && matches!(&l.rec, Rec::Dump { kind: k, .. } if k == kind));
    let dump = match t {
        Some(t) => dumps.rfind(|l| l.at == t),
        None => dumps.next_back(),
    }?;
    let Rec::Dump { text: body, .. } = &dump.rec else {
        return None;
    };
    let part = match dump_part(e, *kind, body) {
        Some(p) => p,
        None => {
            let inst = e.instance.as_deref().unwrap_or("");
            return Some(format!(
                "the {} dump at {} has no instance {inst}",
                kind.name(),
                dump.at
            ));
        }
    };
    Some(format!(
        "the {} dump at {} does not contain {text:?}; it reads:\n{part}",
        kind.name(),
        dump.at
    ))
}

fn is_event(p: &Predicate) -> bool {
    if let Predicate::Ipvs(i) = p {
        return i.is_event();
    }
    !matches!(
        p,
        Predicate::State(_)
            | Predicate::Has(_)
            | Predicate::Lacks(_)
            | Predicate::HasRoute(_)
            | Predicate::LacksRoute(_)
            | Predicate::HasRule(_)
            | Predicate::LacksRule(_)
            | Predicate::Priority(_)
            | Predicate::Counter { .. }
    )
}

/// The host's view as it stands after every record up to and including `t`.
struct Snapshot {
    /// instance -> (state, priority)
    states: Vec<(String, String, u8)>,
    addrs: Vec<IpAddr>,
    routes: Vec<Route>,
    rules: Vec<Rule>,
    /// The kernel's IPVS table and sync daemons, replayed from the applied operations.
    ipvs: SimIpvs,
}

fn snapshot(trace: &[TraceLine], host: &str, t: Instant) -> Snapshot {
    let mut s = Snapshot {
        states: Vec::new(),
        addrs: Vec::new(),
        routes: Vec::new(),
        rules: Vec::new(),
        ipvs: SimIpvs::default(),
    };
    for l in trace.iter().filter(|l| l.host == host && l.at <= t) {
        match &l.rec {
            Rec::State {
                instance, to, prio, ..
            } => set_state(&mut s, instance, to.clone(), Some(*prio)),
            Rec::Priority { instance, prio } => {
                if let Some(x) = s.states.iter_mut().find(|x| &x.0 == instance) {
                    x.2 = *prio;
                }
            }
            Rec::Life(w) if w == "killed" || w == "stopped" => {
                for x in s.states.iter_mut() {
                    x.1 = "DOWN".into();
                }
                if w == "killed" {
                    s.addrs.clear();
                    s.routes.clear();
                    s.rules.clear();
                    s.ipvs = SimIpvs::default();
                }
            }
            Rec::AddAddr { addr, .. } if !s.addrs.contains(addr) => s.addrs.push(*addr),
            Rec::DelAddr { addr, .. } => s.addrs.retain(|a| a != addr),
            Rec::Route { add, route } => {
                s.routes.retain(|r| !r.same(route));
                if *add {
                    s.routes.push(route.clone());
                }
            }
            Rec::Rule { add, rule } => {
                s.rules.retain(|r| !r.same(rule));
                if *add {
                    s.rules.push(rule.clone());
                }
            }
            // Only what the kernel applied (refused operations changed nothing).
            Rec::Ipvs {
                op, refused: None, ..
            } => {
                let _ = s.ipvs.apply(op);
            }
            Rec::IpvsSync {
                start,
                daemon,
                refused: None,
            } => {
                let _ = s.ipvs.daemon(*start, daemon);
            }
            Rec::IpvsTimeouts {
                tcp,
                tcpfin,
                udp,
                refused: None,
            } => {
                let _ = s.ipvs.set_timeouts(*tcp, *tcpfin, *udp);
            }
            _ => {}
        }
    }
    s
}

fn set_state(s: &mut Snapshot, instance: &str, state: String, prio: Option<u8>) {
    match s.states.iter_mut().find(|x| x.0 == instance) {
        Some(x) => {
            x.1 = state;
            if let Some(p) = prio {
                x.2 = p;
            }
        }
        None => s
            .states
            .push((instance.to_string(), state, prio.unwrap_or(0))),
    }
}

/// Evaluates a state-like predicate at `t`: Ok(()) or what was found instead.
fn state_holds(
    e: &Expect,
    trace: &[TraceLine],
    t: Instant,
    counters: &CounterLookup,
) -> Result<(), String> {
    let snap = snapshot(trace, &e.host, t);
    let insts: Vec<&(String, String, u8)> =
        snap.states.iter().filter(|x| inst_ok(e, &x.0)).collect();
    let describe = || {
        if insts.is_empty() {
            "no state change recorded".to_string()
        } else {
            insts
                .iter()
                .map(|x| format!("{} {} prio {}", x.0, x.1, x.2))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    match &e.predicate {
        Predicate::State(s) => {
            if insts.iter().any(|x| &x.1 == s) {
                Ok(())
            } else {
                Err(describe())
            }
        }
        Predicate::Priority(p) => {
            if insts.iter().any(|x| x.2 == *p) {
                Ok(())
            } else {
                Err(describe())
            }
        }
        Predicate::Has(ip) | Predicate::Lacks(ip) => {
            let has = snap.addrs.contains(ip);
            let want = matches!(e.predicate, Predicate::Has(_));
            if has == want {
                Ok(())
            } else {
                let list: Vec<String> = snap.addrs.iter().map(|a| a.to_string()).collect();
                Err(format!("{} holds [{}]", e.host, list.join(" ")))
            }
        }
        Predicate::HasRoute(p) | Predicate::LacksRoute(p) => {
            let has = snap.routes.iter().any(|r| r.matches(p));
            if has == matches!(e.predicate, Predicate::HasRoute(_)) {
                Ok(())
            } else {
                let list: Vec<String> = snap.routes.iter().map(|r| r.to_string()).collect();
                Err(format!("{} has routes [{}]", e.host, list.join("; ")))
            }
        }
        Predicate::HasRule(p) | Predicate::LacksRule(p) => {
            let has = snap.rules.iter().any(|r| r.matches(p));
            if has == matches!(e.predicate, Predicate::HasRule(_)) {
                Ok(())
            } else {
                let list: Vec<String> = snap.rules.iter().map(|r| r.to_string()).collect();
                Err(format!("{} has rules [{}]", e.host, list.join("; ")))
            }
        }
        Predicate::Counter { name, op, value } => {
            match counters(&e.host, e.instance.as_deref(), name) {
                Ok(v) if op.holds(v, *value) => Ok(()),
                Ok(v) => Err(format!(
                    "counter {name} = {v}, expected {} {value}",
                    op_text(*op)
                )),
                Err(m) => Err(m),
            }
        }
        Predicate::Ipvs(p) => p.holds(&snap.ipvs),
        _ => Err("not a state predicate".into()),
    }
}

fn op_text(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
        CmpOp::Eq => "=",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
    }
}

/// Checks one expectation against a finished run ending at `end`. Counter expectations
/// are evaluated by the caller at their time and passed in `counter_result`.
pub fn check(
    e: &Expect,
    trace: &[TraceLine],
    end: Instant,
    counters: &CounterLookup,
) -> Result<(), Failure> {
    let fail = |why: String, around: Option<(Instant, Instant)>, matches_only: bool| Failure {
        line: e.line,
        text: e.text.clone(),
        why,
        context: context(e, trace, around, matches_only),
    };
    let event = is_event(&e.predicate);
    match e.when {
        When::End if event => {
            // "at some time" for events without a time.
            if trace.iter().any(|l| event_matches(e, l)) {
                return Ok(());
            }
            let why = dump_why(e, trace, None).unwrap_or_else(|| "it never happened".into());
            Err(fail(why, None, false))
        }
        When::At(t) if event => {
            if trace.iter().any(|l| l.at == t && event_matches(e, l)) {
                return Ok(());
            }
            let near: Vec<Instant> = trace
                .iter()
                .filter(|l| event_matches(e, l))
                .map(|l| l.at)
                .collect();
            let why = match near
                .iter()
                .min_by_key(|x| if **x > t { **x - t } else { t - **x })
            {
                Some(x) => format!("not at {t}; the nearest occurrence is at {x}"),
                None => dump_why(e, trace, Some(t)).unwrap_or_else(|| "it never happened".into()),
            };
            Err(fail(why, Some(window(t)), false))
        }
        When::At(t) => state_holds(e, trace, t, counters)
            .map_err(|w| fail(format!("at {t}: {w}"), Some(window(t)), false)),
        When::End => state_holds(e, trace, end, counters)
            .map_err(|w| fail(format!("at the end ({end}): {w}"), None, false)),
        When::Never { from, to } | When::Count { from, to, .. } => {
            let to = to.min(end);
            if event {
                let hits: Vec<&TraceLine> = trace
                    .iter()
                    .filter(|l| l.at >= from && l.at <= to && event_matches(e, l))
                    .collect();
                let n = hits.len() as u32;
                let want = if let When::Count { n, .. } = e.when {
                    n
                } else {
                    0
                };
                if n == want {
                    return Ok(());
                }
                let mut why = format!("{n} occurrence(s) between {from} and {to}");
                if let Some(first) = hits.first() {
                    why.push_str(&format!(", first at {}", first.at));
                }
                Err(fail(why, Some((from, to)), n > 0))
            } else {
                if let When::Count { .. } = e.when {
                    return Err(fail(
                        "`count` needs an event predicate (becomes, sends, answers...)".into(),
                        None,
                        false,
                    ));
                }
                let mut times = vec![from];
                times.extend(
                    trace
                        .iter()
                        .filter(|l| l.host == e.host && l.at > from && l.at <= to)
                        .map(|l| l.at),
                );
                times.dedup();
                for t in times {
                    if state_holds(e, trace, t, counters).is_ok() {
                        return Err(fail(format!("it holds at {t}"), Some(window(t)), false));
                    }
                }
                Ok(())
            }
        }
    }
}

fn window(t: Instant) -> (Instant, Instant) {
    let two = Duration::from_secs(2);
    (
        Instant::from_nanos(t.as_nanos().saturating_sub(two.as_nanos() as u64)),
        t + two,
    )
}

/// The host's trace lines in `around` (at most 16), or its last lines when none; the
/// network's and scripted peers' lines only when the host has none there.
fn context(
    e: &Expect,
    trace: &[TraceLine],
    around: Option<(Instant, Instant)>,
    matches_only: bool,
) -> Vec<String> {
    let in_window = |l: &&TraceLine| around.map_or(true, |(a, b)| l.at >= a && l.at <= b);
    let wanted = |l: &&TraceLine| !matches_only || event_matches(e, l);
    let mut pick: Vec<&TraceLine> = trace
        .iter()
        .filter(|l| l.host == e.host)
        .filter(in_window)
        .filter(wanted)
        .collect();
    if pick.is_empty() {
        pick = trace
            .iter()
            .filter(|l| l.host == "net" || l.host == "peer")
            .filter(in_window)
            .collect();
    }
    if pick.is_empty() {
        let mine: Vec<&TraceLine> = trace.iter().filter(|l| l.host == e.host).collect();
        pick = mine.iter().rev().take(8).rev().copied().collect();
    }
    if around.is_none() && pick.len() > 16 {
        pick = pick.split_off(pick.len() - 16);
    }
    let mut out: Vec<String> = pick.iter().take(16).map(|l| l.to_string()).collect();
    if pick.len() > 16 {
        out.push(format!("... {} more", pick.len() - 16));
    }
    if out.is_empty() {
        out.push(format!("(no trace line for {})", e.host));
    }
    out
}
