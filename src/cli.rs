//! keepalived-compatible command line options (getopts).
//!
//! [`parse`] turns the argument list into one typed [`Options`] value, once. Every option
//! of keepalived 2.2 is accepted with its short and long name and its meaning; the ones
//! that only make sense for keepalived's four-process design (`-r`, `-c`, `-b` child pid
//! files, `-R`, `-B`) are accepted and kept, but change nothing in a single-process
//! daemon. Our own `--simulate FILE [--seed N] [--until T]` runs the simulator.
//!
//! What the program does is one [`Mode`]; the options that only matter to one mode live
//! inside that variant, so e.g. a log file for `-t` cannot exist without `-t`.

use crate::logging::{Facility, LogOptions};
use getopts::{Matches, Occur};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Default configuration file, as keepalived.
pub const DEFAULT_CONFIG_FILE: &str = "/etc/keepalived/keepalived.conf";
/// Default pid file of the (only) process (`sys` applies it when `-p` is not given):
/// keepalived's own, so that monitoring written for keepalived finds us. To run beside a
/// real keepalived (a migration), give another with `-p` (and `--dump-dir`).
pub const DEFAULT_PID_FILE: &str = "/run/keepalived.pid";

/// A signal function name accepted by `--signum`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigFunc {
    /// SIGTERM: orderly shutdown.
    Stop,
    /// SIGHUP: reload the configuration.
    Reload,
    /// SIGUSR1: write the data file.
    Data,
    /// SIGUSR2: write the stats file.
    Stats,
    /// SIGRTMAX-1: write the stats file, then clear the counters.
    StatsClear,
    /// SIGRTMIN+2: write the JSON state file.
    Json,
}

impl SigFunc {
    pub const ALL: [SigFunc; 6] = [
        SigFunc::Stop,
        SigFunc::Reload,
        SigFunc::Data,
        SigFunc::Stats,
        SigFunc::StatsClear,
        SigFunc::Json,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SigFunc::Stop => "STOP",
            SigFunc::Reload => "RELOAD",
            SigFunc::Data => "DATA",
            SigFunc::Stats => "STATS",
            SigFunc::StatsClear => "STATS_CLEAR",
            SigFunc::Json => "JSON",
        }
    }

    /// keepalived matches the name exactly (upper case).
    pub fn from_name(s: &str) -> Option<SigFunc> {
        SigFunc::ALL.into_iter().find(|f| f.name() == s)
    }
}

/// What the process does.
#[derive(Clone, Debug, PartialEq)]
pub enum Mode {
    /// Run the daemon (the default).
    Daemon,
    /// `-t/--config-test[=LOG_FILE]`: check the configuration and exit.
    ConfigTest { log_file: Option<PathBuf> },
    /// `-h/--help`.
    Help,
    /// `-v/--version`.
    Version,
    /// `--signum=SIGFUNC`: print the signal number and exit.
    Signum(SigFunc),
    /// `--simulate FILE [--seed N] [--until T]`.
    Simulate {
        file: PathBuf,
        seed: u64,
        until: Option<Duration>,
    },
    /// `-T/--genhash ...` (must be the first option): the arguments after it, for the
    /// genhash tool's own option parser.
    Genhash(Vec<String>),
    /// `--simulate --node NAME=FILE... [--event E]... [--segment S]...` (extension): a
    /// what-if run of the operator's own configuration files.
    WhatIf(crate::sim::whatif::WhatIf),
    /// `--status [--json | --metrics[=openmetrics]] [INSTANCE...]` (extension): ask the
    /// running daemon over its control socket, print the answer, exit.
    Status(StatusQuery),
}

/// What `--status` asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StatusQuery {
    /// The live status (as JSON with `--json`) of every instance, or of those named.
    Status { json: bool, instances: Vec<String> },
    /// `--metrics`: the metrics exposition.
    Metrics(crate::status::metrics::Format),
}

/// Which subsystems run. keepalived's `-P` and `-C` restrict to one; both given (or
/// neither) runs both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subsystems {
    pub vrrp: bool,
    pub checkers: bool,
    /// `-B/--no_bfd` clears it. BFD is not implemented; kept for the record.
    pub bfd: bool,
}

