//! The `keepalived-rs` binary's command line, run as a user would: exit statuses, what
//! goes to stdout / stderr, `--signum`, `-t` with and without a log file, genhash against a
//! loopback server, and `make install` / `uninstall` into a DESTDIR.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_keepalived-rs");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run keepalived-rs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A scratch directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("krs-cli-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("mkdir");
        TempDir(p)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn bad_option_exits_1_with_one_line_and_usage_on_stderr() {
    for (args, line) in [
        (&["--bogus"][..], "Unknown option --bogus"),
        (&["-Z"][..], "Unknown option -Z"),
        (&["-f"][..], "Missing parameter for option -f"),
        (&["-S", "9"][..], "Invalid log facility '9'"),
        (&["--signum=NOPE"][..], "Unknown sigfunc NOPE"),
        (
            &["--seed", "4"][..],
            "--seed and --until need --simulate FILE",
        ),
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        let err = stderr(&o);
        assert_eq!(err.lines().next(), Some(line), "{args:?}: {err}");
        assert!(err.contains("Usage: keepalived-rs [OPTION...]"), "{err}");
        assert!(o.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn help_lists_every_option() {
    let o = run(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.starts_with("Usage: keepalived-rs [OPTION...]"), "{out}");
    for long in keepalived_rs::cli::long_options() {
        assert!(out.contains(&format!("--{long}")), "--{long} not in --help");
    }
    for short in keepalived_rs::cli::short_options() {
        assert!(
            out.contains(&format!("  -{short}, --")),
            "-{short} not in --help"
        );
    }
    assert_eq!(stdout(&run(&["-h"])), out);
}

#[test]
fn version() {
    let o = run(&["-v"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(
        out.starts_with(&format!("Keepalived-rs v{}\n", env!("CARGO_PKG_VERSION"))),
        "{out}"
    );
    assert_eq!(stdout(&run(&["--version"])), out);
}

#[test]
fn signum_prints_the_signal_numbers() {
    let cases = [
        ("STOP", libc::SIGTERM),
        ("RELOAD", libc::SIGHUP),
        ("DATA", libc::SIGUSR1),
        ("STATS", libc::SIGUSR2),
        ("STATS_CLEAR", libc::SIGRTMAX() - 1),
        ("JSON", libc::SIGRTMIN() + 2),
    ];
    for (name, num) in cases {
        let o = run(&[&format!("--signum={name}")]);
        assert_eq!(o.status.code(), Some(0), "{name}");
        assert_eq!(stdout(&o), format!("{num}\n"), "{name}");
    }
    // The fixed ones, as keepalived prints them on Linux.
    assert_eq!(stdout(&run(&["--signum", "STOP"])), "15\n");
    assert_eq!(stdout(&run(&["--signum", "RELOAD"])), "1\n");
    assert_eq!(stdout(&run(&["--signum", "DATA"])), "10\n");
    assert_eq!(stdout(&run(&["--signum", "STATS"])), "12\n");
    let o = run(&["--signum=TDUMP"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn config_test_missing_file() {
    let d = TempDir::new("missing");
    let f = d.path("nope.conf");
    let f = f.to_str().unwrap();
    // keepalived 2.2.7: exit 0 and the message, without -e ...
    let o = run(&["-t", "-f", f]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("Config files missing '{f}'.")),
        "{}",
        stderr(&o)
    );
    // ... and 4 (cannot run) with -e.
    let o = run(&["--config-test", "-e", "-f", f]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
}

#[test]
fn config_test_log_file_receives_the_diagnostics() {
    let d = TempDir::new("logfile");
    let conf = d.path("nope.conf");
    let log = d.path("test.log");
    let o = run(&[
        &format!("--config-test={}", log.display()),
        "-f",
        conf.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        !stderr(&o).contains("Config files missing"),
        "{}",
        stderr(&o)
    );
    let text = std::fs::read_to_string(&log).expect("log file written");
    assert!(text.contains("Config files missing"), "{text}");
    // The attached short form too.
    let log2 = d.path("t2.log");
    let o = run(&[
        &format!("-t{}", log2.display()),
        "-e",
        "-f",
        conf.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(4));
    assert!(std::fs::read_to_string(&log2)
        .unwrap()
        .contains("Config files missing"));
}

#[test]
fn config_test_log_file_that_cannot_be_created_is_an_error() {
    let o = run(&[
        "--config-test=/nonexistent-dir/x.log",
        "-f",
        "/nonexistent.conf",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("/nonexistent-dir/x.log"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn config_test_log_file_is_never_written_through_a_symlink() {
    let d = TempDir::new("loglink");
    let victim = d.path("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    let link = d.path("test.log");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let o = run(&[
        &format!("--config-test={}", link.display()),
        "-f",
        "/nonexistent.conf",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
}

#[test]
fn genhash_mode_digests_a_loopback_page() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut c, _) = l.accept().unwrap();
        let mut buf = [0u8; 1024];
        let _ = c.read(&mut buf).unwrap();
        c.write_all(b"HTTP/1.0 200 OK\r\n\r\nmessage digest")
            .unwrap();
    });
    let o = run(&["-T", "-s", "127.0.0.1", "-p", &port.to_string(), "-u", "/"]);
    server.join().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "f96b697d7cb7938d525a2f31aaf161d0\n");

    // Not the first option: refused.
    let o = run(&["-n", "-T"]);
    assert_eq!(o.status.code(), Some(1));
    // Nothing listening: a clear error, status 1.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = l.local_addr().unwrap().port();
    drop(l);
    let o = run(&[
        "--genhash",
        "-s",
        "127.0.0.1",
        "-p",
        &dead.to_string(),
        "-u",
        "/",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("genhash: connect to 127.0.0.1:"),
        "{}",
        stderr(&o)
    );
}

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn make(dir: &Path, args: &[String]) -> Output {
    Command::new("make")
        .arg("-s")
        .arg("-C")
        .arg(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .env("MAKEFLAGS", "")
        .current_dir(dir)
        .output()
        .expect("run make")
}

#[test]
fn make_install_and_uninstall_into_destdir() {
    if !have("make") {
        eprintln!("make not installed: install test skipped");
        return;
    }
    let d = TempDir::new("install");
    let dest = d.path("root");
    let common = [
        "NOBUILD=1".to_string(),
        format!("BIN={BIN}"),
        format!("DESTDIR={}", dest.display()),
        "PREFIX=/usr".to_string(),
    ];
    let mut args = vec!["install".to_string()];
    args.extend(common.iter().cloned());
    let o = make(&d.0, &args);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));

    let sbin = dest.join("usr/sbin/keepalived-rs");
    let unit = dest.join("usr/lib/systemd/system/keepalived-rs.service");
    let conf = dest.join("etc/keepalived-rs/keepalived.conf");
    for f in [
        &sbin,
        &dest.join("usr/share/man/man8/keepalived-rs.8"),
        &dest.join("usr/share/man/man5/keepalived-rs.conf.5"),
        &unit,
        &conf,
    ] {
        assert!(f.is_file(), "{} not installed", f.display());
    }
    let unit_text = std::fs::read_to_string(&unit).unwrap();
    assert!(unit_text.contains(
        "ExecStart=/usr/sbin/keepalived-rs --dont-fork -f /etc/keepalived-rs/keepalived.conf"
    ));
    assert!(!unit_text.contains('@'), "unsubstituted: {unit_text}");
    // The installed binary runs.
    let o = Command::new(&sbin).arg("--signum=STOP").output().unwrap();
    assert_eq!(stdout(&o), "15\n");

    // A configuration already there is kept on reinstall.
    std::fs::write(&conf, "! mine\n").unwrap();
    let o = make(&d.0, &args);
    assert!(o.status.success());
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), "! mine\n");

    // sysvinit flavour.
    let mut sysv = args.clone();
    sysv.push("INIT=sysv".into());
    let o = make(&d.0, &sysv);
    assert!(o.status.success(), "{}", stderr(&o));
    let init = dest.join("etc/init.d/keepalived-rs");
    let init_text = std::fs::read_to_string(&init).unwrap();
    assert!(init_text.contains("DAEMON=/usr/sbin/keepalived-rs"));

    let mut un = vec!["uninstall".to_string()];
    un.extend(common.iter().cloned());
    let o = make(&d.0, &un);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in [&sbin, &unit, &init] {
        assert!(!f.exists(), "{} left after uninstall", f.display());
    }
    assert!(conf.exists(), "uninstall must keep the configuration");
}

/// An interface of this host other than loopback, for a configuration `-t` accepts.
fn real_interface() -> Option<String> {
    let mut names: Vec<String> = std::fs::read_dir("/sys/class/net")
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "lo")
        .collect();
    names.sort();
    names.into_iter().next()
}

fn valid_config() -> String {
    let mut c = String::from("global_defs {\n    router_id r1\n}\n");
    if let Some(ifname) = real_interface() {
        c.push_str(&format!(
            "vrrp_instance VI_1 {{\n    state BACKUP\n    interface {ifname}\n    \
             virtual_router_id 51\n    priority 150\n    advert_int 1\n    \
             virtual_ipaddress {{\n        192.0.2.100/24\n    }}\n}}\n"
        ));
    }
    c
}

const INVALID: &str = "vrrp_instance VI_1 {
    interface nosuchif0
    virtual_router_id 51
    priority 300
    virtual_ipaddress {
        192.0.2.100/24
    }
}
";

#[test]
fn config_test_valid_file_exits_0_silently() {
    let d = TempDir::new("valid");
    let f = d.path("k.conf");
    std::fs::write(&f, valid_config()).unwrap();
    let o = run(&["-t", "-f", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
}

#[test]
fn config_test_invalid_file_exits_5_with_located_diagnostics() {
    let d = TempDir::new("invalid");
    let f = d.path("k.conf");
    std::fs::write(&f, INVALID).unwrap();
    let o = run(&["-t", "-f", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    let err = stderr(&o);
    let prefix = format!("{}:4:", f.display());
    assert!(
        err.lines()
            .any(|l| l.starts_with(&prefix) && l.contains("error") && l.contains("priority")),
        "{err}"
    );
    assert!(err.contains("nosuchif0"), "{err}");

    // The same diagnostics into a log file, nothing on stderr.
    let log = d.path("t.log");
    let o = run(&[
        &format!("--config-test={}", log.display()),
        "-f",
        f.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(5));
    assert_eq!(stderr(&o), "");
    assert_eq!(std::fs::read_to_string(&log).unwrap(), err);
}

#[test]
fn dump_conf_with_config_test_prints_the_model() {
    let d = TempDir::new("dump");
    let f = d.path("k.conf");
    std::fs::write(&f, INVALID).unwrap();
    let o = run(&["-t", "-d", "-f", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(5));
    let out = stdout(&o);
    assert!(out.contains("vrrp_instance VI_1 {"), "{out}");
    assert!(out.contains("virtual_router_id 51"), "{out}");
    // The bad priority was replaced by the default, as keepalived does.
    assert!(out.contains("priority 100"), "{out}");
}

/// A network namespace deleted on drop.
struct Netns(String);

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Running (a zombie is not: the daemon detaches, and its new parent may be slow to reap).
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().chars().next())
        })
        .flatten()
        .is_some_and(|state| state != 'Z' && state != 'X')
}

#[test]
fn daemon_survives_stats_clear_and_json() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 || !have("ip") {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs as root with iproute2"
        );
        eprintln!("needs root and ip: skipped");
        return;
    }
    let d = TempDir::new("signals");
    let ns = Netns(format!("krs-cli-{}", std::process::id()));
    assert!(ip(&["netns", "add", &ns.0]));
    assert!(ip(&[
        "-n", &ns.0, "link", "add", "v0", "type", "veth", "peer", "name", "v1"
    ]));
    assert!(ip(&["-n", &ns.0, "link", "set", "v0", "up"]));
    assert!(ip(&["-n", &ns.0, "link", "set", "v1", "up"]));
    assert!(ip(&[
        "-n",
        &ns.0,
        "addr",
        "add",
        "192.0.2.1/24",
        "dev",
        "v0"
    ]));
    let conf = d.path("k.conf");
    std::fs::write(
        &conf,
        "vrrp_instance VI_1 {\n interface v0\n virtual_router_id 51\n priority 100\n \
         virtual_ipaddress {\n  192.0.2.100/24\n }\n}\n",
    )
    .unwrap();
    let pidf = d.path("k.pid");
    let o = run(&[
        "-G",
        "-s",
        &ns.0,
        "-f",
        conf.to_str().unwrap(),
        "-p",
        pidf.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let pid = loop {
        if let Some(p) = std::fs::read_to_string(&pidf)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
        {
            break p;
        }
        assert!(std::time::Instant::now() < deadline, "no pid file");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    for sig in [libc::SIGRTMAX() - 1, libc::SIGRTMIN() + 2] {
        // SAFETY: signalling the daemon we started.
        unsafe { libc::kill(pid, sig) };
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let survived = alive(pid);
    // SAFETY: as above.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while alive(pid) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    if alive(pid) {
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    assert!(survived, "STATS_CLEAR / JSON ended the daemon");
}

#[test]
fn systemd_unit_is_valid() {
    if !have("systemd-analyze") {
        eprintln!("systemd-analyze not installed: unit check skipped");
        return;
    }
    let d = TempDir::new("unit");
    let sbindir = Path::new(BIN).parent().unwrap();
    let unit = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/init/keepalived-rs.service"),
    )
    .unwrap()
    .replace("@SBINDIR@", sbindir.to_str().unwrap())
    .replace("@CONFDIR@", d.0.to_str().unwrap());
    let path = d.path("keepalived-rs.service");
    std::fs::write(&path, unit).unwrap();
    let o = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        o.status.success() && o.stderr.is_empty(),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
}

#[test]
fn init_scripts_are_valid_shell() {
    for f in ["keepalived-rs.init", "keepalived-rs.procd"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scripts/init")
            .join(f);
        let o = Command::new("sh").arg("-n").arg(&path).output().unwrap();
        assert!(o.status.success(), "{f}: {}", stderr(&o));
    }
}

#[test]
fn config_test_names_checkers_that_do_not_run_and_the_ipvs_table() {
    let dir = TempDir::new("checkers");
    let conf = dir.path("k.conf");
    std::fs::write(
        &conf,
        "virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.0.0.2 80 {\n  TCP_CHECK {\n  }\n  BFD_CHECK {\n   name b1\n  }\n }\n}\nbfd_instance b1 {\n neighbor_ip 10.0.0.2\n}\n",
    )
    .unwrap();
    let o = run(&["-t", "-f", conf.to_str().unwrap()]);
    let err = stderr(&o);
    assert!(
        err.contains(
            "k.conf:6:3: warning: BFD_CHECK is not implemented yet; this checker is ignored"
        ),
        "{err}"
    );
    assert!(!err.contains("the IPVS table is not managed yet"), "{err}");
    assert!(!err.contains("TCP_CHECK is not"), "{err}");
}

/// A daemon whose configuration has nothing to run says so, as keepalived does, and keeps
/// running (a reload may bring something); `-C` with only VRRP instances is the same case.
#[test]
fn nothing_to_run_is_said() {
    let dir = std::env::temp_dir().join(format!("krs-cli-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("k.conf");
    std::fs::write(
        &conf,
        "global_defs {\n router_id x\n}\nvrrp_instance VI_1 {\n interface lo\n virtual_router_id 5\n}\n",
    )
    .unwrap();
    let mut child = Command::new(BIN)
        .args(["-n", "-l", "-C", "--no-control-socket", "-f"])
        .arg(&conf)
        .arg("-p")
        .arg(dir.join("k.pid"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the daemon");
    std::thread::sleep(std::time::Duration::from_millis(800));
    let running = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(running, "the daemon exited:\n{err}");
    assert!(err.contains("has no configuration to run"), "{err}");
}
