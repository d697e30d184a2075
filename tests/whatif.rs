//! `keepalived-rs --simulate --node NAME=FILE --event ...` (an extension): the operator's
//! own configuration files in the simulated world, a readable timeline, the failover at
//! the RFC time, the same output on every run.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_keepalived-rs");
const SAMPLES: &str = "/usr/share/doc/keepalived/samples";

fn run(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(BIN)
        .args(args)
        .output()
        .expect("run keepalived-rs");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn samples_present() -> bool {
    if Path::new(SAMPLES)
        .join("keepalived.conf.vrrp.routes")
        .exists()
    {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but keepalived's samples are not installed under {SAMPLES}"
    );
    eprintln!("notice: skipping (keepalived's samples are not installed)");
    false
}

#[test]
fn two_debian_samples_fail_over_at_the_rfc_time_and_the_same_every_run() {
    if !samples_present() {
        return;
    }
    let a = format!("r1={SAMPLES}/keepalived.conf.vrrp.routes");
    let b = format!("r2={SAMPLES}/keepalived.conf.vrrp.static_ipaddress");
    let args = [
        "--simulate",
        "--node",
        &a,
        "--node",
        &b,
        "--event",
        "kill r1 at 10s",
        "--until",
        "20",
    ];
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    // Both p100 (r1 wins the start by its address); r1's last advert is at 9.609375 s, so
    // r2 takes over one Master_Down_Interval (3 x 1 s + (256 - 100) / 256 s) later.
    assert!(
        out.contains("3.609375s  r1     VI_1 BACKUP -> MASTER (priority 100)"),
        "{out}"
    );
    assert!(out.contains("10s  r1     keepalived killed"), "{out}");
    assert!(
        out.contains("13.21875s  r2     VI_1 BACKUP -> MASTER (priority 100)"),
        "{out}"
    );
    assert!(
        out.contains("r2 (VI_1) Master from 13.21875s to the end, 3.21875s after the previous Master stopped"),
        "{out}"
    );
    // The two samples advertise different address lists: the alarm says so once.
    assert!(out.contains("VI_1 CONFLICT ADDRESS_LIST"), "{out}");
    let (_, again, _) = run(&args);
    assert_eq!(out, again, "two runs differ");
}

#[test]
fn conditional_sample_high_and_low_with_a_vmac_and_twelve_second_adverts() {
    if !samples_present() {
        return;
    }
    let f = format!("{SAMPLES}/keepalived.conf.conditional_conf");
    let (high, low) = (format!("high={f}"), format!("low={f}"));
    let (code, out, err) = run(&[
        "--simulate",
        "--node",
        &high,
        "--node",
        &low,
        "--event",
        "kill high at 60s",
        "--until",
        "120",
    ]);
    assert_eq!(code, 0, "{err}");
    // `@high priority 170` / `@low priority 85`, each +20 from `track_interface eth2
    // weight 20`; advert_int 12 (v3): Master_Down_Interval = 36 s + skew.
    assert!(
        out.contains("39.09375s  high   VI_0 BACKUP -> MASTER (priority 190)"),
        "{out}"
    );
    assert!(
        out.contains("94.171875s  low    VI_0 BACKUP -> MASTER (priority 105)"),
        "{out}"
    );
}

#[test]
fn bad_command_lines_are_refused_with_a_reason() {
    let (code, _, err) = run(&["--simulate", "--node", "r1"]);
    assert_eq!(code, 1, "{err}"); // a command-line error, as for every option
    assert!(err.contains("NAME=FILE"), "{err}");
    let dir = std::env::temp_dir().join(format!("krs-whatif-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("a.conf");
    std::fs::write(
        &conf,
        "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 9\n priority 100\n \
         virtual_ipaddress {\n  10.0.0.9/24\n }\n}\n",
    )
    .unwrap();
    let node = format!("r1={}", conf.display());
    let (code, _, err) = run(&["--simulate", "--node", &node, "--event", "kill r1"]);
    assert_eq!(code, 2);
    assert!(err.contains("say when"), "{err}");
    let (code, out, err) = run(&["--simulate", "--node", &node, "--until", "5"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("3.609375s  r1     VI_1 BACKUP -> MASTER"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