/// Everything the command line says, parsed once.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub mode: Mode,
    /// `-f/--use-file`
    pub config_file: PathBuf,
    /// `-i/--config-id`
    pub config_id: Option<String>,
    /// `-e/--all-config`
    pub all_config: bool,
    /// `-P`, `-C`, `-B`
    pub subsystems: Subsystems,
    /// `--all`: run subsystems even without configuration for them.
    pub all_subsystems: bool,
    /// `-l`, `-D`, `-S`, `-G`
    pub log: LogOptions,
    /// `-u/--umask` (octal, decimal or 0x hex, as strtol base 0)
    pub umask: Option<u32>,
    /// `-X/--release-vips`
    pub release_vips: bool,
    /// `-V/--dont-release-vrrp`
    pub dont_release_vrrp: bool,
    /// `-I/--dont-release-ipvs`
    pub dont_release_ipvs: bool,
    /// `-R/--dont-respawn` (no children to respawn: accepted, no effect)
    pub dont_respawn: bool,
    /// `-n/--dont-fork`
    pub dont_fork: bool,
    /// `-d/--dump-conf`
    pub dump_conf: bool,
    /// `-p/--pid` (None: the daemon's default, [`DEFAULT_PID_FILE`])
    pub pid_file: Option<PathBuf>,
    /// `--dump-dir` (ours; None: `$TMPDIR`, else /tmp, as keepalived)
    pub dump_dir: Option<PathBuf>,
    /// `-r/--vrrp_pid`, `-c/--checkers_pid`, `-b/--bfd_pid`: accepted, unused (one process).
    pub vrrp_pid_file: Option<PathBuf>,
    pub checkers_pid_file: Option<PathBuf>,
    pub bfd_pid_file: Option<PathBuf>,
    /// `-a/--address-monitoring`
    pub address_monitoring: bool,
    /// `-s/--namespace`
    pub namespace: Option<String>,
    /// `-m/--core-dump`
    pub core_dump: bool,
    /// `-M/--core-dump-pattern[=PATN]` (implies `-m`; default pattern "core")
    pub core_dump_pattern: Option<String>,
    /// Non-option arguments: keepalived warns "Unexpected argument(s)" and goes on.
    pub unexpected: Vec<String>,
    /// `-x/--snmp`: serve SNMP (every MIB when no `enable_snmp_*` keyword says which).
    pub snmp: bool,
    /// `-A/--snmp-agent-socket`: the master agent's socket, over `snmp_socket`.
    pub snmp_socket: Option<String>,
    /// `--control-socket PATH` (extension; None: beside the pid file).
    pub control_socket: Option<PathBuf>,
    /// `--no-control-socket` (extension): the daemon opens none.
    pub no_control_socket: bool,
}

impl Options {
    /// The control socket the daemon opens and `--status` connects to: `--control-socket`,
    /// else beside the pid file (`/run/keepalived.pid` → `/run/keepalived.ctl`); None with
    /// `--no-control-socket`.
    pub fn control_socket_path(&self) -> Option<PathBuf> {
        if self.no_control_socket {
            return None;
        }
        Some(self.control_socket.clone().unwrap_or_else(|| {
            let pid = self
                .pid_file
                .clone()
                .unwrap_or_else(|| PathBuf::from(DEFAULT_PID_FILE));
            crate::sys::control::socket_path_for(&pid)
        }))
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            mode: Mode::Daemon,
            config_file: PathBuf::from(DEFAULT_CONFIG_FILE),
            config_id: None,
            all_config: false,
            subsystems: Subsystems {
                vrrp: true,
                checkers: true,
                bfd: true,
            },
            all_subsystems: false,
            log: LogOptions::default(),
            umask: None,
            release_vips: false,
            dont_release_vrrp: false,
            dont_release_ipvs: false,
            dont_respawn: false,
            dont_fork: false,
            dump_conf: false,
            pid_file: None,
            dump_dir: None,
            vrrp_pid_file: None,
            checkers_pid_file: None,
            bfd_pid_file: None,
            address_monitoring: false,
            namespace: None,
            core_dump: false,
            core_dump_pattern: None,
            unexpected: Vec::new(),
            snmp: false,
            snmp_socket: None,
            control_socket: None,
            no_control_socket: false,
        }
    }
}

/// A command line that cannot be run: one line, printed before the usage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CliError(pub String);

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CliError {}

/// One option: short name (may be empty), long name, argument hint (None = flag,
/// Some((hint, optional))), and the help text lines.
struct Spec {
    short: &'static str,
    long: &'static str,
    arg: Option<(&'static str, bool)>,
    help: &'static [&'static str],
}

const fn flag(short: &'static str, long: &'static str, help: &'static [&'static str]) -> Spec {
    Spec {
        short,
        long,
        arg: None,
        help,
    }
}

const fn arg(
    short: &'static str,
    long: &'static str,
    hint: &'static str,
    help: &'static [&'static str],
) -> Spec {
    Spec {
        short,
        long,
        arg: Some((hint, false)),
        help,
    }
}

const fn optarg(
    short: &'static str,
    long: &'static str,
    hint: &'static str,
    help: &'static [&'static str],
) -> Spec {
    Spec {
        short,
        long,
        arg: Some((hint, true)),
        help,
    }
}

