//! Random-fault runs: for several topologies (2 and 3 routers, VRRPv2 and v3, multicast and
//! unicast, IPv4 and IPv6, equal and distinct priorities, track scripts) and many seeds, a
//! fault plan drawn from the seed (loss, delay and jitter, duplication, partitions, crashes,
//! graceful stops, restarts, pauses, link flaps, failing and hung scripts) runs for 60 s,
//! then everything heals.
//!
//! Invariants:
//! - at every instant, no running host holds a VIP of an instance that is not Master, and a
//!   host where keepalived is not running holds none (stop releases, crash loses them);
//! - 15 s after the heal (well over Master_Down_Interval): exactly one Master per virtual
//!   router, with the highest priority of the running routers, and the VIPs only on it;
//! - the world never has to refuse an action (address already there or missing, advert on
//!   a down link, unknown interface): the engine's view of the kernel stays right;
//! - the trace of a seed is reproducible (checked on every 25th seed by running it twice).
//!
//! `SIM_SEEDS=N` runs seeds 0..N (default 2000); `SIM_SEED=S` runs that seed only. A
//! failure prints the seed, the plan, and writes the plan as a scenario file to replay
//! with `keepalived-rs --simulate`.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

use keepalived_rs::config::model::Config;
use keepalived_rs::config::{load_str, LoadOptions};
use keepalived_rs::engine::Engine;
use keepalived_rs::sched::Instant;
use keepalived_rs::sim::host::Status;
use keepalived_rs::sim::rng::Rng;
use keepalived_rs::sim::{scenario, trace, Sim};
use keepalived_rs::vrrp::State;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

const FAULT_PHASE_S: u64 = 60;
const SETTLE_S: u64 = 15;

