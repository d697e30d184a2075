//! Process entry: parse the command line once and run the mode it picks: help, version,
//! `--signum`, `-t` config test, `--simulate`, `-T` genhash, `--status` (a client of the
//! daemon's control socket), or the daemon.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // the process entry reaches the OS

use keepalived_rs::cli::{self, Mode, Options, SigFunc, StatusQuery};
use keepalived_rs::config::{self, LoadOptions};
use keepalived_rs::{logging, sim, sys};
use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn main() {
    std::process::exit(run(std::env::args_os().collect()));
}

fn program_name(argv0: Option<&OsString>) -> String {
    argv0
        .map(Path::new)
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "keepalived-rs".to_string())
}

fn run(argv: Vec<OsString>) -> i32 {
    let program = program_name(argv.first());
    let mut args = Vec::with_capacity(argv.len());
    for a in argv.iter().skip(1) {
        match a.to_str() {
            Some(s) => args.push(s.to_string()),
            None => {
                eprintln!("Argument {a:?} is not valid UTF-8");
                eprint!("{}", cli::short_usage(&program));
                return 1;
            }
        }
    }
    // Invoked as `genhash` (a symlink, as keepalived installs it): genhash mode.
    if program == "genhash" {
        args.insert(0, "--genhash".into());
    }
    let opts = match cli::parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            eprint!("{}", cli::short_usage(&program));
            return 1;
        }
    };
    match &opts.mode {
        Mode::Help => {
            print!("{}", cli::usage(&program));
            0
        }
        Mode::Version => {
            print!("{}", version_text());
            0
        }
        Mode::Signum(f) => {
            println!("{}", signal_number(*f));
            0
        }
        Mode::Genhash(rest) => keepalived_rs::genhash::main(rest),
        Mode::Simulate { file, seed, until } => {
            if opts.log.console {
                let log = logging::LogOptions {
                    syslog: false,
                    ..opts.log
                };
                logging::init(&log);
            }
            sim::simulate_main(file, *seed, *until)
        }
        Mode::WhatIf(w) => sim::whatif::whatif_main(w),
        Mode::ConfigTest { log_file } => config_test(&opts, log_file.as_deref()),
        Mode::Status(q) => status(&opts, q),
        Mode::Daemon => daemon(&opts, &argv),
    }
}

/// The number of the signal behind each `--signum` name. The real-time ones depend on the
/// C library (glibc reserves the first two), so they are computed, never written down.
fn signal_number(f: SigFunc) -> i32 {
    match f {
        SigFunc::Stop => libc::SIGTERM,
        SigFunc::Reload => libc::SIGHUP,
        SigFunc::Data => libc::SIGUSR1,
        SigFunc::Stats => libc::SIGUSR2,
        SigFunc::StatsClear => libc::SIGRTMAX() - 1,
        SigFunc::Json => libc::SIGRTMIN() + 2,
    }
}

fn uname() -> Option<String> {
    // SAFETY: uname fills a plain C struct; all-zero bytes are a valid initial value and
    // the kernel NUL-terminates each field.
    unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut u) != 0 {
            return None;
        }
        let field = |f: &[libc::c_char]| {
            let bytes: Vec<u8> = f
                .iter()
                .take_while(|c| **c != 0)
                .map(|c| *c as u8)
                .collect();
            String::from_utf8_lossy(&bytes).into_owned()
        };
        Some(format!(
            "{} {} {}",
            field(&u.sysname),
            field(&u.release),
            field(&u.version)
        ))
    }
}

fn version_text() -> String {
    let mut s = format!(
        "Keepalived-rs v{VERSION}\n\n\
         A keepalived-compatible VRRP and health-check daemon (keepalived 2.2 command line\n\
         and configuration language), one process, one event loop.\n\n"
    );
    if let Some(u) = uname() {
        s.push_str(&format!("Running on {u}\n"));
    }
    s
}

fn load_options(opts: &Options) -> LoadOptions {
    LoadOptions {
        config_id: opts.config_id.clone(),
        all_config: opts.all_config,
        host_interfaces: host_interfaces(),
        check_scripts: true,
        random_seed: Some(keepalived_rs::sys::clock::random_u64()),
    }
}

/// Interface names of this host (network namespace), from /sys/class/net.
fn host_interfaces() -> Option<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir("/sys/class/net")
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Some(names)
}