/// The option table, in keepalived's `--help` order, then ours.
const SPECS: &[Spec] = &[
    arg(
        "f",
        "use-file",
        "FILE",
        &[
            "Use the specified configuration file",
            " default '/etc/keepalived/keepalived.conf'",
        ],
    ),
    flag("P", "vrrp", &["Only run with VRRP subsystem"]),
    flag("C", "check", &["Only run with Health-checker subsystem"]),
    flag(
        "B",
        "no_bfd",
        &["Don't run BFD subsystem (BFD is not implemented; accepted)"],
    ),
    flag(
        "",
        "all",
        &["Force all subsystems to run, even if have no configuration"],
    ),
    flag("l", "log-console", &["Log messages to local console"]),
    flag("D", "log-detail", &["Detailed log messages"]),
    arg(
        "S",
        "log-facility",
        "([0-7]|local[0-7]|user|daemon)",
        &["Set syslog facility to LOG_LOCAL[0-7], user or daemon (default)"],
    ),
    flag("G", "no-syslog", &["Don't log via syslog"]),
    arg(
        "u",
        "umask",
        "MASK",
        &["umask for file creation (in numeric form)"],
    ),
    flag(
        "X",
        "release-vips",
        &["Drop VIP on transition from signal."],
    ),
    flag(
        "V",
        "dont-release-vrrp",
        &["Don't remove VRRP VIPs and VROUTEs on daemon stop"],
    ),
    flag(
        "I",
        "dont-release-ipvs",
        &["Don't remove IPVS topology on daemon stop"],
    ),
    flag(
        "R",
        "dont-respawn",
        &["Don't respawn child processes (one process: accepted, no effect)"],
    ),
    flag("n", "dont-fork", &["Don't fork the daemon process"]),
    flag("d", "dump-conf", &["Dump the configuration data"]),
    arg(
        "p",
        "pid",
        "FILE",
        &[
            "Use specified pidfile for parent process",
            " default '/run/keepalived.pid'",
        ],
    ),
    arg(
        "r",
        "vrrp_pid",
        "FILE",
        &[
            "Use specified pidfile for VRRP child process",
            " (one process: accepted, not written)",
        ],
    ),
    flag(
        "T",
        "genhash",
        &["Enter into genhash utility mode (this should be the first option used)."],
    ),
    arg(
        "c",
        "checkers_pid",
        "FILE",
        &[
            "Use specified pidfile for checkers child process",
            " (one process: accepted, not written)",
        ],
    ),
    flag(
        "a",
        "address-monitoring",
        &["Report all address additions/deletions notified via netlink"],
    ),
    arg(
        "b",
        "bfd_pid",
        "FILE",
        &[
            "Use specified pidfile for BFD child process",
            " (one process: accepted, not written)",
        ],
    ),
    flag(
        "x",
        "snmp",
        &["Enable SNMP subsystem (AgentX: VRRP-MIB, VRRPv3-MIB)"],
    ),
    arg(
        "A",
        "snmp-agent-socket",
        "FILE",
        &["Use the specified socket for master agent"],
    ),
    arg(
        "s",
        "namespace",
        "NAME",
        &["Run in network namespace NAME (overrides config)"],
    ),
    flag(
        "m",
        "core-dump",
        &["Produce core dump if terminate abnormally"],
    ),
    optarg(
        "M",
        "core-dump-pattern",
        "PATN",
        &["Also set /proc/sys/kernel/core_pattern to PATN (default 'core')"],
    ),
    flag(
        "e",
        "all-config",
        &["Error if any configuration file missing (same as includet)"],
    ),
    arg(
        "i",
        "config-id",
        "id",
        &[
            "Skip any configuration lines beginning '@' that don't match id",
            " or any lines beginning @^ that do match.",
            " The config-id defaults to the node name if option not used",
        ],
    ),
    arg(
        "",
        "signum",
        "SIGFUNC",
        &["Return signal number for STOP, RELOAD, DATA, STATS, STATS_CLEAR, JSON"],
    ),
    optarg(
        "t",
        "config-test",
        "LOG_FILE",
        &[
            "Check the configuration for obvious errors, output to",
            " stderr by default",
        ],
    ),
    arg(
        "",
        "dump-dir",
        "DIR",
        &[
            "Write keepalived.data, .stats and .json in DIR",
            " (default $TMPDIR, else /tmp)",
        ],
    ),
    arg(
        "",
        "simulate",
        "FILE",
        &[
            "Run the scenario FILE in the simulated network and exit",
            " (no root, no real network)",
        ],
    ),
    arg(
        "",
        "node",
        "NAME=FILE",
        &[
            "With --simulate and no FILE: a simulated router running",
            " the configuration FILE (repeat for each router)",
        ],
    ),
    arg(
        "",
        "event",
        "EVENT",
        &[
            "With --node: what happens, e.g. 'kill r1 at 10s',",
            " 'link r2:eth0 down at 20s', 'script chk on r1 fails at 30s'",
        ],
    ),
    arg(
        "",
        "segment",
        "NAME=NODE:IF,...",
        &["With --node: these interfaces share segment NAME"],
    ),
    arg("", "seed", "N", &["Random seed for --simulate (default 1)"]),
    flag(
        "",
        "status",
        &[
            "Print the running daemon's state and exit (extension);",
            " INSTANCE names may follow",
        ],
    ),
    flag("", "json", &["With --status: as JSON"]),
    optarg(
        "",
        "metrics",
        "openmetrics",
        &[
            "With --status: the metrics, Prometheus text",
            " (--metrics=openmetrics: OpenMetrics)",
        ],
    ),
    arg(
        "",
        "control-socket",
        "PATH",
        &[
            "The daemon's control socket (extension)",
            " default: the pid file with .ctl for .pid",
        ],
    ),
    flag(
        "",
        "no-control-socket",
        &["Don't open a control socket (extension)"],
    ),
    arg(
        "",
        "until",
        "SECONDS",
        &["Stop --simulate at this simulated time (e.g. 30 or 12.5)"],
    ),
    flag("v", "version", &["Display the version number"]),
    flag("h", "help", &["Display this help message"]),
];

/// The long names of every option, for tests and the man page check.
pub fn long_options() -> impl Iterator<Item = &'static str> {
    SPECS.iter().map(|s| s.long)
}

/// The short names of every option that has one.
pub fn short_options() -> impl Iterator<Item = &'static str> {
    SPECS.iter().map(|s| s.short).filter(|s| !s.is_empty())
}