struct Topology {
    name: &'static str,
    /// (priority, version, interval, unicast)
    routers: Vec<(u8, u8, &'static str, bool)>,
    /// VRRPv3 over IPv6 (VIPs fe80::100 and 2001:db8::100) instead of IPv4.
    v6: bool,
    /// Router i tracks the script `chk_app` with this weight (0: no tracking); the plan
    /// makes the script fail and recover.
    track_weights: Vec<i32>,
}

fn topologies() -> Vec<Topology> {
    vec![
        Topology {
            name: "2 routers v3",
            routers: vec![(100, 3, "1", false), (200, 3, "1", false)],
            v6: false,
            track_weights: Vec::new(),
        },
        Topology {
            name: "3 routers v3",
            routers: vec![
                (100, 3, "1", false),
                (150, 3, "1", false),
                (200, 3, "1", false),
            ],
            v6: false,
            track_weights: Vec::new(),
        },
        Topology {
            name: "2 routers v2 equal priority",
            routers: vec![(100, 2, "1", false), (100, 2, "1", false)],
            v6: false,
            track_weights: Vec::new(),
        },
        Topology {
            name: "3 routers v3 with an owner",
            routers: vec![
                (100, 3, "1", false),
                (200, 3, "1", false),
                (255, 3, "1", false),
            ],
            v6: false,
            track_weights: Vec::new(),
        },
        Topology {
            name: "2 routers v3 unicast",
            routers: vec![(150, 3, "1", true), (100, 3, "1", true)],
            v6: false,
            track_weights: Vec::new(),
        },
        Topology {
            name: "3 routers v3 at 50 cs",
            routers: vec![
                (50, 3, "0.5", false),
                (100, 3, "0.5", false),
                (100, 3, "0.5", false),
            ],
            v6: false,
            track_weights: Vec::new(),
        },
        Topology {
            name: "2 routers v3 IPv6",
            routers: vec![(100, 3, "1", false), (200, 3, "1", false)],
            v6: true,
            track_weights: Vec::new(),
        },
        Topology {
            name: "3 routers v3 with track scripts",
            routers: vec![
                (150, 3, "1", false),
                (100, 3, "1", false),
                (120, 3, "1", false),
            ],
            v6: false,
            track_weights: vec![-60, 0, -30],
        },
    ]
}

fn config_text(t: &Topology, i: usize) -> String {
    let (prio, version, int, unicast) = t.routers[i];
    let state = if prio == 255 { "MASTER" } else { "BACKUP" };
    let weight = t.track_weights.get(i).copied().unwrap_or(0);
    let mut s = String::new();
    if weight != 0 {
        s.push_str(&format!(
            "vrrp_script chk_app {{\n    script \"/usr/local/bin/chk_app\"\n    interval 1\n    timeout 2\n    weight {weight}\n}}\n"
        ));
    }
    s.push_str(&format!(
        "vrrp_instance VI_1 {{\n    state {state}\n    interface eth0\n    virtual_router_id 51\n    priority {prio}\n    advert_int {int}\n    version {version}\n"
    ));
    if weight != 0 {
        s.push_str("    track_script {\n        chk_app\n    }\n");
    }
    if unicast {
        s.push_str(&format!(
            "    unicast_src_ip 192.0.2.{}\n    unicast_peer {{\n",
            i + 1
        ));
        for j in 0..t.routers.len() {
            if j != i {
                s.push_str(&format!("        192.0.2.{}\n", j + 1));
            }
        }
        s.push_str("    }\n");
    }
    if t.v6 {
        s.push_str(
            "    virtual_ipaddress {\n        fe80::100/64\n        2001:db8::100/64\n    }\n}\n",
        );
    } else {
        s.push_str("    virtual_ipaddress {\n        192.0.2.100/32\n    }\n}\n");
    }
    s
}

/// The whole scenario of one seed, as text (so it can be written out and replayed).
fn plan(seed: u64) -> (usize, String) {
    let tops = topologies();
    let mut r = Rng::stream(seed, "fault plan");
    let ti = r.below(tops.len() as u64) as usize;
    let t = &tops[ti];
    let n = t.routers.len();
    let names: Vec<String> = (1..=n).map(|i| format!("r{i}")).collect();
    let mut s = format!(
        "# random-fault plan, seed {seed}, topology: {}\nsegment lan\n",
        t.name
    );
    for (i, name) in names.iter().enumerate() {
        s.push_str(&format!(
            "host {name}\n  iface eth0 lan 192.0.2.{}/24 2001:db8::{}/64 fe80::{}\n{}  config <<END\n{}END\n",
            i + 1,
            i + 1,
            i + 1,
            if t.track_weights.is_empty() {
                ""
            } else {
                "  script chk_app succeeds after 10ms jitter 500ms\n"
            },
            config_text(t, i)
        ));
    }
    #[derive(Clone, Copy, PartialEq)]
    enum St {
        Up,
        Down,
        Paused,
    }
    let mut st = vec![St::Up; n];
    let mut link_down = vec![false; n];
    let events = r.range(3, 14);
    let mut times: Vec<u64> = (0..events)
        .map(|_| r.range(1, FAULT_PHASE_S * 1000 - 1))
        .collect();
    times.sort();
    for ms in times {
        let at = format!("at {ms}ms");
        let h = r.below(n as u64) as usize;
        let name = &names[h];
        match r.below(10) {
            0 => s.push_str(&format!("{at} loss lan {}%\n", r.range(0, 60))),
            1 => s.push_str(&format!(
                "{at} delay lan {}ms jitter {}ms\n",
                r.range(0, 50),
                r.range(0, 50)
            )),
            2 => s.push_str(&format!("{at} dup lan {}%\n", r.range(0, 30))),
            3 => {
                // A random split into two non-empty groups.
                let mut a = Vec::new();
                let mut b = Vec::new();
                for (i, nm) in names.iter().enumerate() {
                    if i == h || (i != (h + 1) % n && r.below(2) == 0) {
                        a.push(nm.clone());
                    } else {
                        b.push(nm.clone());
                    }
                }
                s.push_str(&format!(
                    "{at} partition {} | {}\n",
                    a.join(" "),
                    b.join(" ")
                ));
            }
            4 => s.push_str(&format!("{at} heal\n")),
            5 | 6 => match st[h] {
                St::Up => {
                    let verb = if r.below(2) == 0 { "kill" } else { "stop" };
                    s.push_str(&format!("{at} {verb} {name}\n"));
                    st[h] = St::Down;
                }
                St::Down => {
                    s.push_str(&format!("{at} start {name}\n"));
                    st[h] = St::Up;
                }
                St::Paused => {
                    s.push_str(&format!("{at} resume {name}\n"));
                    st[h] = St::Up;
                }
            },
            7 => match st[h] {
                St::Up => {
                    s.push_str(&format!("{at} pause {name}\n"));
                    st[h] = St::Paused;
                }
                St::Paused => {
                    s.push_str(&format!("{at} resume {name}\n"));
                    st[h] = St::Up;
                }
                St::Down => {}
            },
            8 if !t.track_weights.is_empty() && r.below(2) == 0 => {
                let what = ["fails", "succeeds", "hangs"][r.below(3) as usize];
                s.push_str(&format!("{at} {name} script chk_app {what}\n"));
            }
            8 => {
                link_down[h] = !link_down[h];
                let ud = if link_down[h] { "down" } else { "up" };
                s.push_str(&format!("{at} link {name} eth0 {ud}\n"));
            }
            _ => {
                if st[h] == St::Up {
                    s.push_str(&format!("{at} restart {name}\n"));
                }
            }
        }
    }
    let heal = format!("at {FAULT_PHASE_S}s");
    s.push_str(&format!(
        "{heal} heal\n{heal} loss lan 0%\n{heal} dup lan 0%\n{heal} delay lan 0ms\n"
    ));
    for (i, name) in names.iter().enumerate() {
        match st[i] {
            St::Down => s.push_str(&format!("{heal} start {name}\n")),
            St::Paused => s.push_str(&format!("{heal} resume {name}\n")),
            St::Up => {}
        }
        if link_down[i] {
            s.push_str(&format!("{heal} link {name} eth0 up\n"));
        }
    }
    s.push_str(&format!("until {}s\n", FAULT_PHASE_S + SETTLE_S));
    (ti, s)
}

fn load_topology_configs(t: &Topology) -> Vec<Config> {
    (0..t.routers.len())
        .map(|i| {
            let l = load_str(
                &config_text(t, i),
                Path::new("random.conf"),
                &LoadOptions::default(),
            );
            assert!(
                !l.has_errors(),
                "topology {} config {i}: {:?}",
                t.name,
                l.diagnostics
            );
            l.config
        })
        .collect()
}

/// Whether a kernel holds the VIP of the run (IPv4 or IPv6 topologies).
fn holds_vip(k: &keepalived_rs::sim::kernel::Kernel) -> bool {
    let v4: IpAddr = "192.0.2.100".parse().unwrap();
    let v6: IpAddr = "2001:db8::100".parse().unwrap();
    k.holds(v4) || k.holds(v6)
}

/// Safety at one instant: a VIP only on a running host whose instance is Master (or a
/// paused one, frozen as it was).
fn check_instant(sim: &Sim) -> Result<(), String> {
    for h in &sim.hosts {
        let holds = holds_vip(&h.kernel);
        if !holds {
            continue;
        }
        match (&h.status, h.engine.as_ref()) {
            (Status::Running, Some(e)) => {
                let master = e
                    .instance_states()
                    .iter()
                    .any(|(_, s, _)| *s == State::Master);
                if !master {
                    return Err(format!("{} holds the VIP while {:?}", h.name, states(e)));
                }
            }
            (Status::Paused, _) => {}
            (st, _) => {
                return Err(format!(
                    "{} holds the VIP while keepalived is {st:?}",
                    h.name
                ))
            }
        }
    }
    Ok(())
}

fn states(e: &Engine) -> Vec<State> {
    e.instance_states().into_iter().map(|(_, s, _)| s).collect()
}

/// Liveness after the heal: exactly one Master, and the VIP only on it.
fn check_end(sim: &Sim) -> Result<(), String> {
    let mut masters = Vec::new();
    let mut holders = Vec::new();
    for h in &sim.hosts {
        if let Some(e) = h.engine.as_ref() {
            if states(e).contains(&State::Master) {
                masters.push(h.name.clone());
            }
        }
        if holds_vip(&h.kernel) {
            holders.push(h.name.clone());
        }
    }
    if masters.len() != 1 {
        return Err(format!(
            "{} Masters after the heal: {masters:?}",
            masters.len()
        ));
    }
    if holders != masters {
        return Err(format!("VIP on {holders:?}, Master is {masters:?}"));
    }
    // Every router preempts: the Master has the highest priority of the running routers
    // (between equal priorities, a Backup does not take over, so either may hold it).
    let prio = |h: &keepalived_rs::sim::host::Host| {
        h.engine
            .as_ref()
            .and_then(|e| e.instance_states().first().map(|s| s.2))
            .unwrap_or(0)
    };
    let best = sim.hosts.iter().map(prio).max().unwrap_or(0);
    let master_prio = sim
        .hosts
        .iter()
        .filter(|h| masters.contains(&h.name))
        .map(prio)
        .max()
        .unwrap_or(0);
    if master_prio != best {
        return Err(format!(
            "Master {masters:?} has priority {master_prio}, a running router has {best}"
        ));
    }
    Ok(())
}

/// Runs one seed; Ok(trace text) or Err(why, plan).
fn run_seed(seed: u64, configs: &[Vec<Config>]) -> Result<String, (String, String)> {
    let (ti, text) = plan(seed);
    let sc =
        scenario::parse(&text).map_err(|e| (format!("plan does not parse: {e}"), text.clone()))?;
    let mut sim = Sim::new(&sc, configs[ti].clone(), seed);
    let mut violation: Option<String> = None;
    let end = Instant::from_nanos((FAULT_PHASE_S + SETTLE_S) * 1_000_000_000);
    sim.run_until(end, |s| {
        if violation.is_none() {
            if let Err(m) = check_instant(s) {
                violation = Some(format!("at {}: {m}", s.now()));
            }
        }
    });
    if let Some(v) = violation {
        return Err((v, text));
    }
    check_end(&sim).map_err(|m| (format!("at {end}: {m}"), text.clone()))?;
    if let Some(w) = sim
        .trace
        .iter()
        .find(|l| matches!(l.rec, trace::Rec::Warn(_)))
    {
        return Err((format!("the world had to refuse an action: {w}"), text));
    }
    Ok(trace::render(&sim.trace))
}

fn report(seed: u64, why: &str, plan: &str) -> String {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("random-faults");
    let _ = std::fs::create_dir_all(&dir);
    let file = dir.join(format!("seed-{seed}.scn"));
    let body = format!("# FAILED: {why}\n{plan}");
    let written = std::fs::write(&file, body).is_ok();
    format!(
        "seed {seed}: {why}\n  replay: SIM_SEED={seed} cargo test --release --test random_faults\n{}",
        if written {
            format!("  or: cargo run --release -- --simulate {} --seed {seed}\n", file.display())
        } else {
            String::new()
        }
    )
}

#[test]
fn random_faults_keep_the_invariants() {
    let seeds: Vec<u64> = match std::env::var("SIM_SEED").ok().and_then(|s| s.parse().ok()) {
        Some(s) => vec![s],
        None => {
            let n: u64 = std::env::var("SIM_SEEDS")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(2000);
            (0..n).collect()
        }
    };
    let configs: Vec<Vec<Config>> = topologies().iter().map(load_topology_configs).collect();
    let started = std::time::Instant::now();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let workers = 2;
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let seeds = &seeds;
                let configs = &configs;
                scope.spawn(move || {
                    let mut out = Vec::new();
                    for &seed in seeds.iter().skip(w).step_by(workers) {
                        match run_seed(seed, configs) {
                            Err((why, plan)) => out.push(report(seed, &why, &plan)),
                            Ok(t1) if seed % 25 == 0 || seeds.len() == 1 => {
                                if let Ok(t2) = run_seed(seed, configs) {
                                    if t1 != t2 {
                                        out.push(report(
                                            seed,
                                            "the trace differs between two runs",
                                            &plan(seed).1,
                                        ));
                                    }
                                }
                            }
                            Ok(_) => {}
                        }
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|_| vec!["a worker panicked".into()])
            })
            .collect()
    });
    eprintln!(
        "random faults: {} seeds in {:.2?}",
        seeds.len(),
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} of {} seeds broke an invariant:\n{}",
        failures.len(),
        seeds.len(),
        failures
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn plans_are_a_function_of_the_seed() {
    assert_eq!(plan(7), plan(7));
    assert_ne!(plan(7).1, plan(8).1);
    for what in [
        "kill",
        "stop",
        "pause",
        "partition",
        "loss",
        "link",
        "script chk_app hangs",
        "restart",
    ] {
        assert!(
            (0..500).any(|seed| plan(seed).1.contains(what)),
            "no plan uses `{what}`"
        );
    }
    for seed in 0..50 {
        let (_, text) = plan(seed);
        scenario::parse(&text).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{text}"));
    }
}

