//! Differential test of the route and rule grammar against keepalived 2.2.7: every line of
//! tests/iproute/routes.txt and rules.txt, put in `virtual_routes` / `virtual_rules` and in
//! `static_routes` / `static_rules`, gets the same `-t` exit status from keepalived-rs as
//! from keepalived, checked inside a scratch network namespace that has the interfaces
//! the lines name (eth0, eth1). The lines where the two deliberately differ are listed,
//! with the reason, in tests/iproute/known_differences.txt.
//!
//! Needs root (the namespace) and keepalived; under CI neither may be missing.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

mod sys_util;

use std::path::Path;
use sys_util::*;

const KEEPALIVED: &str = "/usr/sbin/keepalived";

fn lines(name: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/iproute")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// (block, line) pairs whose verdicts differ on purpose.
fn known() -> Vec<(String, String)> {
    lines("known_differences.txt")
        .into_iter()
        .filter_map(|l| {
            let mut it = l.splitn(3, '\t');
            Some((it.next()?.to_string(), it.next()?.to_string()))
        })
        .collect()
}

fn config(block: &str, line: &str) -> String {
    let vrrp = |inner: &str| {
        format!(
            "vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  \
             priority 100\n  virtual_ipaddress {{\n    10.0.0.100/24\n  }}\n{inner}}}\n"
        )
    };
    if block.starts_with("virtual") {
        vrrp(&format!("  {block} {{\n    {line}\n  }}\n"))
    } else {
        format!("{}{block} {{\n  {line}\n}}\n", vrrp(""))
    }
}

fn status(ns: &Netns, program: &str, conf: &Path) -> i32 {
    let out = std::process::Command::new("ip")
        .args(["netns", "exec", &ns.name, program, "-t", "-f"])
        .arg(conf)
        .output()
        .expect("run -t");
    out.status.code().unwrap_or(-1)
}

#[test]
fn route_and_rule_verdicts_match_keepalived() {
    if !require_root("route_and_rule_verdicts_match_keepalived") {
        return;
    }
    if !Path::new(KEEPALIVED).exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "keepalived is not installed (CI installs it)"
        );
        eprintln!("NOTICE: keepalived not installed; differential test skipped");
        return;
    }
    let ns = Netns::new("rd");
    ns.must("ip link add eth0 type veth peer name eth1 && ip link set eth0 up && ip link set eth1 up && ip addr add 10.0.0.1/24 dev eth0");
    let dir = std::env::temp_dir().join(format!("krs-route-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let conf = dir.join("t.conf");
    let known = known();
    let mut checked = 0;
    let mut differ = Vec::new();
    let mut stale = known.clone();
    for (file, blocks) in [
        ("routes.txt", ["virtual_routes", "static_routes"]),
        ("rules.txt", ["virtual_rules", "static_rules"]),
    ] {
        for line in lines(file) {
            for block in blocks {
                std::fs::write(&conf, config(block, &line)).expect("write");
                let theirs = status(&ns, KEEPALIVED, &conf);
                let ours = status(&ns, env!("CARGO_BIN_EXE_keepalived-rs"), &conf);
                checked += 1;
                let key = (block.to_string(), line.clone());
                if known.contains(&key) {
                    stale.retain(|k| k != &key);
                    continue;
                }
                if theirs != ours {
                    differ.push(format!(
                        "{block} `{line}`: keepalived {theirs}, keepalived-rs {ours}"
                    ));
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!(
        "{checked} configurations checked, {} listed as deliberate differences",
        known.len()
    );
    assert!(
        differ.is_empty(),
        "{} verdict(s) differ from keepalived:\n{}",
        differ.len(),
        differ.join("\n")
    );
    assert!(
        stale.is_empty(),
        "known differences not in the line lists: {stale:?}"
    );
}
