//! What `-t` does with configuration files that are not plain readable files (issue 7):
//! a FIFO, `/dev/zero`, a directory, a symlink to a FIFO, an executable file, a file the
//! user cannot read — as the main file and as an include. Each returns at once (the child
//! is killed, and the test fails, if it does not finish within a bounded wait), with
//! keepalived 2.2.7's exit status; where keepalived is installed (CI installs it) its
//! status is compared on the same files.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_keepalived-rs");
const LIMIT: Duration = Duration::from_secs(20);

/// A scratch directory (world-readable, for the unprivileged runs) removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("krs-files-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("mkdir");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        TempDir(p)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn write(&self, name: &str, text: &str, mode: u32) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).expect("write");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).expect("chmod");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `cmd args`, killing it after [`LIMIT`]: (status, stderr) or an error on timeout.
fn run(cmd: &str, args: &[&str]) -> Result<(i32, String), String> {
    let mut child = Command::new(cmd)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{cmd}: {e}"))?;
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().map_err(|e| e.to_string())? {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut err);
            }
            return Ok((st.code().unwrap_or(128), err));
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "{cmd} {args:?}: still running after {LIMIT:?}; killed"
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn ours(args: &[&str]) -> (i32, String) {
    run(BIN, args).unwrap_or_else(|e| panic!("{e}"))
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn have_keepalived() -> bool {
    run("keepalived", &["--version"]).is_ok()
}

const VALID: &str = "global_defs {\n router_id r1\n}\n";

fn mkfifo(p: &Path) {
    let ok = Command::new("mkfifo")
        .arg(p)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "mkfifo {}", p.display());
}

/// The special files, each as (label, path).
fn specials(d: &TempDir) -> Vec<(&'static str, PathBuf)> {
    let fifo = d.path("fifo.conf");
    mkfifo(&fifo);
    let link = d.path("link.conf");
    std::os::unix::fs::symlink(&fifo, &link).expect("symlink");
    let dir = d.path("dir.conf");
    std::fs::create_dir(&dir).expect("mkdir");
    let exe = d.write("exe.conf", VALID, 0o755);
    vec![
        ("fifo", fifo),
        ("symlink to a fifo", link),
        ("/dev/zero", PathBuf::from("/dev/zero")),
        ("directory", dir),
        ("executable", exe),
    ]
}

#[test]
fn special_main_files_are_refused_at_once() {
    let d = TempDir::new("main");
    let keepalived = have_keepalived();
    assert!(
        keepalived || std::env::var_os("CI").is_none(),
        "CI is set but keepalived is not installed"
    );
    for (what, p) in specials(&d) {
        let f = p.to_string_lossy().into_owned();
        let (st, err) = ours(&["-t", "-f", &f]);
        assert_eq!(st, 0, "{what}: {err}");
        assert!(
            err.contains(&format!("Config files missing '{f}'.")),
            "{what}: {err}"
        );
        assert!(
            err.contains("not a regular file") || err.contains("executable"),
            "{what}: {err}"
        );
        let (st_e, err_e) = ours(&["-t", "-e", "-f", &f]);
        assert_eq!(st_e, 4, "{what} with -e: {err_e}");
        if keepalived {
            let (theirs, _) = run("keepalived", &["-t", "-f", &f]).expect("keepalived");
            let (theirs_e, _) = run("keepalived", &["-t", "-e", "-f", &f]).expect("keepalived");
            assert_eq!((st, st_e), (theirs, theirs_e), "{what}: ours vs keepalived");
        }
    }
}

#[test]
fn special_include_files_are_skipped_at_once() {
    let d = TempDir::new("inc");
    let keepalived = have_keepalived();
    for (what, p) in specials(&d) {
        let main = d.write(
            "main.conf",
            &format!("include {}\n{VALID}", p.display()),
            0o644,
        );
        let m = main.to_string_lossy().into_owned();
        let (st, err) = ours(&["-t", "-f", &m]);
        assert_eq!(st, 0, "{what}: {err}");
        assert!(
            err.contains(&format!("cannot read config file '{}'", p.display())),
            "{what}: {err}"
        );
        let (st_e, err_e) = ours(&["-t", "-e", "-f", &m]);
        assert_eq!(st_e, 6, "{what} with -e: {err_e}");
        if keepalived {
            let (theirs, _) = run("keepalived", &["-t", "-f", &m]).expect("keepalived");
            let (theirs_e, _) = run("keepalived", &["-t", "-e", "-f", &m]).expect("keepalived");
            assert_eq!((st, st_e), (theirs, theirs_e), "{what}: ours vs keepalived");
        }
    }
}

