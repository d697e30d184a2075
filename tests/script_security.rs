//! Scripts run only as they should, as the right user — checked against keepalived 2.2.7
//! on the same files (issue 7, items 1, 2 and 8, and the script resource bounds).
//!
//! Each runtime case starts keepalived and keepalived-rs in turn in a scratch network
//! namespace with the same configuration, whose scripts record their arguments, uid,
//! gid and supplementary groups; the records and whether the instance reached MASTER
//! must be the same. The `-t` cases compare exit statuses. A `keepalived_script` user is
//! made, where a case needs one, by bind-mounting a passwd and group file in a private
//! mount namespace. Needs root (namespaces) and keepalived (installed when missing); under
//! CI neither is skipped.
//!
//! `KRS_TEST_BIN` runs the cases against another keepalived-rs binary (to show that they
//! fail on a build without the fixes).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

mod sys_util;

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use sys_util::{ensure_installed, require_root, unique, wait_for, Netns};

const KEEPALIVED: &str = "/usr/sbin/keepalived";
const VIP: &str = "10.77.0.100";

fn ours() -> String {
    std::env::var("KRS_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_keepalived-rs").into())
}

/// A namespace with eth0 (10.77.0.1/24) and a scratch directory (root's, 0755, under the
/// sticky /tmp) holding the scripts and an `out` directory (1777) for their records.
struct Lab {
    ns: Netns,
    dir: PathBuf,
}

