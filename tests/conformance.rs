//! Runs every scenario of `conformance/` in the simulated world (seed `SIM_SEED`, default 1)
//! and fails listing each failing scenario with its expected-vs-actual output.
//! `CONFORMANCE_FILTER=04` runs only the files whose name contains `04`; `SIM_PRINT=1`
//! prints each trace.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

use keepalived_rs::sim::{self, scenario};
use std::path::{Path, PathBuf};

fn files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance");
    let filter = std::env::var("CONFORMANCE_FILTER").unwrap_or_default();
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("conformance/ is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "scn"))
        .filter(|p| p.to_string_lossy().contains(&filter))
        .collect();
    v.sort();
    v
}

fn seed() -> u64 {
    std::env::var("SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

#[test]
fn every_scenario_file_parses() {
    let files = files();
    assert!(
        std::env::var("CONFORMANCE_FILTER").is_ok() || files.len() >= 48,
        "expected the 48 scenarios of the reference, found {}",
        files.len()
    );
    let mut bad = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        if let Err(e) = scenario::parse(&text) {
            bad.push(format!("{}:{}: {}", f.display(), e.line, e.message));
        }
        if !text
            .lines()
            .take(30)
            .any(|l| l.starts_with('#') && l.contains("Checks:"))
        {
            bad.push(format!(
                "{}: no `# Checks:` line citing what it checks",
                f.display()
            ));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn every_scenario_meets_its_expectations() {
    let seed = seed();
    let mut report = String::new();
    let mut failed = Vec::new();
    let files = files();
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let result = sim::run_file(f, seed, None);
        if std::env::var("SIM_PRINT").is_ok() {
            if let Ok(o) = &result {
                eprintln!("--- {name}\n{}", o.trace_text());
            }
        }
        match result {
            Err(sim::BadScenario(m)) => {
                failed.push(name.clone());
                report.push_str(&format!("=== {name}: cannot run\n{m}\n"));
            }
            Ok(o) if !o.passed() => {
                failed.push(name.clone());
                report.push_str(&format!("=== {name}\n{}", o.failure_text(f)));
            }
            Ok(_) => {}
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} scenarios failed (seed {seed}): {}\n\n{report}\nreplay one with: cargo run -- --simulate conformance/<file> --seed {seed}",
        failed.len(),
        files.len(),
        failed.join(", ")
    );
}

#[test]
fn the_demo_failover_meets_its_expectations() {
    let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo/failover.scn");
    match sim::run_file(&f, 1, None) {
        Ok(o) => assert!(o.passed(), "{}", o.failure_text(&f)),
        Err(sim::BadScenario(m)) => panic!("{m}"),
    }
}