/// The faults really bite: over a few seeds, partitions produce several Masters at once
/// and crashes produce failovers (so passing the invariants is not vacuous).
#[test]
fn faults_cause_failovers_and_split_brains() {
    let configs: Vec<Vec<Config>> = topologies().iter().map(load_topology_configs).collect();
    let mut split_brain = 0;
    let mut failovers = 0;
    for seed in 0..100 {
        let (ti, text) = plan(seed);
        let sc = scenario::parse(&text).unwrap();
        let mut sim = Sim::new(&sc, configs[ti].clone(), seed);
        let mut max_masters = 0;
        sim.run_until(Instant::from_nanos(FAULT_PHASE_S * 1_000_000_000), |s| {
            let m = s
                .hosts
                .iter()
                .filter(|h| {
                    h.engine
                        .as_ref()
                        .is_some_and(|e| states(e).contains(&State::Master))
                })
                .count();
            max_masters = max_masters.max(m);
        });
        if max_masters > 1 {
            split_brain += 1;
        }
        failovers += sim
            .trace
            .iter()
            .filter(|l| l.to_string().contains("BACKUP -> MASTER"))
            .count();
    }
    assert!(
        split_brain >= 10,
        "only {split_brain} of 100 seeds ever had two Masters"
    );
    assert!(failovers >= 200, "only {failovers} takeovers in 100 seeds");
}

