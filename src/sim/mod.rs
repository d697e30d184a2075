//! The simulated world: a clock that jumps to the next deadline (`clock`), a virtual
//! network of L2 segments with seeded faults (`net`, `rng`) behind learning switches
//! (`bridge`), a virtual kernel per host (`kernel`, with its IPVS table and sync daemons in
//! `ipvs`), host lifecycles (`host`), simulated
//! servers for the checkers (`service`, `http_service`, `smtp_service`; `registry` picks a
//! server kind's service; `world::conns` carries the engine's connections to them), the run
//! loop (`world`), crafted packets (`craft`), the scenario language (`scenario`), the
//! trace (`trace`) and expectation checking (`expect`). Every host runs the real [`crate::engine::Engine`].
//!
//! CONTRACT: [`simulate_main`] is what `keepalived-rs --simulate FILE` calls.

pub mod bridge;
pub mod clock;
pub mod craft;
pub mod dns_service;
pub mod expect;
pub mod host;
pub mod http_service;
pub mod icmp_service;
pub mod ipvs;
pub mod kernel;
pub mod net;
pub mod registry;
pub mod rng;
pub mod scenario;
pub mod service;
pub mod smtp_service;
pub mod trace;
pub mod udp_service;
pub mod whatif;
pub mod world;

use crate::sched::Instant;
use std::path::Path;
use std::time::Duration;

pub use expect::Failure;
pub use trace::TraceLine;
pub use world::Sim;

/// The result of running one scenario.
pub struct Outcome {
    pub trace: Vec<TraceLine>,
    pub failures: Vec<Failure>,
    pub expectations: usize,
    pub end: Instant,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// The trace as printed by `--simulate`.
    pub fn trace_text(&self) -> String {
        trace::render(&self.trace)
    }

    /// Expected vs actual for every failed expectation.
    pub fn failure_text(&self, file: &Path) -> String {
        let mut s = String::new();
        for f in &self.failures {
            s.push_str(&format!("{}:{f}", file.display()));
        }
        s.push_str(&format!(
            "{}: {} of {} expectations failed\n",
            file.display(),
            self.failures.len(),
            self.expectations
        ));
        s
    }
}

/// Why a scenario could not be run at all.
#[derive(Debug)]
pub struct BadScenario(pub String);

/// Reads a counter of a host's engine at the end of a run: the named instance's, or (with
/// no instance named) the sum over its instances plus the host-wide counters of packets no
/// instance claimed (unknown VRID, undecodable).
fn engine_counter(
    sim: &Sim,
    host: &str,
    instance: Option<&str>,
    name: &str,
) -> Result<u64, String> {
    let Some(i) = sim.host_index(host) else {
        return Err(format!("no host {host}"));
    };
    let h = &sim.hosts[i];
    let Some(engine) = h.engine.as_ref() else {
        return Err(format!(
            "{host} is not running at the end, its counters are gone"
        ));
    };
    if let Some(which) = name.strip_prefix("alerts_") {
        // The e-mail alerter's counters (host-wide).
        let (a, _) = engine.alert_stats();
        return match which {
            "queued" => Ok(a.queued),
            "sent" => Ok(a.sent),
            "dropped" => Ok(a.dropped),
            "failed" => Ok(a.failed),
            "retries" => Ok(a.retries),
            _ => Err(format!("unknown counter `{name}`")),
        };
    }
    let mut all = Vec::new();
    match instance {
        Some(x) => all.push(
            engine
                .instance_stats(x)
                .ok_or_else(|| format!("{host} has no instance {x}"))?,
        ),
        None => {
            for n in h.instance_names() {
                if let Some(s) = engine.instance_stats(&n) {
                    all.push(s);
                }
            }
            all.push(engine.host_stats());
        }
    }
    let mut total = 0u64;
    for s in &all {
        total += stat_field(s, name).ok_or_else(|| format!("unknown counter `{name}`"))?;
    }
    Ok(total)
}

/// A counter by its short name (`ttl`) or its field name (`ttl_errors`).
fn stat_field(s: &crate::vrrp::stats::Stats, name: &str) -> Option<u64> {
    Some(
        match name.trim_end_matches("_errors").trim_end_matches("_error") {
            "adverts_sent" | "sent" => s.adverts_sent,
            "adverts_received" | "received" => s.adverts_received,
            "priority_zero_sent" => s.priority_zero_sent,
            "priority_zero_received" => s.priority_zero_received,
            "became_master" => s.became_master,
            "released_master" => s.released_master,
            "ttl" => s.ttl_errors,
            "version" => s.version_errors,
            "type" => s.type_errors,
            "length" => s.length_errors,
            "checksum" => s.checksum_errors,
            "vrid" => s.vrid_errors,
            "auth" => s.auth_errors,
            "interval" => s.interval_errors,
            "interval_mismatches" | "interval_mismatch" => s.interval_mismatches,
            "address" => s.address_errors,
            "address_list" => s.address_list_errors,
            "owner_conflicts" | "owner_conflict" => s.owner_conflicts,
            "unicast_src" => s.unicast_src_errors,
            "v3_checksum_pseudo_header" | "pseudo" => s.v3_checksum_pseudo_header,
            "v3_checksum_message_only" | "message_only" => s.v3_checksum_message_only,
            "discarded" => s.discarded(),
            "vips_restored" => s.vips_restored,
            "conflicts" => s.conflicts,
            _ => return None,
        },
    )
}