fn getopts_table() -> getopts::Options {
    let mut o = getopts::Options::new();
    for s in SPECS {
        let (hasarg, hint) = match s.arg {
            None => (getopts::HasArg::No, ""),
            Some((h, false)) => (getopts::HasArg::Yes, h),
            Some((h, true)) => (getopts::HasArg::Maybe, h),
        };
        // Every option may be repeated; as with getopt_long, the last one wins.
        o.opt(s.short, s.long, s.help[0], hint, hasarg, Occur::Multi);
    }
    o
}

/// The `--help` text (keepalived's layout), for `program` as argv[0].
pub fn usage(program: &str) -> String {
    let mut out = format!("Usage: {program} [OPTION...]\n");
    for s in SPECS {
        let mut left = if s.short.is_empty() {
            "      ".to_string()
        } else {
            format!("  -{}, ", s.short)
        };
        left.push_str("--");
        left.push_str(s.long);
        match s.arg {
            None => {}
            Some((h, false)) if s.long == "config-id" => {
                left.push(' ');
                left.push_str(h);
            }
            Some((h, false)) => {
                left.push('=');
                left.push_str(h);
            }
            Some((h, true)) => {
                left.push_str("[=");
                left.push_str(h);
                left.push(']');
            }
        }
        let mut lines = s.help.iter();
        let first = lines.next().copied().unwrap_or("");
        if left.len() <= 30 {
            out.push_str(&format!("{left:<31}{first}\n"));
        } else {
            out.push_str(&format!("{left}\n{:<31}{first}\n", ""));
        }
        for l in lines {
            out.push_str(&format!("{:<31}{l}\n", ""));
        }
    }
    out
}

/// The short usage line printed after a command-line error.
pub fn short_usage(program: &str) -> String {
    format!("Usage: {program} [OPTION...]\nTry '{program} --help' for more information.\n")
}

fn last(m: &Matches, name: &str) -> Option<String> {
    m.opt_strs(name).pop()
}

fn given(m: &Matches, name: &str) -> bool {
    m.opt_present(name)
}

/// Parses a number as C's strtol(…, 0) does: 0x hex, leading-0 octal, else decimal.
fn parse_c_number(s: &str) -> Option<u32> {
    let s = s.trim();
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u32::from_str_radix(h, 16).ok()
    } else if s.len() > 1 && s.starts_with('0') {
        u32::from_str_radix(&s[1..], 8).ok()
    } else {
        s.parse().ok()
    }
}

/// Parses a simulated duration in seconds: "30", "12.5", "0.001" (to the nanosecond).
pub fn parse_seconds(s: &str) -> Option<Duration> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 9
    {
        return None;
    }
    let secs: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let nanos: u32 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}").parse().ok()?
    };
    Some(Duration::new(secs, nanos))
}

/// Makes a short option with an optional argument (`-t`, `-M`) behave as with getopt:
/// written last in its word (`-t`, `-nt`), it never takes the next word as its argument
/// (`-t -f x`, `-t foo` keep `foo` free). It becomes the long form, which getopts treats
/// that way. Words that are the value of a preceding option are left alone.
fn normalise(args: &[String]) -> Vec<String> {
    let spec_short = |c: char| {
        SPECS
            .iter()
            .find(|s| s.short.chars().eq(std::iter::once(c)))
    };
    let mut out = Vec::with_capacity(args.len());
    let mut rest_free = false;
    let mut value_next = false;
    for a in args {
        if rest_free || value_next {
            value_next = false;
            out.push(a.clone());
            continue;
        }
        if a == "--" {
            rest_free = true;
            out.push(a.clone());
            continue;
        }
        if let Some(long) = a.strip_prefix("--") {
            value_next = !long.contains('=')
                && SPECS
                    .iter()
                    .any(|s| s.long == long && matches!(s.arg, Some((_, false))));
            out.push(a.clone());
            continue;
        }
        let cluster: Vec<char> = match a.strip_prefix('-') {
            Some(c) if !c.is_empty() => c.chars().collect(),
            _ => {
                out.push(a.clone());
                continue;
            }
        };
        let mut rewritten = None;
        for (i, c) in cluster.iter().enumerate() {
            let last = i + 1 == cluster.len();
            match spec_short(*c).map(|s| (s.long, s.arg)) {
                Some((_, Some((_, false)))) => {
                    value_next = last;
                    break;
                }
                Some((long, Some((_, true)))) => {
                    if last {
                        rewritten = Some((cluster[..i].iter().collect::<String>(), long));
                    }
                    break;
                }
                _ => {}
            }
        }
        match rewritten {
            Some((flags, long)) => {
                if !flags.is_empty() {
                    out.push(format!("-{flags}"));
                }
                out.push(format!("--{long}"));
            }
            None => out.push(a.clone()),
        }
    }
    out
}