/// The replay file a failure writes reproduces the run exactly.
#[test]
fn a_written_plan_replays_the_same_trace() {
    let configs: Vec<Vec<Config>> = topologies().iter().map(load_topology_configs).collect();
    for seed in [3, 11] {
        let direct =
            run_seed(seed, &configs).unwrap_or_else(|(why, _)| panic!("seed {seed}: {why}"));
        let file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("replay-{seed}.scn"));
        std::fs::write(&file, plan(seed).1).unwrap();
        let replay =
            keepalived_rs::sim::run_file(&file, seed, None).unwrap_or_else(|e| panic!("{}", e.0));
        assert_eq!(direct, replay.trace_text(), "seed {seed}");
    }
}

/// Every topology is drawn, and each elects a Master when left alone.
#[test]
fn every_topology_is_exercised() {
    let configs: Vec<Vec<Config>> = topologies().iter().map(load_topology_configs).collect();
    let mut seen = vec![false; topologies().len()];
    for seed in 0..200 {
        seen[plan(seed).0] = true;
    }
    assert!(
        seen.iter().all(|s| *s),
        "topologies drawn in 200 seeds: {seen:?}"
    );
    for (ti, t) in topologies().iter().enumerate() {
        let mut text = String::from("segment lan\n");
        for i in 0..t.routers.len() {
            text.push_str(&format!(
                "host r{n}\n  iface eth0 lan 192.0.2.{n}/24 2001:db8::{n}/64 fe80::{n}\n  config <<END\n{}END\n",
                config_text(t, i),
                n = i + 1
            ));
        }
        text.push_str("until 10s\n");
        let sc = scenario::parse(&text).unwrap();
        let mut sim = Sim::new(&sc, configs[ti].clone(), 1);
        sim.run_until(Instant::from_nanos(10_000_000_000), |_| {});
        check_end(&sim)
            .unwrap_or_else(|m| panic!("{}: {m}\n{}", t.name, trace::render(&sim.trace)));
    }
}
