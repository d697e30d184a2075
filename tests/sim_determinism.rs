//! Same scenario + same seed = byte-identical trace: twice in one process (every
//! conformance file, and a lossy, jittery three-router scenario) and in two separate
//! processes (`keepalived-rs --simulate FILE --seed N`). A different seed must change the
//! lossy run (the faults really come from the seed).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

use keepalived_rs::sim;
use std::path::{Path, PathBuf};
use std::process::Command;

fn router(name: &str, n: u8, prio: u8) -> String {
    format!(
        "host {name}\n  iface eth0 lan 192.0.2.{n}/24 fe80::{n}\n  config <<END\n\
vrrp_instance VI_1 {{\n    state BACKUP\n    interface eth0\n    virtual_router_id 51\n    priority {prio}\n    \
advert_int 1\n    version 3\n    virtual_ipaddress {{\n        192.0.2.100/32\n    }}\n}}\nEND\n"
    )
}

fn lossy() -> String {
    format!(
        "segment lan delay 1ms jitter 30ms loss 25% dup 5%\n{}{}{}\
at 10s kill r3\nat 15s partition r1 | r2\nat 20s start r3\nat 25s heal\nat 30s pause r2\nat 33s resume r2\n\
until 60s\n",
        router("r1", 1, 100),
        router("r2", 2, 150),
        router("r3", 3, 200)
    )
}

fn lossy_file() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("determinism-lossy.scn");
    std::fs::write(&p, lossy()).expect("write the scenario");
    p
}

#[test]
fn same_seed_same_trace_in_process() {
    let f = Path::new("lossy.scn");
    let a = sim::run_text(&lossy(), f, 42, None).unwrap_or_else(|e| panic!("{}", e.0));
    let b = sim::run_text(&lossy(), f, 42, None).unwrap_or_else(|e| panic!("{}", e.0));
    assert_eq!(a.trace_text(), b.trace_text());
    assert!(
        a.trace.len() > 100,
        "the run did something: {} lines",
        a.trace.len()
    );
    let c = sim::run_text(&lossy(), f, 43, None).unwrap_or_else(|e| panic!("{}", e.0));
    assert_ne!(
        a.trace_text(),
        c.trace_text(),
        "seed 43 drew the same faults as seed 42"
    );
}

#[test]
fn every_conformance_file_is_deterministic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "scn"))
        .collect();
    files.sort();
    for f in files {
        let (Ok(a), Ok(b)) = (sim::run_file(&f, 7, None), sim::run_file(&f, 7, None)) else {
            continue; // a file that cannot run is reported by tests/conformance.rs
        };
        assert_eq!(a.trace_text(), b.trace_text(), "{}", f.display());
    }
}

#[test]
fn same_seed_same_trace_in_two_processes() {
    let file = lossy_file();
    let run = || {
        let out = Command::new(env!("CARGO_BIN_EXE_keepalived-rs"))
            .arg("--simulate")
            .arg(&file)
            .args(["--seed", "42"])
            .output()
            .expect("run keepalived-rs --simulate");
        assert_eq!(
            out.status.code(),
            Some(0),
            "stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let a = run();
    let b = run();
    assert!(!a.is_empty());
    assert_eq!(a, b, "two processes printed different traces");
    let inproc = sim::run_file(&file, 42, None).unwrap_or_else(|e| panic!("{}", e.0));
    assert_eq!(
        String::from_utf8_lossy(&a),
        inproc.trace_text(),
        "process and library disagree"
    );
}