impl Lab {
    fn new(tag: &str) -> Option<Lab> {
        if !require_root(tag) {
            return None;
        }
        ensure_installed(KEEPALIVED, "keepalived");
        let ns = Netns::new("ss");
        ns.must(
            "ip link add eth0 type veth peer name eth0p && ip link set eth0 up && \
             ip link set eth0p up && ip addr add 10.77.0.1/24 dev eth0",
        );
        let dir = std::env::temp_dir().join(unique("ssd"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("out")).expect("scratch dir");
        set_mode(&dir, 0o755);
        set_mode(&dir.join("out"), 0o1777);
        Some(Lab { ns, dir })
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// Writes an executable script (0755, root's) at `rel`, creating its directory.
    fn script(&self, rel: &str, text: &str) -> String {
        let p = self.path(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).expect("script dir");
        }
        std::fs::write(&p, text).expect("write script");
        set_mode(&p, 0o755);
        p.display().to_string()
    }

    /// The recorder script's text.
    fn rec(&self) -> String {
        rec_script(&self.path("out"))
    }

    /// A recorder at `rel` and the command line running it with `tag`.
    fn recorder(&self, rel: &str, tag: &str) -> String {
        format!("{} {tag}", self.script(rel, &self.rec()))
    }

    fn clear_records(&self) {
        for e in std::fs::read_dir(self.path("out"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let _ = std::fs::remove_file(e.path());
        }
    }

    /// Every record the scripts wrote: "ARGS | uid U gid G groups GS", deduplicated; the
    /// STOP notifications left out (sent at shutdown, another issue's subject).
    fn records(&self) -> BTreeSet<String> {
        std::fs::read_dir(self.path("out"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .filter_map(|t| t.lines().next().map(str::to_string))
            .filter(|l| !l.contains(" STOP "))
            .collect()
    }

    fn has_vip(&self) -> bool {
        self.ns
            .sh("ip -o addr show dev eth0")
            .1
            .contains(&format!(" {VIP}/"))
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A script recording `ARGS | uid U gid G groups G1,G2` to OUT/<pid> (one file per run:
/// each may be another user).
fn rec_script(out: &Path) -> String {
    format!(
        "#!/bin/sh\ngroups=$(echo $(grep '^Groups:' /proc/self/status | cut -f2) | tr ' ' ,)\n\
         printf '%s | uid %s gid %s groups %s\\n' \"$*\" \"$(id -u)\" \"$(id -g)\" \"$groups\" > {}/$$\nexit 0\n",
        out.display()
    )
}

fn set_mode(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Prog {
    Keepalived,
    Ours,
}

/// A daemon in the lab's namespace (optionally with a `keepalived_script` user), stopped
/// with SIGTERM (then SIGKILL) on drop.
struct Daemon {
    child: Option<Child>,
    log: PathBuf,
}

impl Daemon {
    fn start(lab: &Lab, prog: Prog, conf: &str, script_user: bool) -> Daemon {
        let name = format!("{prog:?}");
        let conf_path = lab.path(&format!("{name}.conf"));
        std::fs::write(&conf_path, conf).expect("write config");
        let log = lab.path(&format!("{name}.log"));
        let logf = std::fs::File::create(&log).expect("log file");
        let pid = |n: &str| lab.path(&format!("{name}.{n}.pid")).display().to_string();
        let mut argv: Vec<String> = match prog {
            Prog::Keepalived => vec![
                KEEPALIVED.into(),
                "-n".into(),
                "-l".into(),
                "-D".into(),
                "--vrrp".into(),
                "-p".into(),
                pid("p"),
                "-r".into(),
                pid("v"),
                "-c".into(),
                pid("c"),
            ],
            Prog::Ours => vec![
                ours(),
                "-n".into(),
                "-l".into(),
                "-D".into(),
                "-p".into(),
                pid("p"),
            ],
        };
        argv.push("-f".into());
        argv.push(conf_path.display().to_string());
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &lab.ns.name]);
        if script_user {
            // A private mount namespace whose /etc/passwd and /etc/group have the user.
            let passwd = lab.path("passwd");
            let group = lab.path("group");
            let mut p = std::fs::read_to_string("/etc/passwd").expect("passwd");
            p.push_str("keepalived_script:x:995:995::/nonexistent:/usr/sbin/nologin\n");
            std::fs::write(&passwd, p).expect("passwd copy");
            let mut g = std::fs::read_to_string("/etc/group").expect("group");
            g.push_str("keepalived_script:x:995:\n");
            std::fs::write(&group, g).expect("group copy");
            cmd.args([
                "unshare",
                "-m",
                "sh",
                "-c",
                &format!(
                    "mount --bind {} /etc/passwd && mount --bind {} /etc/group && exec \"$@\"",
                    passwd.display(),
                    group.display()
                ),
                "sh",
            ]);
        }
        let child = cmd
            .args(&argv)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(logf.try_clone().expect("log"))
            .stderr(logf)
            .spawn()
            .expect("start daemon");
        Daemon {
            child: Some(child),
            log,
        }
    }

    fn pid(&self) -> i32 {
        self.child.as_ref().map(|c| c.id() as i32).unwrap_or(-1)
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn signal(&self, sig: i32) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.pid(), sig) };
    }

    /// SIGTERM, bounded wait, SIGKILL.
    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
            let done = wait_for(Duration::from_secs(10), || {
                matches!(c.try_wait(), Ok(Some(_)))
            });
            if !done {
                let _ = c.kill();
            }
            let _ = c.wait();
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What one daemon did with a configuration.
#[derive(Debug)]
struct Run {
    records: BTreeSet<String>,
    master: bool,
    log: String,
}

/// Runs `prog` until `done` holds on the records (or 15 s), then `settle` more, then
/// stops it.
fn run(
    lab: &Lab,
    prog: Prog,
    conf: &str,
    script_user: bool,
    done: impl Fn(&BTreeSet<String>, bool) -> bool,
    settle: Duration,
) -> Run {
    lab.clear_records();
    let mut d = Daemon::start(lab, prog, conf, script_user);
    wait_for(Duration::from_secs(15), || {
        done(&lab.records(), lab.has_vip())
    });
    std::thread::sleep(settle);
    let master = lab.has_vip();
    let records = lab.records();
    d.stop();
    // Both must have released the VIP before the next one starts.
    let _ = lab.ns.sh(&format!("ip addr del {VIP}/24 dev eth0"));
    Run {
        records,
        master,
        log: d.log_text(),
    }
}

/// Runs keepalived then keepalived-rs; their records and MASTER state must be equal.
fn same_as_keepalived(
    lab: &Lab,
    conf: &str,
    script_user: bool,
    done: impl Fn(&BTreeSet<String>, bool) -> bool + Copy,
) -> (Run, Run) {
    let settle = Duration::from_millis(1500);
    let theirs = run(lab, Prog::Keepalived, conf, script_user, done, settle);
    let ours = run(lab, Prog::Ours, conf, script_user, done, settle);
    assert_eq!(
        (theirs.master, &theirs.records),
        (ours.master, &ours.records),
        "keepalived (left) and keepalived-rs (right) differ\n--- keepalived log\n{}\n--- keepalived-rs log\n{}",
        theirs.log,
        ours.log
    );
    (theirs, ours)
}

fn instance(extra: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n state BACKUP\n interface eth0\n virtual_router_id 51\n priority 100\n \
         advert_int 1\n virtual_ipaddress {{\n  {VIP}/24\n }}\n{extra}\n}}\n"
    )
}

fn has(records: &BTreeSet<String>, prefix: &str) -> bool {
    records.iter().any(|r| r.starts_with(prefix))
}

#[test]
fn script_user_and_per_script_users_are_applied_as_keepalived_does() {
    let Some(lab) = Lab::new("script_user_and_per_script_users_are_applied_as_keepalived_does")
    else {
        return;
    };
    // Global script_user: every script without its own user runs as nobody, with
    // nobody's group as its only group.
    let conf = format!(
        "global_defs {{\n script_user nobody\n}}\nvrrp_script chk {{\n script \"{}\"\n interval 1\n}}\n{}",
        lab.recorder("s/rec.sh", "track"),
        instance(&format!(
            " track_script {{\n  chk\n }}\n notify_master \"{}\"\n notify \"{}\"",
            lab.recorder("s/rec.sh", "master"),
            lab.recorder("s/rec.sh", "notify")
        ))
    );
    let done = |r: &BTreeSet<String>, _: bool| has(r, "master") && has(r, "track");
    let (_, ours) = same_as_keepalived(&lab, &conf, false, done);
    assert!(
        ours.records
            .contains("track | uid 65534 gid 65534 groups 65534"),
        "{:?}",
        ours.records
    );
    assert!(ours.master);

    // A script's own user and group win over script_user USER GROUP.
    let conf = format!(
        "global_defs {{\n script_user nobody daemon\n}}\nvrrp_script chk {{\n script \"{}\"\n interval 1\n user root\n}}\n{}",
        lab.recorder("s/rec.sh", "track"),
        instance(&format!(
            " track_script {{\n  chk\n }}\n notify_master \"{}\" daemon root\n notify \"{}\"",
            lab.recorder("s/rec.sh", "master"),
            lab.recorder("s/rec.sh", "notify")
        ))
    );
    let (_, ours) = same_as_keepalived(&lab, &conf, false, done);
    for want in [
        "track | uid 0 gid 0 groups 0",
        "master | uid 1 gid 0 groups 0",
        "notify INSTANCE VI_1 MASTER 100 | uid 65534 gid 1 groups 1",
    ] {
        assert!(ours.records.contains(want), "{want}: {:?}", ours.records);
    }
}

#[test]
fn the_keepalived_script_user_is_the_default_and_exempts_from_the_root_check() {
    let Some(lab) =
        Lab::new("the_keepalived_script_user_is_the_default_and_exempts_from_the_root_check")
    else {
        return;
    };
    // World-writable, but run as keepalived_script, not root: keepalived runs it.
    let track = lab.recorder("ww/rec.sh", "track");
    set_mode(&lab.path("ww/rec.sh"), 0o777);
    let conf = format!(
        "global_defs {{\n enable_script_security\n}}\nvrrp_script chk {{\n script \"{track}\"\n interval 1\n}}\n{}",
        instance(&format!(
            " track_script {{\n  chk\n }}\n notify_master \"{}\"",
            lab.recorder("s/rec.sh", "master")
        ))
    );
    let done = |r: &BTreeSet<String>, _: bool| has(r, "master") && has(r, "track");
    let (_, ours) = same_as_keepalived(&lab, &conf, true, done);
    assert!(
        ours.records.contains("track | uid 995 gid 995 groups 995"),
        "{:?}",
        ours.records
    );
}

#[test]
fn unsafe_root_scripts_are_disabled_and_the_instance_carries_on() {
    let Some(lab) = Lab::new("unsafe_root_scripts_are_disabled_and_the_instance_carries_on") else {
        return;
    };
    // Three ways a non-root user could change a root script: the script is
    // world-writable, owned by someone else, or in a world-writable directory.
    let ww = lab.recorder("ww/rec.sh", "track");
    set_mode(&lab.path("ww/rec.sh"), 0o777);
    let owned = lab.recorder("own/rec.sh", "master");
    sys_util::must(&format!(
        "chown nobody {}",
        lab.path("own/rec.sh").display()
    ));
    let open_dir = lab.recorder("open/rec.sh", "notify");
    set_mode(&lab.path("open"), 0o777);
    let safe = lab.recorder("s/rec.sh", "backup");
    let conf = format!(
        "global_defs {{\n enable_script_security\n script_user root\n}}\nvrrp_script chk {{\n script \"{ww}\"\n interval 1\n weight -10\n}}\n{}",
        instance(&format!(
            " track_script {{\n  chk\n }}\n notify_master \"{owned}\"\n notify \"{open_dir}\"\n notify_backup \"{safe}\""
        ))
    );
    let done = |r: &BTreeSet<String>, master: bool| master && has(r, "backup");
    let (theirs, ours) = same_as_keepalived(&lab, &conf, false, done);
    // Only the safe script ran, and the weight of the disabled track script is not
    // applied: MASTER at priority 100 (the VIP is up).
    assert_eq!(
        ours.records,
        BTreeSet::from(["backup | uid 0 gid 0 groups 0".to_string()])
    );
    assert!(ours.master);
    for log in [&theirs.log, &ours.log] {
        assert!(log.contains("Unsafe permissions found for script"), "{log}");
    }
    // keepalived's -t: the unsafe track script makes it 5; so ours.
    assert_eq!(config_test(&lab, Prog::Keepalived, &conf), 5);
    assert_eq!(config_test(&lab, Prog::Ours, &conf), 5);
}

#[test]
fn script_security_without_a_script_user_runs_no_script_as_root() {
    let Some(lab) = Lab::new("script_security_without_a_script_user_runs_no_script_as_root") else {
        return;
    };
    let conf = format!(
        "global_defs {{\n enable_script_security\n}}\nvrrp_script chk {{\n script \"{}\"\n interval 1\n}}\n{}",
        lab.recorder("s/rec.sh", "track"),
        instance(&format!(
            " track_script {{\n  chk\n }}\n notify_master \"{}\"\n notify_backup \"{}\" nobody",
            lab.recorder("s/rec.sh", "master"),
            lab.recorder("s/rec.sh", "backup")
        ))
    );
    // Only the script with its own user runs.
    let done = |r: &BTreeSet<String>, master: bool| master && has(r, "backup");
    let (_, ours) = same_as_keepalived(&lab, &conf, false, done);
    assert_eq!(
        ours.records,
        BTreeSet::from(["backup | uid 65534 gid 65534 groups 65534".to_string()])
    );
    // keepalived 2.2.7's -t is killed (status 143) on any configuration with a non-root
    // script user (fixed in 2.2.8, keepalived#2587); the table of
    // config_test_status_matches_keepalived_on_script_problems has this case without one.
    assert_eq!(config_test(&lab, Prog::Ours, &conf), 5);
}

#[test]
fn a_non_executable_track_script_is_disabled_not_a_fault_at_start_and_reload() {
    let Some(lab) =
        Lab::new("a_non_executable_track_script_is_disabled_not_a_fault_at_start_and_reload")
    else {
        return;
    };
    let chk_line = lab.recorder("s/chk.sh", "track");
    let chk = lab.path("s/chk.sh").display().to_string();
    set_mode(&lab.path("s/chk.sh"), 0o644);
    let conf = format!(
        "global_defs {{\n enable_script_security\n script_user root\n}}\nvrrp_script chk {{\n script \"{chk_line}\"\n interval 1\n}}\n{}",
        instance(&format!(
            " track_script {{\n  chk\n }}\n notify \"{}\"",
            lab.recorder("s/rec.sh", "notify")
        ))
    );
    // Weight 0 would mean FAULT while failing: disabled, it is ignored and VI_1 becomes
    // MASTER with its own priority.
    let done = |r: &BTreeSet<String>, master: bool| master && has(r, "notify INSTANCE VI_1 MASTER");
    let (theirs, ours) = same_as_keepalived(&lab, &conf, false, done);
    assert!(ours.master, "{}", ours.log);
    assert!(ours
        .records
        .contains("notify INSTANCE VI_1 MASTER 100 | uid 0 gid 0 groups 0"));
    assert!(!has(&ours.records, "notify INSTANCE VI_1 FAULT"));
    for log in [&theirs.log, &ours.log] {
        assert!(
            log.contains(&format!(
                "WARNING - script '{chk}' is not executable for uid:gid 0:0 - disabling"
            )),
            "{log}"
        );
    }
    // keepalived's -t says nothing about it and exits 0.
    assert_eq!(config_test(&lab, Prog::Keepalived, &conf), 0);
    assert_eq!(config_test(&lab, Prog::Ours, &conf), 0);

    // Reload: the script was fine at start and loses its execute bit; SIGHUP keeps the
    // VIP (keepalived-rs put the instance in FAULT here).
    set_mode(&lab.path("s/chk.sh"), 0o755);
    for prog in [Prog::Keepalived, Prog::Ours] {
        lab.clear_records();
        let mut d = Daemon::start(&lab, prog, &conf, false);
        assert!(
            wait_for(Duration::from_secs(15), || lab.has_vip()
                && has(&lab.records(), "track")),
            "{prog:?} never became MASTER\n{}",
            d.log_text()
        );
        set_mode(&lab.path("s/chk.sh"), 0o644);
        d.signal(libc::SIGHUP);
        std::thread::sleep(Duration::from_secs(4));
        let master = lab.has_vip();
        let records = lab.records();
        d.stop();
        let _ = lab.ns.sh(&format!("ip addr del {VIP}/24 dev eth0"));
        set_mode(&lab.path("s/chk.sh"), 0o755);
        assert!(
            master,
            "{prog:?} lost MASTER after the reload\n{}",
            d.log_text()
        );
        assert!(
            !has(&records, "notify INSTANCE VI_1 FAULT"),
            "{prog:?}: {records:?}"
        );
    }
}

#[test]
fn a_root_script_made_unsafe_after_the_load_is_not_run_again() {
    let Some(lab) = Lab::new("a_root_script_made_unsafe_after_the_load_is_not_run_again") else {
        return;
    };
    let conf = format!(
        "global_defs {{\n enable_script_security\n script_user root\n}}\nvrrp_script chk {{\n script \"{}\"\n interval 0.2\n}}\n{}",
        lab.recorder("s/chk.sh", "track"),
        instance(" track_script {\n  chk\n }")
    );
    lab.clear_records();
    let mut d = Daemon::start(&lab, Prog::Ours, &conf, false);
    let count = || {
        std::fs::read_dir(lab.path("out"))
            .map(|r| r.count())
            .unwrap_or(0)
    };
    assert!(
        wait_for(Duration::from_secs(10), || count() >= 2),
        "the track script never ran\n{}",
        d.log_text()
    );
    // Anyone may now replace it: keepalived (which checks only at load) would go on
    // running it as root; we refuse at the next run.
    set_mode(&lab.path("s"), 0o777);
    assert!(
        wait_for(Duration::from_secs(5), || d
            .log_text()
            .contains("Unsafe permissions found for script")),
        "{}",
        d.log_text()
    );
    let before = count();
    std::thread::sleep(Duration::from_millis(1000));
    let after = count();
    d.stop();
    set_mode(&lab.path("s"), 0o755);
    assert_eq!(before, after, "the unsafe script still ran");
}

/// `-t` in the lab's namespace; the exit status.
fn config_test(lab: &Lab, prog: Prog, conf: &str) -> i32 {
    let p = lab.path(&format!("t-{prog:?}.conf"));
    std::fs::write(&p, conf).expect("write config");
    let bin = match prog {
        Prog::Keepalived => KEEPALIVED.to_string(),
        Prog::Ours => ours(),
    };
    let out = Command::new("ip")
        .args(["netns", "exec", &lab.ns.name, &bin, "-t", "-f"])
        .arg(&p)
        .output()
        .expect("-t");
    out.status.code().unwrap_or(-1)
}

#[test]
fn config_test_status_matches_keepalived_on_script_problems() {
    let Some(lab) = Lab::new("config_test_status_matches_keepalived_on_script_problems") else {
        return;
    };
    // Script layouts: (name, setup) — the script is LAB/<name>/s.sh.
    let layouts: [(&str, &str); 11] = [
        ("ok", ""),
        ("ww", "chmod 777 s.sh"),
        ("own", "chown nobody s.sh"),
        ("wdir", "chmod 777 ."),
        ("sdir", "chmod 1777 ."),
        ("g0", "chmod 775 s.sh"),
        ("g1", "chmod 775 s.sh && chgrp daemon s.sh"),
        ("udir", "chown nobody ."),
        ("gdir", "chmod 775 . && chgrp daemon ."),
        ("nox", "chmod 644 s.sh"),
        ("lnk", "ln -sf ../ww/s.sh t.sh"),
    ];
    for (name, setup) in layouts {
        lab.script(&format!("{name}/s.sh"), &lab.rec());
        if !setup.is_empty() {
            sys_util::must(&format!("cd {} && {setup}", lab.path(name).display()));
        }
    }
    let script = |name: &str| {
        let f = if name == "lnk" { "t.sh" } else { "s.sh" };
        lab.path(&format!("{name}/{f}")).display().to_string()
    };
    let track = |global: &str, name: &str, user: &str| {
        format!(
            "global_defs {{\n{global}\n}}\nvrrp_script chk {{\n script \"{}\"\n {user}\n}}\n{}",
            script(name),
            instance(" track_script {\n  chk\n }")
        )
    };
    let notify = |global: &str, name: &str| {
        format!(
            "global_defs {{\n{global}\n}}\n{}",
            instance(&format!(" notify \"{}\"", script(name)))
        )
    };
    let secure = " enable_script_security\n script_user root";
    let mut cases: Vec<(String, String)> = Vec::new();
    for (name, _) in layouts {
        cases.push((format!("track {name}, security"), track(secure, name, "")));
        cases.push((format!("notify {name}, security"), notify(secure, name)));
    }
    for name in ["ok", "nox", "ww"] {
        cases.push((format!("track {name}, no security"), track("", name, "")));
        cases.push((format!("notify {name}, no security"), notify("", name)));
    }
    cases.push(("track missing".into(), track(secure, "missing", "")));
    cases.push(("notify missing".into(), notify(secure, "missing")));
    cases.push((
        "security, no user".into(),
        track(" enable_script_security", "ok", ""),
    ));
    cases.push((
        "security, no user, notify".into(),
        notify(" enable_script_security", "ok"),
    ));
    cases.push((
        "track user unknown".into(),
        track(secure, "ok", "user nosuchuser"),
    ));
    cases.push((
        "script_user unknown".into(),
        notify(" script_user nosuchuser", "ok"),
    ));
    let mut bad = Vec::new();
    for (what, conf) in &cases {
        let theirs = config_test(&lab, Prog::Keepalived, conf);
        let ours = config_test(&lab, Prog::Ours, conf);
        if theirs != ours {
            bad.push(format!("{what}: keepalived {theirs}, ours {ours}"));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    // Deliberately stricter: a symlink in a world-writable directory to a safe script
    // passes keepalived 2.2.7 (it checks the resolved path only), though anyone can
    // point the link elsewhere.
    lab.script("open/ok.sh", &lab.rec());
    set_mode(&lab.path("open"), 0o777);
    std::os::unix::fs::symlink(script("ok"), lab.path("open/l.sh")).expect("symlink");
    let conf = track(secure, "open", "").replace(
        &script("open"),
        &lab.path("open/l.sh").display().to_string(),
    );
    assert_eq!(config_test(&lab, Prog::Keepalived, &conf), 0);
    assert_eq!(config_test(&lab, Prog::Ours, &conf), 5);
}

/// Pids of the live children of `pid`, and how many of them are zombies.
fn children(pid: i32) -> (Vec<i32>, usize) {
    let mut kids = Vec::new();
    let mut zombies = 0;
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(p) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        let Some(rest) = stat
            .rsplit_once(')')
            .map(|(_, r)| r.split_whitespace().collect::<Vec<_>>())
        else {
            continue;
        };
        if rest.get(1).and_then(|pp| pp.parse::<i32>().ok()) == Some(pid) {
            if rest.first() == Some(&"Z") {
                zombies += 1;
            } else {
                kids.push(p);
            }
        }
    }
    (kids, zombies)
}

fn fd_count(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|r| r.count())
        .unwrap_or(0)
}

#[test]
fn ten_thousand_notify_events_with_a_hung_script_stay_bounded() {
    let Some(lab) = Lab::new("ten_thousand_notify_events_with_a_hung_script_stay_bounded") else {
        return;
    };
    let hang = lab.script("s/hang.sh", "#!/bin/sh\nexec sleep 1000\n");
    let tf = lab.path("tf");
    std::fs::write(&tf, "0\n").expect("track file");
    let conf = format!(
        "global_defs {{\n enable_script_security\n script_user root\n}}\ntrack_file tf {{\n file {}\n weight 0\n}}\n{}",
        tf.display(),
        instance(&format!(
            " track_file {{\n  tf\n }}\n notify \"{hang}\"\n notify_fault \"{hang}\"\n notify_backup \"{hang}\""
        ))
    );
    let mut d = Daemon::start(&lab, Prog::Ours, &conf, false);
    let pid = d.pid();
    // `ip netns exec` execs the daemon: same pid.
    assert!(
        wait_for(Duration::from_secs(10), || d
            .log_text()
            .contains("Entering BACKUP")),
        "{}",
        d.log_text()
    );
    let base_fds = fd_count(pid);
    // Flip the tracked file: each flip is a FAULT or BACKUP transition, each running two
    // notify scripts that hang.
    let mut max_children = 0;
    let mut max_fds = 0;
    let transitions = |log: &str| {
        log.matches("Entering FAULT STATE").count() + log.matches("Entering BACKUP STATE").count()
    };
    let start = std::time::Instant::now();
    let mut i = 0u32;
    // At least 5 000 transitions (10 000 notify scripts), however many writes the
    // daemon sees coalesced; bounded at 60 s.
    while transitions(&d.log_text()) < 5_000 && start.elapsed() < Duration::from_secs(60) {
        for _ in 0..1000 {
            std::fs::write(&tf, if i % 2 == 0 { "1\n" } else { "0\n" }).expect("write track file");
            i += 1;
            if i % 50 == 0 {
                std::thread::sleep(Duration::from_millis(2));
                max_children = max_children.max(children(pid).0.len());
                max_fds = max_fds.max(fd_count(pid));
            }
        }
    }
    std::thread::sleep(Duration::from_secs(1));
    let (kids, zombies) = children(pid);
    max_children = max_children.max(kids.len());
    max_fds = max_fds.max(fd_count(pid));
    let log = d.log_text();
    let transitions = transitions(&log);
    eprintln!(
        "{i} writes, transitions {transitions} (2 notify scripts each), children max {max_children}, fds {base_fds} -> max {max_fds}, zombies {zombies}"
    );
    assert!(
        d.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None))),
        "daemon died\n{log}"
    );
    assert!(max_children <= 64, "{max_children} children");
    assert_eq!(
        kids.len(),
        64,
        "the notify slots are all held by hung scripts"
    );
    assert!(
        max_fds <= base_fds + 64 + 4,
        "descriptors grew from {base_fds} to {max_fds}"
    );
    assert!(
        transitions >= 5_000,
        "only {transitions} transitions: the flood was not a flood"
    );
    assert_eq!(zombies, 0);
    assert_eq!(
        log.matches("scripts running (").count(),
        1,
        "the cap is logged once"
    );
    assert_eq!(
        log.matches("notify scripts waiting: dropping the oldest")
            .count(),
        1
    );
    // The daemon dies without a word: its scripts get SIGTERM (parent-death signal).
    d.signal(libc::SIGKILL);
    d.stop();
    let alive = || {
        kids.iter()
            .filter(|k| Path::new(&format!("/proc/{k}")).exists())
            .count()
    };
    assert!(
        wait_for(Duration::from_secs(5), || alive() == 0),
        "{} hung scripts outlived the daemon",
        alive()
    );
}