/// Parses the arguments after argv[0].
pub fn parse(args: &[String]) -> Result<Options, CliError> {
    // genhash mode: must be the first option; the rest belongs to genhash.
    if let Some(first) = args.first() {
        if first == "-T" || first == "--genhash" {
            return Ok(Options {
                mode: Mode::Genhash(args[1..].to_vec()),
                ..Options::default()
            });
        }
    }
    // `--simulate --node ...`: --simulate without its FILE (the what-if form).
    let mut args: Vec<String> = args.to_vec();
    for i in 0..args.len() {
        let bare = args[i] == "--simulate";
        if bare && args.get(i + 1).map_or(true, |n| n.starts_with("--")) {
            args[i] = "--simulate=".into();
        }
    }
    let m = getopts_table()
        .parse(normalise(&args))
        .map_err(|e| CliError(fail_message(&e)))?;

    if given(&m, "genhash") {
        return Err(CliError(
            "-T/--genhash must be the first option on the command line".into(),
        ));
    }

    let mut o = Options::default();

    if let Some(f) = last(&m, "use-file") {
        o.config_file = PathBuf::from(f);
    }
    o.config_id = last(&m, "config-id");
    o.all_config = given(&m, "all-config");

    let (p, c) = (given(&m, "vrrp"), given(&m, "check"));
    if p || c {
        o.subsystems.vrrp = p;
        o.subsystems.checkers = c;
    }
    o.subsystems.bfd = !given(&m, "no_bfd");
    o.all_subsystems = given(&m, "all");

    o.log.console = given(&m, "log-console");
    o.log.detail = u8::try_from(m.opt_count("log-detail")).unwrap_or(u8::MAX);
    o.log.syslog = !given(&m, "no-syslog");
    if let Some(f) = last(&m, "log-facility") {
        o.log.facility =
            Facility::parse(&f).ok_or_else(|| CliError(format!("Invalid log facility '{f}'")))?;
    }

    if let Some(u) = last(&m, "umask") {
        let v = parse_c_number(&u)
            .filter(|v| *v <= 0o777)
            .ok_or_else(|| CliError(format!("Invalid umask '{u}'")))?;
        o.umask = Some(v);
    }
    o.release_vips = given(&m, "release-vips");
    o.dont_release_vrrp = given(&m, "dont-release-vrrp");
    o.dont_release_ipvs = given(&m, "dont-release-ipvs");
    o.dont_respawn = given(&m, "dont-respawn");
    o.dont_fork = given(&m, "dont-fork");
    o.dump_conf = given(&m, "dump-conf");
    o.pid_file = last(&m, "pid").map(PathBuf::from);
    o.dump_dir = last(&m, "dump-dir").map(PathBuf::from);
    o.vrrp_pid_file = last(&m, "vrrp_pid").map(PathBuf::from);
    o.checkers_pid_file = last(&m, "checkers_pid").map(PathBuf::from);
    o.bfd_pid_file = last(&m, "bfd_pid").map(PathBuf::from);
    o.address_monitoring = given(&m, "address-monitoring");
    o.namespace = last(&m, "namespace");
    o.core_dump = given(&m, "core-dump") || given(&m, "core-dump-pattern");
    if given(&m, "core-dump-pattern") {
        o.core_dump_pattern = Some(last(&m, "core-dump-pattern").unwrap_or_else(|| "core".into()));
    }
    o.unexpected = m.free.clone();
    o.snmp = given(&m, "snmp");
    o.snmp_socket = last(&m, "snmp-agent-socket");
    o.control_socket = last(&m, "control-socket").map(PathBuf::from);
    o.no_control_socket = given(&m, "no-control-socket");
    if o.no_control_socket && o.control_socket.is_some() {
        return Err(CliError(
            "--control-socket and --no-control-socket exclude each other".into(),
        ));
    }

    let seed =
        match last(&m, "seed") {
            Some(s) => Some(s.parse::<u64>().map_err(|_| {
                CliError(format!("Invalid seed '{s}': expected an unsigned integer"))
            })?),
            None => None,
        };
    let until = match last(&m, "until") {
        Some(s) => Some(parse_seconds(&s).ok_or_else(|| {
            CliError(format!(
                "Invalid time '{s}': expected seconds, e.g. 30 or 12.5"
            ))
        })?),
        None => None,
    };

    o.mode = if given(&m, "help") {
        Mode::Help
    } else if given(&m, "version") {
        Mode::Version
    } else if let Some(s) = last(&m, "signum") {
        Mode::Signum(
            SigFunc::from_name(&s).ok_or_else(|| CliError(format!("Unknown sigfunc {s}")))?,
        )
    } else if given(&m, "status") {
        Mode::Status(status_query(&m, &mut o)?)
    } else if given(&m, "node") {
        if last(&m, "simulate").is_some_and(|f| !f.is_empty()) || !given(&m, "simulate") {
            return Err(CliError(
                "--node needs --simulate without a scenario FILE".into(),
            ));
        }
        let mut nodes = Vec::new();
        for n in m.opt_strs("node") {
            let (name, file) = n
                .split_once('=')
                .ok_or_else(|| CliError(format!("--node {n}: write --node NAME=FILE")))?;
            nodes.push((name.to_string(), PathBuf::from(file)));
        }
        Mode::WhatIf(crate::sim::whatif::WhatIf {
            nodes,
            events: m.opt_strs("event"),
            segments: m.opt_strs("segment"),
            seed: seed.unwrap_or(1),
            until,
        })
    } else if let Some(file) = last(&m, "simulate").filter(|f| !f.is_empty()) {
        Mode::Simulate {
            file: PathBuf::from(file),
            seed: seed.unwrap_or(1),
            until,
        }
    } else if given(&m, "simulate") {
        return Err(CliError(
            "--simulate needs a scenario FILE, or --node NAME=FILE for each router".into(),
        ));
    } else if given(&m, "config-test") {
        Mode::ConfigTest {
            log_file: last(&m, "config-test").map(PathBuf::from),
        }
    } else {
        Mode::Daemon
    };
    if !matches!(
        o.mode,
        Mode::Simulate { .. } | Mode::WhatIf(_) | Mode::Help | Mode::Version
    ) && (seed.is_some() || until.is_some())
    {
        return Err(CliError("--seed and --until need --simulate FILE".into()));
    }
    if !matches!(o.mode, Mode::Status(_) | Mode::Help | Mode::Version)
        && (given(&m, "json") || given(&m, "metrics"))
    {
        return Err(CliError("--json and --metrics need --status".into()));
    }
    if !matches!(o.mode, Mode::WhatIf(_) | Mode::Help | Mode::Version)
        && (given(&m, "event") || given(&m, "segment"))
    {
        return Err(CliError(
            "--event and --segment need --simulate --node".into(),
        ));
    }
    Ok(o)
}

