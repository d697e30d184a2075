//! Invalid configurations, table-driven: each `tests/invalid/NAME.conf` is loaded and its
//! diagnostics (`file:line:col: severity: message`, the directory stripped) and `-t` exit
//! status must equal `tests/invalid/NAME.expected`, whose first line is `status N`.
//!
//! A first line `# opts: ...` in a .conf sets load options: `-e`, `-i ID`,
//! `interfaces=a,b` (check interfaces and scripts against that host).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

use keepalived_rs::config::{self, LoadOptions};
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid")
}

fn options(text: &str) -> LoadOptions {
    let mut o = LoadOptions::default();
    if let Some(rest) = text.lines().next().and_then(|l| l.strip_prefix("# opts:")) {
        let mut it = rest.split_whitespace();
        while let Some(w) = it.next() {
            match w {
                "-e" => o.all_config = true,
                "-i" => o.config_id = it.next().map(str::to_string),
                _ if w.starts_with("interfaces=") => {
                    o.host_interfaces = Some(
                        w["interfaces=".len()..]
                            .split(',')
                            .map(str::to_string)
                            .collect(),
                    )
                }
                _ => panic!("unknown test option {w}"),
            }
        }
    }
    if o.config_id.is_none() {
        o.config_id = Some("test-host".to_string());
    }
    o
}

fn render(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("read test config");
    let loaded = config::load(path, &options(&text));
    let prefix = format!("{}/", dir().display());
    let mut out = format!("status {}\n", config::config_test_status(&loaded));
    for d in &loaded.diagnostics {
        out.push_str(&d.to_string().replace(&prefix, ""));
        out.push('\n');
    }
    out
}

#[test]
fn invalid_configs_give_exact_diagnostics() {
    let mut confs: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("tests/invalid")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .collect();
    confs.sort();
    assert!(
        confs.len() >= 40,
        "only {} invalid configurations",
        confs.len()
    );
    let update = std::env::var_os("UPDATE_EXPECTED").is_some();
    let mut failures = Vec::new();
    for conf in &confs {
        let got = render(conf);
        let exp_path = conf.with_extension("expected");
        if update {
            std::fs::write(&exp_path, &got).expect("write expected");
            continue;
        }
        let want = std::fs::read_to_string(&exp_path).unwrap_or_default();
        assert!(
            got.lines().count() > 1,
            "{}: an invalid configuration produced no diagnostic",
            conf.display()
        );
        if got != want {
            failures.push(format!(
                "{}:\n--- expected\n{want}--- got\n{got}",
                conf.file_name().unwrap_or_default().to_string_lossy()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn missing_main_file_status() {
    let p = dir().join("no-such-file.conf");
    let mut o = LoadOptions::default();
    let l = config::load(&p, &o);
    assert!(l.main_missing);
    assert_eq!(
        config::config_test_status(&l),
        0,
        "keepalived: missing file without -e is 0"
    );
    o.all_config = true;
    let l = config::load(&p, &o);
    assert_eq!(
        config::config_test_status(&l),
        4,
        "keepalived: -e and a missing file is 4"
    );
}

#[test]
fn valid_config_status_zero() {
    let text = "global_defs {\n router_id r1\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1/24\n }\n}\n";
    let l = config::load_str(text, Path::new("ok.conf"), &LoadOptions::default());
    assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
    assert_eq!(config::config_test_status(&l), 0);
}