/// Parses and runs the scenario `text` (read from `file`) with `seed`, up to `until` (or
/// the scenario's end), checking its expectations.
pub fn run_text(
    text: &str,
    file: &Path,
    seed: u64,
    until: Option<Duration>,
) -> Result<Outcome, BadScenario> {
    let sc = scenario::parse(text)
        .map_err(|e| BadScenario(format!("{}:{}: {}", file.display(), e.line, e.message)))?;
    let configs = world::load_configs(&sc, file).map_err(BadScenario)?;
    let end = until.map(|u| Instant::ZERO + u).unwrap_or_else(|| sc.end());
    let mut sim = Sim::new(&sc, configs, seed);
    sim.run_until(end, |_| {});
    let lookup = |h: &str, i: Option<&str>, n: &str| engine_counter(&sim, h, i, n);
    let failures = sc
        .expects
        .iter()
        .filter_map(|e| expect::check(e, &sim.trace, end, &lookup).err())
        .collect();
    Ok(Outcome {
        trace: std::mem::take(&mut sim.trace),
        failures,
        expectations: sc.expects.len(),
        end,
    })
}

/// Runs the scenario file `file`.
pub fn run_file(file: &Path, seed: u64, until: Option<Duration>) -> Result<Outcome, BadScenario> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| BadScenario(format!("{}: {e}", file.display())))?;
    run_text(&text, file, seed, until)
}

/// Runs the scenario in `file` with `seed`, up to `until` (default: the scenario's end),
/// prints its trace on stdout and, if expectations fail, expected vs actual on stderr.
/// Returns the process exit status (0 all expectations met, 1 some failed, 2 bad file).
pub fn simulate_main(file: &Path, seed: u64, until: Option<Duration>) -> i32 {
    match run_file(file, seed, until) {
        Err(BadScenario(m)) => {
            eprintln!("{m}");
            2
        }
        Ok(o) => {
            print!("{}", o.trace_text());
            if o.passed() {
                eprintln!(
                    "{}: all {} expectations met (seed {seed})",
                    file.display(),
                    o.expectations
                );
                0
            } else {
                eprint!("{}", o.failure_text(file));
                1
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONE: &str = "segment lan\nhost r1\n  iface eth0 lan 192.0.2.1/24\n  config <<END\n\
vrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  priority 100\n  \
advert_int 1\n  version 3\n  virtual_ipaddress {\n    192.0.2.100/32\n  }\n}\nEND\nuntil 5s\n";

    #[test]
    fn right_and_wrong_expectations() {
        let file = Path::new("lone.scn");
        let ok =
            format!("{LONE}expect 3.609375s r1 becomes MASTER\nexpect 4s r1 has 192.0.2.100\n");
        let o = run_text(&ok, file, 1, None).unwrap_or_else(|e| panic!("{}", e.0));
        assert!(o.passed(), "{}", o.failure_text(file));
        let bad = format!(
            "{LONE}expect 3.609374s r1 becomes MASTER\nexpect never r1 state MASTER between 0s 4s\n\
             expect 2s r1 has 192.0.2.100\nexpect count 2 r1 sends advert between 3s 4s\n\
             expect r1 counter ttl > 0\n"
        );
        let o = run_text(&bad, file, 1, None).unwrap_or_else(|e| panic!("{}", e.0));
        assert_eq!(o.failures.len(), 5, "{}", o.failure_text(file));
        let text = o.failure_text(file);
        assert!(
            text.contains("nearest occurrence is at 3.609375s"),
            "{text}"
        );
        assert!(
            text.contains("3.609375s r1 VI_1 BACKUP -> MASTER"),
            "{text}"
        );
        assert!(text.contains("counter ttl = 0"), "{text}");
    }

    #[test]
    fn bad_files_are_located() {
        let e = run_text("segment lan\nat 1x stop r1\n", Path::new("x.scn"), 1, None)
            .err()
            .unwrap();
        assert!(e.0.starts_with("x.scn:2:"), "{}", e.0);
        let noif = LONE.replace("interface eth0", "interface eth1");
        let e = run_text(&noif, Path::new("z.scn"), 1, None).err().unwrap();
        assert!(e.0.contains("z.scn:2:") && e.0.contains("eth1"), "{}", e.0);
        let broken = LONE.replace("priority 100", "priorty 100");
        let e = run_text(&broken, Path::new("y.scn"), 1, None)
            .err()
            .unwrap();
        assert!(
            e.0.contains("y.scn:9:") && e.0.contains("priorty"),
            "{}",
            e.0
        );
    }
}