/// Runs `cmd args` as an unprivileged user: as `nobody` through setpriv when root,
/// else as the current (non-root) user.
fn run_unprivileged(cmd: &str, args: &[&str]) -> (i32, String) {
    if is_root() {
        let mut full = vec![
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
            cmd,
        ];
        full.extend_from_slice(args);
        run("setpriv", &full).unwrap_or_else(|e| panic!("{e}"))
    } else {
        run(cmd, args).unwrap_or_else(|e| panic!("{e}"))
    }
}

#[test]
fn unreadable_files_as_an_unprivileged_user() {
    if is_root() {
        // setpriv (util-linux) is how this test drops privileges: it must be there.
        assert!(
            run("setpriv", &["--version"]).is_ok(),
            "setpriv is needed to run this test as root"
        );
    }
    let d = TempDir::new("perm");
    let secret = d.write(
        "secret.conf",
        "vrrp_instance V {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n",
        0o600,
    );
    if !is_root() {
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    }
    let s = secret.to_string_lossy().into_owned();
    let keepalived = have_keepalived();
    // The main file: nothing can run (keepalived: 4, with or without -e).
    for e in [false, true] {
        let mut args = vec!["-t"];
        if e {
            args.push("-e");
        }
        args.extend(["-f", &s]);
        let (st, err) = run_unprivileged(BIN, &args);
        assert_eq!(st, 4, "{args:?}: {err}");
        assert!(
            err.contains(&format!("Unable to read configuration file {s}")),
            "{err}"
        );
        assert!(err.contains("Permission denied"), "{err}");
        if keepalived {
            let (theirs, _) = run_unprivileged("keepalived", &args);
            assert_eq!(st, theirs, "{args:?}: ours vs keepalived");
        }
    }
    // As an include: skipped (0), fatal with -e (6).
    let main = d.write("main.conf", &format!("include {s}\n{VALID}"), 0o644);
    let m = main.to_string_lossy().into_owned();
    for (args, want) in [(vec!["-t", "-f", &m], 0), (vec!["-t", "-e", "-f", &m], 6)] {
        let (st, err) = run_unprivileged(BIN, &args);
        assert_eq!(st, want, "{args:?}: {err}");
        assert!(err.contains("Permission denied"), "{err}");
        if keepalived {
            let (theirs, _) = run_unprivileged("keepalived", &args);
            assert_eq!(st, theirs, "{args:?}: ours vs keepalived");
        }
    }
}

#[test]
fn interface_lo_matches_keepalived() {
    let d = TempDir::new("lo");
    let conf = d.write(
        "lo.conf",
        "vrrp_instance V {\n interface lo\n virtual_router_id 1\n priority 100\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n",
        0o644,
    );
    let c = conf.to_string_lossy().into_owned();
    let (st, err) = ours(&["-t", "-f", &c]);
    assert_eq!(st, 5, "{err}");
    assert!(
        err.contains("cannot use a loopback interface (lo) for vrrp - ignoring"),
        "{err}"
    );
    if have_keepalived() {
        let (theirs, _) = run("keepalived", &["-t", "-f", &c]).expect("keepalived");
        assert_eq!(st, theirs);
    }
}

/// The files of the acceptance criteria, through the binary: a 10 MB token and 100 000
/// nested braces each finish with their error (time and memory figures:
/// scripts/bench-config-limits.sh).
#[test]
fn huge_token_and_deep_braces_finish() {
    let d = TempDir::new("huge");
    let token = d.write("token.conf", &"a".repeat(10_000_000), 0o644);
    let (st, err) = ours(&["-t", "-f", &token.to_string_lossy()]);
    assert_eq!(st, 5);
    assert!(
        err.contains("line of 10000000 bytes is longer than the limit"),
        "{err}"
    );
    let braces = d.write(
        "braces.conf",
        &format!("global_defs {}{}", "{".repeat(100_000), "}".repeat(100_000)),
        0o644,
    );
    let (st, err) = ours(&["-t", "-f", &braces.to_string_lossy()]);
    assert_eq!(st, 5);
    assert!(err.contains("blocks nested more than 64 deep"), "{err}");
}