fn config_test(opts: &Options, log_file: Option<&Path>) -> i32 {
    let mut out: Box<dyn Write> = match log_file {
        // As keepalived: never through a symlink planted at that name.
        Some(p) => match std::os::unix::fs::OpenOptionsExt::custom_flags(
            File::options().write(true).create(true).truncate(true),
            libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
        .open(p)
        {
            Ok(f) => Box::new(io::BufWriter::new(f)),
            Err(e) => {
                eprintln!("Unable to open config-test log file {}: {e}", p.display());
                return 1;
            }
        },
        None => Box::new(io::stderr().lock()),
    };
    for a in &opts.unexpected {
        let _ = writeln!(out, "Unexpected argument: {a}");
    }
    let loaded = config::load(&opts.config_file, &load_options(opts));
    let unreadable = loaded
        .diagnostics
        .iter()
        .any(|d| d.kind == config::Kind::CannotRun);
    if unreadable {
        // keepalived's words for a file that is there but cannot be read (status 4).
        let _ = writeln!(
            out,
            "Unable to read configuration file {}",
            opts.config_file.display()
        );
    } else if loaded.main_missing {
        let _ = writeln!(
            out,
            "Config files missing '{}'.",
            opts.config_file.display()
        );
    }
    for d in &loaded.diagnostics {
        let _ = writeln!(out, "{d}");
    }
    for line in keepalived_rs::check::plan::notices(&loaded.config) {
        let _ = writeln!(out, "{line}");
    }
    if opts.dump_conf {
        print!("{}", config::dump::dump(&loaded.config));
    }
    if let Err(e) = out.flush() {
        eprintln!("config-test log: {e}");
    }
    config::config_test_status(&loaded)
}

/// How long `--status` waits for the daemon's answer.
const STATUS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// `--status`: one request on the daemon's control socket, its answer on stdout. Exit 0,
/// or 1 with a message on stderr when no daemon answers or it refuses the request.
fn status(opts: &Options, q: &StatusQuery) -> i32 {
    use keepalived_rs::status::control::{decode_reply, Request};
    use std::io::Read;
    use std::os::unix::net::UnixStream;
    let Some(path) = opts.control_socket_path() else {
        eprintln!("--status needs the control socket");
        return 1;
    };
    let request = match q {
        StatusQuery::Status { json, instances } => Request::Status {
            json: *json,
            only: instances.clone(),
        },
        StatusQuery::Metrics(format) => Request::Metrics { format: *format },
    };
    let shown = path.display();
    let mut stream = match UnixStream::connect(&path) {
        Ok(s) => s,
        Err(e) => {
            let why = match e.kind() {
                io::ErrorKind::NotFound => "no control socket there".to_string(),
                io::ErrorKind::ConnectionRefused => {
                    "nothing answers (a stale socket: the daemon is not running)".to_string()
                }
                io::ErrorKind::PermissionDenied => {
                    "permission denied (the control socket is root's)".to_string()
                }
                _ => e.to_string(),
            };
            eprintln!(
                "keepalived-rs --status: {shown}: {why}.\nIs keepalived-rs running, \
                 started with the same -p/--pid (or --control-socket)?"
            );
            return 1;
        }
    };
    let _ = stream.set_read_timeout(Some(STATUS_TIMEOUT));
    let _ = stream.set_write_timeout(Some(STATUS_TIMEOUT));
    let mut text = Vec::new();
    let sent = stream.write_all(request.line().as_bytes());
    let got = sent.and_then(|()| stream.read_to_end(&mut text));
    if let Err(e) = got {
        eprintln!("keepalived-rs --status: {shown}: {e}");
        return 1;
    }
    match decode_reply(&String::from_utf8_lossy(&text)) {
        Ok(body) => {
            let mut out = io::stdout().lock();
            if out
                .write_all(body.as_bytes())
                .and_then(|()| out.flush())
                .is_err()
            {
                return 1;
            }
            0
        }
        Err(msg) => {
            eprintln!("keepalived-rs --status: {msg}");
            1
        }
    }
}

/// `-m`: unlimited core size. Failures are logged, not fatal (as keepalived).
fn enable_core_dumps() {
    let lim = libc::rlimit {
        rlim_cur: libc::RLIM_INFINITY,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: setrlimit reads the struct we pass; no other memory is touched.
    if unsafe { libc::setrlimit(libc::RLIMIT_CORE, &lim) } != 0 {
        log::warn!(
            "Failed to set core file size: {}",
            io::Error::last_os_error()
        );
    }
}

const CORE_PATTERN: &str = "/proc/sys/kernel/core_pattern";

/// `-M PATN`: sets the kernel core pattern, returning the old one to restore at exit.
fn set_core_pattern(pattern: &str) -> Option<String> {
    let old = std::fs::read_to_string(CORE_PATTERN).ok()?;
    match std::fs::write(CORE_PATTERN, pattern) {
        Ok(()) => Some(old),
        Err(e) => {
            log::warn!("Failed to set {CORE_PATTERN} to '{pattern}': {e}");
            None
        }
    }
}

fn shell_quote_args(argv: &[OsString]) -> String {
    argv.iter()
        .map(|a| format!("'{}'", a.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn daemon(opts: &Options, argv: &[OsString]) -> i32 {
    logging::init(&opts.log);
    if let Some(u) = uname() {
        log::info!("Running on {u}");
    }
    log::info!("Command line: {}", shell_quote_args(argv));
    if !opts.unexpected.is_empty() {
        log::warn!("Unexpected argument(s): {}", opts.unexpected.join(" "));
    }
    log::info!("Configuration file {}", opts.config_file.display());
    if opts.dump_conf {
        let loaded = config::load(&opts.config_file, &load_options(opts));
        for line in config::dump::dump(&loaded.config).lines() {
            log::info!("{line}");
        }
    }
    if opts.core_dump {
        enable_core_dumps();
    }
    let old_pattern = opts.core_dump_pattern.as_deref().and_then(set_core_pattern);

    let dopts = daemon_options(opts);
    let status = sys::daemon_main(&dopts);

    if let Some(old) = old_pattern {
        if let Err(e) = std::fs::write(CORE_PATTERN, old.trim_end()) {
            log::warn!("Failed to restore {CORE_PATTERN}: {e}");
        }
    }
    log::info!("Stopped Keepalived-rs v{VERSION}");
    status
}

// `..Default::default()` keeps this compiling when `sys` adds fields to its options.
#[allow(clippy::needless_update)]
fn daemon_options(opts: &Options) -> sys::DaemonOptions {
    sys::DaemonOptions {
        config_file: opts.config_file.clone(),
        config_id: opts.config_id.clone(),
        all_config: opts.all_config,
        dont_fork: opts.dont_fork,
        // Empty: the daemon applies its default (cli::DEFAULT_PID_FILE).
        pid_file: opts.pid_file.clone().unwrap_or_default(),
        // Empty: $TMPDIR, else /tmp.
        dump_dir: opts.dump_dir.clone().unwrap_or_default(),
        release_vips: opts.release_vips,
        dont_release_vrrp: opts.dont_release_vrrp,
        dont_release_ipvs: opts.dont_release_ipvs,
        namespace: opts.namespace.clone(),
        umask: opts.umask,
        address_monitoring: opts.address_monitoring,
        run_vrrp: opts.subsystems.vrrp,
        run_checkers: opts.subsystems.checkers,
        control_socket: opts.control_socket_path(),
        snmp: opts.snmp,
        snmp_socket: opts.snmp_socket.clone(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn signal_numbers_match_keepalived_on_glibc_linux() {
        assert_eq!(signal_number(SigFunc::Stop), 15);
        assert_eq!(signal_number(SigFunc::Reload), 1);
        assert_eq!(signal_number(SigFunc::Data), 10);
        assert_eq!(signal_number(SigFunc::Stats), 12);
        assert_eq!(signal_number(SigFunc::StatsClear), libc::SIGRTMAX() - 1);
        assert_eq!(signal_number(SigFunc::Json), libc::SIGRTMIN() + 2);
    }

    #[test]
    fn daemon_options_carry_the_command_line() {
        let args: Vec<String> = [
            "-f",
            "/k.conf",
            "-P",
            "-n",
            "-p",
            "/p.pid",
            "-s",
            "ns",
            "-u",
            "077",
            "-i",
            "r1",
            "-e",
            "-X",
            "-V",
            "-I",
            "-a",
            "--dump-dir",
            "/d",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let o = cli::parse(&args).unwrap();
        let d = daemon_options(&o);
        assert_eq!(d.config_file, PathBuf::from("/k.conf"));
        assert!(d.run_vrrp && !d.run_checkers && d.dont_fork && d.all_config);
        assert!(
            d.release_vips && d.dont_release_vrrp && d.dont_release_ipvs && d.address_monitoring
        );
        assert_eq!(d.pid_file, PathBuf::from("/p.pid"));
        assert_eq!(d.dump_dir, PathBuf::from("/d"));
        assert_eq!(d.namespace.as_deref(), Some("ns"));
        assert_eq!(d.umask, Some(0o77));
        assert_eq!(d.config_id.as_deref(), Some("r1"));
        // The control socket beside the pid file.
        assert_eq!(d.control_socket, Some(PathBuf::from("/p.ctl")));
    }
}
