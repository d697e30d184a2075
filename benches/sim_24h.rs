//! 24 simulated hours of a three-router cluster (priorities 100/150/200, 1 s adverts, one
//! LAN) with a failover every hour: prints the wall time and the number of trace lines.
//! Target: well under 1 s in release (`cargo bench --bench sim_24h`).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

use keepalived_rs::sim;
use std::path::Path;
use std::time::Instant;

fn router(name: &str, n: u8, prio: u8) -> String {
    format!(
        "host {name}\n  iface eth0 lan 192.0.2.{n}/24 fe80::{n}\n  config <<END\n\
vrrp_instance VI_1 {{\n    state BACKUP\n    interface eth0\n    virtual_router_id 51\n    priority {prio}\n    \
advert_int 1\n    virtual_ipaddress {{\n        192.0.2.100/32\n    }}\n}}\nEND\n"
    )
}

fn main() {
    let mut text = format!(
        "segment lan\n{}{}{}",
        router("r1", 1, 100),
        router("r2", 2, 150),
        router("r3", 3, 200)
    );
    // Every hour the Master (r3) is stopped for 10 minutes: two failovers per hour.
    for h in 0..24u64 {
        text.push_str(&format!(
            "at {}s stop r3\nat {}s start r3\n",
            h * 3600 + 1800,
            h * 3600 + 2400
        ));
    }
    text.push_str("until 24h\nexpect 86399s r3 state MASTER\n");
    let file = Path::new("benches/sim_24h.scn");
    let t0 = Instant::now();
    let out = match sim::run_text(&text, file, 1, None) {
        Ok(o) => o,
        Err(sim::BadScenario(m)) => {
            eprintln!("{m}");
            std::process::exit(2);
        }
    };
    let wall = t0.elapsed();
    let masters = out
        .trace
        .iter()
        .filter(|l| l.to_string().contains("-> MASTER"))
        .count();
    println!(
        "sim_24h: 24 h of 3 routers at 1 s adverts: {:.3} s wall, {} trace lines, {} takeovers, expectations {}",
        wall.as_secs_f64(),
        out.trace.len(),
        masters,
        if out.passed() { "met" } else { "FAILED" }
    );
    if !out.passed() {
        eprint!("{}", out.failure_text(file));
        std::process::exit(1);
    }
}