/// `--status [--json | --metrics[=openmetrics]] [INSTANCE...]`: the instance names are
/// the free arguments.
fn status_query(m: &Matches, o: &mut Options) -> Result<StatusQuery, CliError> {
    use crate::status::metrics::Format;
    if o.no_control_socket {
        return Err(CliError(
            "--status asks the daemon over its control socket: --no-control-socket excludes it"
                .into(),
        ));
    }
    let instances = std::mem::take(&mut o.unexpected);
    if !given(m, "metrics") {
        return Ok(StatusQuery::Status {
            json: given(m, "json"),
            instances,
        });
    }
    if given(m, "json") {
        return Err(CliError("--json and --metrics exclude each other".into()));
    }
    if !instances.is_empty() {
        return Err(CliError(format!(
            "--metrics takes no instance name (got {})",
            instances.join(" ")
        )));
    }
    match last(m, "metrics").as_deref() {
        None | Some("") | Some("prometheus") => Ok(StatusQuery::Metrics(Format::Prometheus)),
        Some("openmetrics") => Ok(StatusQuery::Metrics(Format::OpenMetrics)),
        Some(f) => Err(CliError(format!(
            "--metrics={f}: expected 'openmetrics' (or nothing: Prometheus text)"
        ))),
    }
}

/// keepalived's wording for getopt failures.
fn fail_message(e: &getopts::Fail) -> String {
    use getopts::Fail::*;
    let dash = |n: &str| {
        if n.chars().count() == 1 {
            format!("-{n}")
        } else {
            format!("--{n}")
        }
    };
    match e {
        UnrecognizedOption(n) => format!("Unknown option {}", dash(n)),
        ArgumentMissing(n) => format!("Missing parameter for option {}", dash(n)),
        UnexpectedArgument(n) => format!("Option {} does not take a parameter", dash(n)),
        OptionMissing(n) => format!("Missing option {}", dash(n)),
        OptionDuplicated(n) => format!("Option {} given more than once", dash(n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Options, CliError> {
        parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn defaults() {
        let o = p(&[]).unwrap();
        assert_eq!(o, Options::default());
        assert_eq!(o.mode, Mode::Daemon);
        assert_eq!(
            o.config_file,
            PathBuf::from("/etc/keepalived/keepalived.conf")
        );
        assert_eq!(o.pid_file, None);
        assert!(o.subsystems.vrrp && o.subsystems.checkers && o.subsystems.bfd);
        assert!(o.log.syslog && !o.log.console);
        assert_eq!(o.log.facility, Facility::Daemon);
    }

    #[test]
    fn short_and_long_forms_agree() {
        let a = p(&[
            "-f", "/x.conf", "-n", "-l", "-D", "-p", "/p", "-i", "r1", "-e",
        ])
        .unwrap();
        let b = p(&[
            "--use-file=/x.conf",
            "--dont-fork",
            "--log-console",
            "--log-detail",
            "--pid",
            "/p",
            "--config-id=r1",
            "--all-config",
        ])
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.config_file, PathBuf::from("/x.conf"));
        assert!(a.dont_fork && a.log.console && a.all_config);
        assert_eq!(a.log.detail, 1);
        assert_eq!(a.config_id.as_deref(), Some("r1"));
        assert_eq!(a.pid_file, Some(PathBuf::from("/p")));
    }

    #[test]
    fn combined_short_flags_and_attached_value() {
        let o = p(&["-nlDD", "-f/etc/k.conf"]).unwrap();
        assert!(o.dont_fork && o.log.console);
        assert_eq!(o.log.detail, 2);
        assert_eq!(o.config_file, PathBuf::from("/etc/k.conf"));
    }

    #[test]
    fn last_repeated_value_wins() {
        let o = p(&["-f", "a", "-f", "b"]).unwrap();
        assert_eq!(o.config_file, PathBuf::from("b"));
    }

    #[test]
    fn subsystem_selection() {
        let o = p(&["-P"]).unwrap();
        assert!(o.subsystems.vrrp && !o.subsystems.checkers);
        let o = p(&["--check"]).unwrap();
        assert!(!o.subsystems.vrrp && o.subsystems.checkers);
        let o = p(&["-P", "-C", "-B", "--all"]).unwrap();
        assert!(o.subsystems.vrrp && o.subsystems.checkers && !o.subsystems.bfd);
        assert!(o.all_subsystems);
    }

    #[test]
    fn config_test_log_file_is_optional_and_never_steals_next_word() {
        assert_eq!(
            p(&["-t"]).unwrap().mode,
            Mode::ConfigTest { log_file: None }
        );
        let o = p(&["-t", "-f", "k.conf"]).unwrap();
        assert_eq!(o.mode, Mode::ConfigTest { log_file: None });
        assert_eq!(o.config_file, PathBuf::from("k.conf"));
        let o = p(&["-t", "foo"]).unwrap();
        assert_eq!(o.mode, Mode::ConfigTest { log_file: None });
        assert_eq!(o.unexpected, vec!["foo".to_string()]);
        let o = p(&["-nt", "foo"]).unwrap();
        assert_eq!(o.mode, Mode::ConfigTest { log_file: None });
        assert!(o.dont_fork);
        assert_eq!(o.unexpected, vec!["foo".to_string()]);
        // The value of -f / --pid is never rewritten, even when it looks like -t.
        let o = p(&["-f", "-t"]).unwrap();
        assert_eq!((o.mode, o.config_file), (Mode::Daemon, PathBuf::from("-t")));
        let o = p(&["--pid", "-M"]).unwrap();
        assert_eq!(
            (o.pid_file, o.core_dump),
            (Some(PathBuf::from("-M")), false)
        );
        let o = p(&["-nf", "-t"]).unwrap();
        assert_eq!(o.config_file, PathBuf::from("-t"));
        assert_eq!(
            p(&["--config-test=/tmp/l"]).unwrap().mode,
            Mode::ConfigTest {
                log_file: Some(PathBuf::from("/tmp/l"))
            }
        );
        assert_eq!(
            p(&["-t/tmp/l"]).unwrap().mode,
            Mode::ConfigTest {
                log_file: Some(PathBuf::from("/tmp/l"))
            }
        );
    }

    #[test]
    fn signum_names() {
        for f in SigFunc::ALL {
            assert_eq!(
                p(&[&format!("--signum={}", f.name())]).unwrap().mode,
                Mode::Signum(f)
            );
        }
        assert_eq!(
            p(&["--signum", "RELOAD"]).unwrap().mode,
            Mode::Signum(SigFunc::Reload)
        );
        assert_eq!(
            p(&["--signum=reload"]).unwrap_err().0,
            "Unknown sigfunc reload"
        );
        assert!(p(&["--signum=TDUMP"]).is_err());
    }

    #[test]
    fn help_and_version_win() {
        assert_eq!(p(&["-f", "x", "-h"]).unwrap().mode, Mode::Help);
        assert_eq!(p(&["-v", "-t"]).unwrap().mode, Mode::Version);
    }

    #[test]
    fn facility() {
        assert_eq!(p(&["-S", "3"]).unwrap().log.facility, Facility::Local3);
        assert_eq!(
            p(&["--log-facility=local7"]).unwrap().log.facility,
            Facility::Local7
        );
        assert_eq!(p(&["-S", "user"]).unwrap().log.facility, Facility::User);
        assert_eq!(p(&["-S", "daemon"]).unwrap().log.facility, Facility::Daemon);
        assert_eq!(p(&["-S", "9"]).unwrap_err().0, "Invalid log facility '9'");
        assert!(p(&["-S", "local8"]).is_err());
    }

    #[test]
    fn umask_is_numeric_like_strtol() {
        assert_eq!(p(&["-u", "022"]).unwrap().umask, Some(0o22));
        assert_eq!(p(&["--umask=0x12"]).unwrap().umask, Some(0x12));
        assert_eq!(p(&["-u", "18"]).unwrap().umask, Some(18));
        assert!(p(&["-u", "abc"]).is_err());
        assert!(p(&["-u", "01000"]).is_err());
    }

    #[test]
    fn errors_name_the_option() {
        assert_eq!(p(&["--bogus"]).unwrap_err().0, "Unknown option --bogus");
        assert_eq!(p(&["-Z"]).unwrap_err().0, "Unknown option -Z");
        assert_eq!(p(&["-f"]).unwrap_err().0, "Missing parameter for option -f");
        assert_eq!(
            p(&["--dont-fork=yes"]).unwrap_err().0,
            "Option --dont-fork does not take a parameter"
        );
    }

    #[test]
    fn genhash_must_come_first() {
        assert_eq!(
            p(&["-T", "-s", "127.0.0.1", "-p", "80"]).unwrap().mode,
            Mode::Genhash(vec![
                "-s".into(),
                "127.0.0.1".into(),
                "-p".into(),
                "80".into()
            ])
        );
        assert_eq!(p(&["--genhash"]).unwrap().mode, Mode::Genhash(vec![]));
        assert!(p(&["-n", "-T"]).is_err());
    }

    #[test]
    fn simulate_seed_until() {
        assert_eq!(
            p(&["--simulate", "a.scn"]).unwrap().mode,
            Mode::Simulate {
                file: "a.scn".into(),
                seed: 1,
                until: None
            }
        );
        assert_eq!(
            p(&["--simulate=a.scn", "--seed", "42", "--until=12.5"])
                .unwrap()
                .mode,
            Mode::Simulate {
                file: "a.scn".into(),
                seed: 42,
                until: Some(Duration::from_millis(12_500))
            }
        );
        assert!(p(&["--seed", "3"]).is_err());
        assert!(p(&["--simulate", "a", "--seed", "-1"]).is_err());
        assert!(p(&["--simulate", "a", "--until", "1e3"]).is_err());
    }

    #[test]
    fn seconds() {
        assert_eq!(parse_seconds("30"), Some(Duration::from_secs(30)));
        assert_eq!(parse_seconds("0.001"), Some(Duration::from_millis(1)));
        assert_eq!(parse_seconds(".5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_seconds("1.000000001"), Some(Duration::new(1, 1)));
        assert_eq!(parse_seconds(""), None);
        assert_eq!(parse_seconds("."), None);
        assert_eq!(parse_seconds("-1"), None);
        assert_eq!(parse_seconds("1.0000000001"), None);
    }

    #[test]
    fn core_dump_pattern() {
        let o = p(&["-M"]).unwrap();
        assert!(o.core_dump);
        assert_eq!(o.core_dump_pattern.as_deref(), Some("core"));
        let o = p(&["--core-dump-pattern=/tmp/c.%p"]).unwrap();
        assert_eq!(o.core_dump_pattern.as_deref(), Some("/tmp/c.%p"));
        assert!(p(&["-m"]).unwrap().core_dump);
    }

    #[test]
    fn child_pid_files_accepted() {
        let o = p(&[
            "-r", "/a", "-c", "/b", "-b", "/c", "-R", "-a", "-s", "ns1", "-X", "-V", "-I", "-G",
            "-d",
        ])
        .unwrap();
        assert_eq!(o.vrrp_pid_file, Some("/a".into()));
        assert_eq!(o.checkers_pid_file, Some("/b".into()));
        assert_eq!(o.bfd_pid_file, Some("/c".into()));
        assert!(o.dont_respawn && o.address_monitoring && o.release_vips);
        assert!(o.dont_release_vrrp && o.dont_release_ipvs && !o.log.syslog && o.dump_conf);
        assert_eq!(o.namespace.as_deref(), Some("ns1"));
    }

    #[test]
    fn help_lists_every_option() {
        let u = usage("keepalived-rs");
        for s in SPECS {
            assert!(u.contains(&format!("--{}", s.long)), "{} missing", s.long);
            if !s.short.is_empty() {
                assert!(u.contains(&format!("-{}, --{}", s.short, s.long)));
            }
        }
        assert!(u.starts_with("Usage: keepalived-rs [OPTION...]\n"));
    }

    #[test]
    fn snmp_options() {
        let o = p(&[]).unwrap();
        assert!(!o.snmp && o.snmp_socket.is_none());
        let o = p(&["-x", "-A", "tcp:127.0.0.1:705"]).unwrap();
        assert!(o.snmp);
        assert_eq!(o.snmp_socket.as_deref(), Some("tcp:127.0.0.1:705"));
        let o = p(&["--snmp", "--snmp-agent-socket=/run/agentx"]).unwrap();
        assert!(o.snmp);
        assert_eq!(o.snmp_socket.as_deref(), Some("/run/agentx"));
        assert!(usage("k").contains("  -A, --snmp-agent-socket=FILE Use the specified socket"));
    }

    #[test]
    fn status_client_options() {
        use crate::status::metrics::Format;
        let o = p(&["--status"]).unwrap();
        assert_eq!(
            o.mode,
            Mode::Status(StatusQuery::Status {
                json: false,
                instances: vec![]
            })
        );
        assert_eq!(
            o.control_socket_path(),
            Some(PathBuf::from("/run/keepalived.ctl"))
        );
        let o = p(&["--status", "--json", "-p", "/tmp/r1.pid", "VI_1", "VI_2"]).unwrap();
        assert_eq!(
            o.mode,
            Mode::Status(StatusQuery::Status {
                json: true,
                instances: vec!["VI_1".into(), "VI_2".into()]
            })
        );
        assert!(o.unexpected.is_empty());
        assert_eq!(o.control_socket_path(), Some(PathBuf::from("/tmp/r1.ctl")));
        assert_eq!(
            p(&["--status", "--metrics"]).unwrap().mode,
            Mode::Status(StatusQuery::Metrics(Format::Prometheus))
        );
        assert_eq!(
            p(&["--status", "--metrics=openmetrics"]).unwrap().mode,
            Mode::Status(StatusQuery::Metrics(Format::OpenMetrics))
        );
        let o = p(&["--status", "--control-socket", "/x.sock"]).unwrap();
        assert_eq!(o.control_socket_path(), Some(PathBuf::from("/x.sock")));
        assert!(p(&["--json"]).is_err());
        assert!(p(&["--metrics"]).is_err());
        assert!(p(&["--status", "--json", "--metrics"]).is_err());
        assert!(p(&["--status", "--metrics", "VI_1"]).is_err());
        assert!(p(&["--status", "--metrics=xml"]).is_err());
        assert!(p(&["--status", "--no-control-socket"]).is_err());
        assert!(p(&["--no-control-socket", "--control-socket=/x"]).is_err());
        // The daemon: no socket with --no-control-socket.
        let o = p(&["--no-control-socket"]).unwrap();
        assert_eq!((&o.mode, o.control_socket_path()), (&Mode::Daemon, None));
    }

    #[test]
    fn short_names_are_unique() {
        let mut v: Vec<_> = short_options().collect();
        let n = v.len();
        v.sort();
        v.dedup();
        assert_eq!(n, v.len());
        let mut l: Vec<_> = long_options().collect();
        let n = l.len();
        l.sort();
        l.dedup();
        assert_eq!(n, l.len());
    }
}
