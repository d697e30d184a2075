//! The scenario language (`conformance/*.scn`, `examples/demo/*.scn`): declarations of
//! segments and hosts (each with its keepalived.conf inline), a timeline of stimuli and
//! expectations with exact simulated times. Line oriented; `#` starts a comment. Words are
//! split and typed with nom. The full grammar is documented in `conformance/README.md`.

use super::clock::{parse_duration, parse_instant, parse_percent};
use super::craft::{AuthSpec, CraftSpec, CsumForm, CsumSpec};
use crate::event::Mac;
use crate::sched::Instant;
use crate::status::DumpKind;
use nom::branch::alt;
use nom::bytes::complete::{is_not, tag, take_while1};
use nom::character::complete::space0;
use nom::multi::many0;
use nom::sequence::{delimited, preceded};
use nom::IResult;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

mod ipvs;
mod servers;
pub use ipvs::{DestWant, IpvsPred, OpKind, SvcWant, SyncWant};
pub use servers::{Mode, ServerDecl, ServerKind, ServerOpt};

/// A parse error with its 1-based line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Per-segment link behaviour; all random draws come from the run's seed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkParams {
    pub delay: Duration,
    pub jitter: Duration,
    pub loss_ppm: u32,
    pub dup_ppm: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentDecl {
    pub name: String,
    pub line: usize,
    pub params: LinkParams,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IfaceDecl {
    pub name: String,
    pub segment: String,
    pub ipv4: Vec<Ipv4Addr>,
    pub ipv6: Vec<Ipv6Addr>,
    pub mac: Option<Mac>,
    pub line: usize,
}

/// What a track script run returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScriptResult {
    Exit(i32),
    /// Never exits by itself: the engine's timeout (or KillScript) ends it.
    Hang,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptDecl {
    pub name: String,
    pub result: ScriptResult,
    /// A run ends this long after it starts...
    pub delay: Duration,
    /// ...plus a uniform random extra in [0, jitter] drawn from the run's seed.
    pub jitter: Duration,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostDecl {
    pub name: String,
    pub line: usize,
    /// Started at 0 s unless declared `stopped`.
    pub autostart: bool,
    pub ifaces: Vec<IfaceDecl>,
    pub config: String,
    /// Line of the scenario file where the inline configuration starts.
    pub config_line: usize,
    /// `config file PATH`: the configuration is read from PATH (relative to the scenario
    /// file) when the scenario is loaded.
    pub config_file: Option<String>,
    pub scripts: Vec<ScriptDecl>,
    /// The kernel has IPVS (false: `no ipvs`, every IPVS request is refused).
    pub ipvs: bool,
    /// `ipvsadm ...` lines: what the operator put in the kernel's IPVS table before the
    /// run (applied in order at 0 s; a crash empties the table).
    pub ipvsadm: Vec<crate::ipvs::diff::Op>,
    /// `cli ...`: keepalived command-line options the daemon is started with.
    pub cli: HostCli,
}

/// The command-line options a simulated host's keepalived runs with (`cli -I -X`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostCli {
    /// `-I` / `--dont-release-ipvs`: leave the IPVS table as it is on stop.
    pub dont_release_ipvs: bool,
    /// `-X` / `--release-vips`: Backup and Fault delete the VIPs even if not added.
    pub release_vips: bool,
}

/// A crafted advert sent by a scripted peer that is not a simulated router.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inject {
    pub segment: String,
    pub every: Option<Duration>,
    /// Number of packets (default 1, or unbounded with `every` and `until`).
    pub count: Option<u32>,
    pub until: Option<Instant>,
    pub packet: CraftSpec,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stimulus {
    Start(String),
    Stop(String),
    Kill(String),
    Restart(String),
    Pause(String),
    Resume(String),
    Link {
        host: String,
        ifname: String,
        up: bool,
    },
    Partition(Vec<Vec<String>>),
    Heal,
    Loss {
        segment: String,
        ppm: u32,
    },
    Delay {
        segment: String,
        delay: Duration,
        jitter: Duration,
    },
    Dup {
        segment: String,
        ppm: u32,
    },
    Script {
        host: String,
        name: String,
        result: ScriptResult,
    },
    Inject(Inject),
    /// An ARP request "who has IP" broadcast on a segment.
    Arp {
        segment: String,
        ip: IpAddr,
    },
    /// An ICMP echo request to IP from a peer on the segment.
    Ping {
        segment: String,
        ip: IpAddr,
    },
    /// An IP frame sent to a destination MAC on the segment (to be routed by its owner).
    Frame {
        segment: String,
        mac: Mac,
    },
    /// SIGHUP: `host` re-reads its configuration — the text given (`reload r1 <<END`), or
    /// the one it runs (`reload r1`).
    Reload {
        host: String,
        config: Option<InlineConfig>,
    },
    /// The number in `track_file` `name` of `host` becomes `value` (None: unreadable).
    TrackFile {
        host: String,
        name: String,
        value: Option<i64>,
    },
    /// `count` processes now match `vrrp_track_process` `name` of `host`.
    Processes {
        host: String,
        name: String,
        count: u32,
    },
    /// Someone runs `ip addr del ADDR dev IFNAME` on `host`.
    DelAddress {
        host: String,
        ifname: String,
        addr: IpAddr,
    },
    /// Someone runs `ip addr add ADDR dev IFNAME` on `host`.
    AddAddress {
        host: String,
        ifname: String,
        addr: IpAddr,
    },
    /// The dump signal (SIGUSR1 / SIGUSR2 / SIGRTMIN+2) to keepalived on a host.
    Dump {
        host: String,
        kind: SimDump,
    },
    /// A simulated server switches to another mode (`server web1 down`).
    Server {
        name: String,
        mode: Mode,
    },
    /// The operator edits the IPVS table of `host` (`at 5s r1 ipvsadm del ...`).
    Ipvsadm {
        host: String,
        op: crate::ipvs::diff::Op,
    },
}

/// A configuration written in the scenario file (a heredoc), with the line its text
/// starts on (for diagnostics).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlineConfig {
    pub text: String,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timed {
    pub at: Instant,
    pub line: usize,
    pub stimulus: Stimulus,
}

/// When an expectation is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum When {
    /// Exactly at this instant (events), or as it stands after this instant (states).
    At(Instant),
    /// At no time in [from, to].
    Never { from: Instant, to: Instant },
    /// Exactly `n` matching events in [from, to].
    Count { n: u32, from: Instant, to: Instant },
    /// At the end of the run.
    End,
}

/// Filters on a packet a host sends.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AdvertFilter {
    pub prio: Option<u8>,
    pub vrid: Option<u8>,
    pub int_cs: Option<u32>,
    pub version: Option<u8>,
    pub src: Option<IpAddr>,
    pub dst: Option<IpAddr>,
    pub mac: Option<Mac>,
    pub addrs: Option<Vec<IpAddr>>,
    pub bytes: Option<Vec<u8>>,
    pub csum: Option<CsumForm>,
    pub ifname: Option<String>,
    pub ttl: Option<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Gt,
    Ge,
    Eq,
    Lt,
    Le,
}

impl CmpOp {
    pub fn holds(self, a: u64, b: u64) -> bool {
        match self {
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
            CmpOp::Eq => a == b,
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Predicate {
    /// The instance is in this state (as it stands after the instant).
    State(String),
    /// The instance enters this state (a transition at the instant).
    Becomes(String),
    SendsAdvert(AdvertFilter),
    SendsGarp {
        ip: Option<IpAddr>,
        mac: Option<Mac>,
    },
    SendsNa {
        ip: Option<IpAddr>,
        mac: Option<Mac>,
    },
    /// Any packet at all (advert, GARP, NA).
    SendsAnything,
    Has(IpAddr),
    Lacks(IpAddr),
    /// The host's kernel holds a route with everything this one sets
    /// ([`crate::config::model::Route::matches`]).
    HasRoute(crate::config::model::Route),
    LacksRoute(crate::config::model::Route),
    HasRule(crate::config::model::Rule),
    LacksRule(crate::config::model::Rule),
    Priority(u8),
    Counter {
        name: String,
        op: CmpOp,
        value: u64,
    },
    AnswersArp {
        ip: IpAddr,
        mac: Option<Mac>,
    },
    AnswersPing(IpAddr),
    ForwardsFrame,
    RunsScript(String),
    /// A VRID conflict episode of this kind (`DUAL_MASTER`, `ADDRESS_LIST`, `INTERVAL`,
    /// `OWNER`; None: any) starts.
    RaisesConflict(Option<String>),
    /// A dump of this kind taken at the instant contains the text (within the named
    /// instance's part when the expectation names one).
    DumpContains {
        kind: SimDump,
        text: String,
    },
    /// The engine decided a real server's health (`Action::RealServerChanged`): `rs` as
    /// keepalived names it (`[10.0.0.100]:tcp:80`), optionally its weight and its virtual
    /// server.
    RealServer {
        rs: String,
        up: bool,
        weight: Option<i32>,
        vs: Option<String>,
    },
    /// A simulated server got a connection attempt (accepted, refused or dropped), from
    /// the named host if one is given.
    ReceivesConnection {
        from: Option<String>,
    },
    /// A simulated server logged a request (a stream's request line or command, a
    /// datagram) containing the text, if one is given.
    ReceivesRequest {
        text: Option<String>,
        from: Option<String>,
    },
    /// The host's IPVS table and sync daemons (`ipvs has ...`), or its IPVS operations
    /// (`ipvs adds ...`).
    Ipvs(IpvsPred),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expect {
    pub line: usize,
    pub text: String,
    pub when: When,
    pub host: String,
    pub instance: Option<String>,
    pub predicate: Predicate,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scenario {
    pub segments: Vec<SegmentDecl>,
    pub hosts: Vec<HostDecl>,
    /// Simulated real servers (`server` statements).
    pub servers: Vec<ServerDecl>,
    pub timeline: Vec<Timed>,
    pub expects: Vec<Expect>,
    pub until: Option<Instant>,
}

impl Scenario {
    /// The end of the run: `until`, else a little after the last time mentioned.
    pub fn end(&self) -> Instant {
        if let Some(u) = self.until {
            return u;
        }
        let mut last = Instant::ZERO;
        for t in &self.timeline {
            last = last.max(t.at);
            if let Stimulus::Inject(i) = &t.stimulus {
                if let Some(u) = i.until {
                    last = last.max(u);
                }
            }
        }
        for e in &self.expects {
            match e.when {
                When::At(t) => last = last.max(t),
                When::Never { to, .. } | When::Count { to, .. } => {
                    if to != Instant::MAX {
                        last = last.max(to)
                    }
                }
                When::End => {}
            }
        }
        last + Duration::from_secs(5)
    }
}

// ---------------------------------------------------------------- words (nom)

fn quoted(i: &str) -> IResult<&str, &str> {
    alt((
        delimited(tag("\""), is_not("\""), tag("\"")),
        delimited(tag("'"), is_not("'"), tag("'")),
    ))(i)
}

fn bare(i: &str) -> IResult<&str, &str> {
    take_while1(|c: char| !c.is_whitespace())(i)
}

/// Splits a line into words; a string in double or single quotes is one word (single
/// quotes can hold a JSON text with its double quotes).
fn words(line: &str) -> Result<Vec<String>, String> {
    let r: IResult<&str, Vec<&str>> = many0(preceded(space0, alt((quoted, bare))))(line);
    match r {
        Ok((rest, w)) if rest.trim().is_empty() => Ok(w.into_iter().map(String::from).collect()),
        Ok((rest, _)) => Err(format!("cannot read `{}`", rest.trim())),
        Err(e) => Err(format!("cannot split line: {e}")),
    }
}

fn hex_byte(i: &str) -> IResult<&str, u8> {
    let (rest, h) = take_while1(|c: char| c.is_ascii_hexdigit())(i)?;
    match u8::from_str_radix(h, 16) {
        Ok(v) if h.len() <= 2 => Ok((rest, v)),
        _ => Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::HexDigit,
        ))),
    }
}

/// `00:00:5e:00:01:33`
pub fn parse_mac(s: &str) -> Option<Mac> {
    let r: IResult<&str, Vec<u8>> = nom::multi::separated_list1(tag(":"), hex_byte)(s);
    match r {
        Ok(("", v)) if v.len() == 6 => {
            let mut m = [0u8; 6];
            m.copy_from_slice(&v);
            Some(m)
        }
        _ => None,
    }
}

/// `31 33 64 01` or `31336401`
fn parse_hex_bytes(s: &str) -> Option<Vec<u8>> {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.len() % 2 != 0 {
        return None;
    }
    (0..compact.len())
        .step_by(2)
        .map(|i| {
            compact
                .get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect()
}

/// A cursor over the words of one statement, with typed, located reads.
struct Words<'a> {
    w: &'a [String],
    pos: usize,
    line: usize,
}

impl<'a> Words<'a> {
    fn err<T>(&self, msg: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError {
            line: self.line,
            message: msg.into(),
        })
    }
    fn peek(&self) -> Option<&'a str> {
        self.w.get(self.pos).map(|s| s.as_str())
    }
    fn next(&mut self, what: &str) -> Result<&'a str, ParseError> {
        match self.w.get(self.pos) {
            Some(s) => {
                self.pos += 1;
                Ok(s.as_str())
            }
            None => self.err(format!("expected {what} at the end of the line")),
        }
    }
    fn eat(&mut self, word: &str) -> bool {
        if self.peek() == Some(word) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn end(&self) -> Result<(), ParseError> {
        match self.peek() {
            None => Ok(()),
            Some(x) => self.err(format!("unexpected `{x}`")),
        }
    }
    fn time(&mut self) -> Result<Instant, ParseError> {
        let s = self.next("a time like 3.609375s")?;
        parse_instant(s).map_or_else(
            || self.err(format!("`{s}` is not a time (e.g. 3.609375s, 500ms)")),
            Ok,
        )
    }
    fn duration(&mut self) -> Result<Duration, ParseError> {
        let s = self.next("a duration like 500ms")?;
        parse_duration(s).map_or_else(
            || self.err(format!("`{s}` is not a duration (e.g. 1s, 500ms, 100cs)")),
            Ok,
        )
    }
    fn percent(&mut self) -> Result<u32, ParseError> {
        let s = self.next("a percentage like 30%")?;
        parse_percent(s).map_or_else(
            || self.err(format!("`{s}` is not a percentage 0%-100%")),
            Ok,
        )
    }
    fn num<T: std::str::FromStr>(&mut self, what: &str) -> Result<T, ParseError> {
        let s = self.next(what)?;
        let parsed = if let Some(h) = s.strip_prefix("0x") {
            u64::from_str_radix(h, 16)
                .ok()
                .and_then(|v| v.to_string().parse().ok())
        } else {
            s.parse().ok()
        };
        parsed.map_or_else(|| self.err(format!("`{s}` is not a valid {what}")), Ok)
    }
    fn ip(&mut self) -> Result<IpAddr, ParseError> {
        let s = self.next("an IP address")?;
        let a = s.split('/').next().unwrap_or(s);
        a.parse()
            .map_or_else(|_| self.err(format!("`{s}` is not an IP address")), Ok)
    }
    fn mac(&mut self) -> Result<Mac, ParseError> {
        let s = self.next("a MAC address")?;
        parse_mac(s).map_or_else(
            || self.err(format!("`{s}` is not a MAC like 00:00:5e:00:01:33")),
            Ok,
        )
    }
    fn ident(&mut self, what: &str) -> Result<String, ParseError> {
        self.next(what).map(String::from)
    }
}

// ---------------------------------------------------------------- statements

/// Reads the body of a heredoc that ends at a line `end`, from `lines[*i]` on; returns the
/// text and the 1-based line it starts on.
fn heredoc(
    lines: &[&str],
    i: &mut usize,
    end: &str,
    w: &Words,
) -> Result<(String, usize), ParseError> {
    let start = *i;
    let mut body = String::new();
    while *i < lines.len() {
        let l = lines[*i];
        *i += 1;
        if l.trim() == end {
            return Ok((body, start + 1));
        }
        body.push_str(l);
        body.push('\n');
    }
    w.err(format!("configuration not closed by a line `{end}`"))
}

const HOST_VERBS: &[&str] = &[
    "start", "stop", "kill", "crash", "restart", "pause", "resume",
];

/// Parses a whole scenario file.
pub fn parse(text: &str) -> Result<Scenario, ParseError> {
    let lines: Vec<&str> = text.lines().collect();
    let mut sc = Scenario::default();
    let mut i = 0;
    let mut current_host: Option<usize> = None;
    let mut current_server: Option<usize> = None;
    while i < lines.len() {
        let lineno = i + 1;
        let raw = lines[i];
        i += 1;
        let content = strip_comment(raw);
        if content.trim().is_empty() {
            continue;
        }
        let indented = raw.starts_with(' ') || raw.starts_with('\t');
        let ws = words(content).map_err(|m| ParseError {
            line: lineno,
            message: m,
        })?;
        let mut w = Words {
            w: &ws,
            pos: 0,
            line: lineno,
        };
        let first = w.next("a statement")?;
        if !indented {
            current_host = None;
            current_server = None;
        }
        if let (true, Some(s)) = (indented, current_server) {
            w.pos = 0;
            let o = servers::option(&mut w)?;
            sc.servers[s].opts.push(o);
            continue;
        }
        match first {
            "server" => {
                let d = servers::declaration(&mut w)?;
                sc.servers.push(d);
                current_server = Some(sc.servers.len() - 1);
            }
            "segment" => {
                let name = w.ident("a segment name")?;
                let params = link_params(&mut w)?;
                sc.segments.push(SegmentDecl { name, line: lineno, params });
            }
            "host" => {
                let name = w.ident("a host name")?;
                let autostart = !w.eat("stopped");
                w.end()?;
                if sc.hosts.iter().any(|h| h.name == name) {
                    return w.err(format!("host `{name}` declared twice"));
                }
                sc.hosts.push(HostDecl {
                    name,
                    line: lineno,
                    autostart,
                    ifaces: Vec::new(),
                    config: String::new(),
                    config_line: 0,
                    config_file: None,
                    scripts: Vec::new(),
                    ipvs: true,
                    ipvsadm: Vec::new(),
                    cli: HostCli::default(),
                });
                current_host = Some(sc.hosts.len() - 1);
            }
            "iface" | "config" | "script" | "ipvsadm" | "no" | "cli" if indented => {
                let Some(h) = current_host else {
                    return w.err(format!("`{first}` must follow a `host` line"));
                };
                match first {
                    "iface" => {
                        let d = iface(&mut w)?;
                        sc.hosts[h].ifaces.push(d);
                    }
                    "ipvsadm" => {
                        let op = ipvs::ipvsadm(&mut w)?;
                        w.end()?;
                        sc.hosts[h].ipvsadm.push(op);
                    }
                    "no" => {
                        if !w.eat("ipvs") {
                            return w.err("the host option is `no ipvs`");
                        }
                        w.end()?;
                        sc.hosts[h].ipvs = false;
                    }
                    "cli" => {
                        while let Some(o) = w.peek() {
                            w.pos += 1;
                            match o {
                                "-I" | "--dont-release-ipvs" => sc.hosts[h].cli.dont_release_ipvs = true,
                                "-X" | "--release-vips" => sc.hosts[h].cli.release_vips = true,
                                x => return w.err(format!("`{x}`: the simulated daemon takes -I (--dont-release-ipvs) and -X (--release-vips)")),
                            }
                        }
                    }
                    "script" => {
                        let name = w.ident("a script name")?;
                        let result = script_result(&mut w)?;
                        let delay = if w.eat("after") { w.duration()? } else { Duration::ZERO };
                        let jitter = if w.eat("jitter") { w.duration()? } else { Duration::ZERO };
                        w.end()?;
                        sc.hosts[h].scripts.push(ScriptDecl { name, result, delay, jitter });
                    }
                    _ => {
                        let marker = w.next("`<<END` (a heredoc marker) or `file PATH`")?;
                        if marker == "file" {
                            let path = w.ident("a file path")?;
                            w.end()?;
                            sc.hosts[h].config_file = Some(path);
                            sc.hosts[h].config_line = lineno;
                            continue;
                        }
                        let Some(end) = marker.strip_prefix("<<") else {
                            return w.err("write the inline configuration as `config <<END` ... `END`");
                        };
                        w.end()?;
                        let (body, start) = heredoc(&lines, &mut i, end, &w)?;
                        sc.hosts[h].config = body;
                        sc.hosts[h].config_line = start;
                    }
                }
            }
            "until" => {
                sc.until = Some(w.time()?);
                w.end()?;
            }
            "at" => {
                let at = w.time()?;
                let mut stimulus = stimulus(&mut w)?;
                if let Stimulus::Reload { config: Some(c), .. } = &mut stimulus {
                    // `reload r1 <<END`: the marker was read into `text`; the body follows.
                    let end = std::mem::take(&mut c.text);
                    let (text, line) = heredoc(&lines, &mut i, &end, &w)?;
                    *c = InlineConfig { text, line };
                }
                sc.timeline.push(Timed { at, line: lineno, stimulus });
            }
            "expect" => {
                let e = expect(&mut w, content.trim())?;
                sc.expects.push(e);
            }
            other => {
                return w.err(format!(
                    "unknown statement `{other}` (segment, host, iface, config, script, ipvsadm, no ipvs, cli, server, until, at, expect)"
                ))
            }
        }
    }
    validate(&sc)?;
    Ok(sc)
}

fn strip_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    for (i, c) in line.char_indices() {
        match (c, quote) {
            ('"' | '\'', None) => quote = Some(c),
            (c, Some(q)) if c == q => quote = None,
            ('#', None) => return &line[..i],
            _ => {}
        }
    }
    line
}

fn link_params(w: &mut Words) -> Result<LinkParams, ParseError> {
    let mut p = LinkParams::default();
    while let Some(k) = w.peek() {
        w.pos += 1;
        match k {
            "delay" => p.delay = w.duration()?,
            "jitter" => p.jitter = w.duration()?,
            "loss" => p.loss_ppm = w.percent()?,
            "dup" => p.dup_ppm = w.percent()?,
            _ => {
                return w.err(format!(
                    "unknown link parameter `{k}` (delay, jitter, loss, dup)"
                ))
            }
        }
    }
    Ok(p)
}

fn iface(w: &mut Words) -> Result<IfaceDecl, ParseError> {
    let name = w.ident("an interface name")?;
    let segment = w.ident("a segment name")?;
    let mut d = IfaceDecl {
        name,
        segment,
        ipv4: Vec::new(),
        ipv6: Vec::new(),
        mac: None,
        line: w.line,
    };
    while let Some(k) = w.peek() {
        if k == "mac" {
            w.pos += 1;
            d.mac = Some(w.mac()?);
            continue;
        }
        match w.ip()? {
            IpAddr::V4(a) => d.ipv4.push(a),
            IpAddr::V6(a) => d.ipv6.push(a),
        }
    }
    Ok(d)
}

fn script_result(w: &mut Words) -> Result<ScriptResult, ParseError> {
    match w.next("fails, succeeds, hangs or exit N")? {
        "fails" => Ok(ScriptResult::Exit(1)),
        "succeeds" => Ok(ScriptResult::Exit(0)),
        "hangs" => Ok(ScriptResult::Hang),
        "exit" => Ok(ScriptResult::Exit(w.num("exit code")?)),
        x => w.err(format!("`{x}`: expected fails, succeeds, hangs or exit N")),
    }
}

fn host_list(w: &mut Words) -> Vec<String> {
    let mut v = Vec::new();
    while let Some(x) = w.peek() {
        if x == "|" {
            break;
        }
        v.push(x.to_string());
        w.pos += 1;
    }
    v
}

fn stimulus(w: &mut Words) -> Result<Stimulus, ParseError> {
    let verb = w.next("a stimulus")?;
    let s = match verb {
        v if HOST_VERBS.contains(&v) => {
            let h = w.ident("a host name")?;
            match v {
                "start" => Stimulus::Start(h),
                "stop" => Stimulus::Stop(h),
                "kill" | "crash" => Stimulus::Kill(h),
                "restart" => Stimulus::Restart(h),
                "pause" => Stimulus::Pause(h),
                _ => Stimulus::Resume(h),
            }
        }
        "link" => {
            let host = w.ident("a host name")?;
            let ifname = w.ident("an interface name")?;
            let up = match w.next("up or down")? {
                "up" => true,
                "down" => false,
                x => return w.err(format!("`{x}`: expected up or down")),
            };
            Stimulus::Link { host, ifname, up }
        }
        "partition" => {
            let mut groups = vec![host_list(w)];
            while w.eat("|") {
                groups.push(host_list(w));
            }
            if groups.len() < 2 || groups.iter().any(|g| g.is_empty()) {
                return w.err("write a partition as `partition r1 | r2 r3`");
            }
            Stimulus::Partition(groups)
        }
        "heal" => Stimulus::Heal,
        "loss" => {
            let segment = w.ident("a segment name")?;
            Stimulus::Loss {
                segment,
                ppm: w.percent()?,
            }
        }
        "dup" => {
            let segment = w.ident("a segment name")?;
            Stimulus::Dup {
                segment,
                ppm: w.percent()?,
            }
        }
        "delay" => {
            let segment = w.ident("a segment name")?;
            let delay = w.duration()?;
            let jitter = if w.eat("jitter") {
                w.duration()?
            } else {
                Duration::ZERO
            };
            Stimulus::Delay {
                segment,
                delay,
                jitter,
            }
        }
        "inject" => Stimulus::Inject(inject(w)?),
        "arp" | "ns" => {
            let segment = w.ident("a segment name")?;
            Stimulus::Arp {
                segment,
                ip: w.ip()?,
            }
        }
        "ping" => {
            let segment = w.ident("a segment name")?;
            Stimulus::Ping {
                segment,
                ip: w.ip()?,
            }
        }
        "frame" => {
            let segment = w.ident("a segment name")?;
            Stimulus::Frame {
                segment,
                mac: w.mac()?,
            }
        }
        "reload" => {
            let host = w.ident("a host name")?;
            let config = match w.peek() {
                None => None,
                Some(m) => match m.strip_prefix("<<") {
                    Some(end) if !end.is_empty() => {
                        w.pos += 1;
                        // The body is read by the caller, which has the lines.
                        Some(InlineConfig {
                            text: end.to_string(),
                            line: 0,
                        })
                    }
                    _ => return w.err("write a new configuration as `reload r1 <<END` ... `END`"),
                },
            };
            Stimulus::Reload { host, config }
        }
        "dump" => {
            let host = w.ident("a host name")?;
            Stimulus::Dump {
                host,
                kind: dump_kind(w)?,
            }
        }
        "server" => {
            let name = w.ident("a server name")?;
            Stimulus::Server {
                name,
                mode: servers::mode(w)?,
            }
        }
        host => {
            // `<host> script|track_file|processes|addr ...`
            let host = host.to_string();
            match w.next("script, track_file, processes, addr or ipvsadm")? {
                "script" => {
                    let name = w.ident("a script name")?;
                    Stimulus::Script {
                        host,
                        name,
                        result: script_result(w)?,
                    }
                }
                "track_file" => {
                    let name = w.ident("a track_file name")?;
                    let value = match w.next("a number or `unreadable`")? {
                        "unreadable" => None,
                        v => match v.parse::<i64>() {
                            Ok(n) => Some(n),
                            Err(_) => return w.err(format!("`{v}`: expected a number or `unreadable`")),
                        },
                    };
                    Stimulus::TrackFile { host, name, value }
                }
                "processes" => {
                    let name = w.ident("a vrrp_track_process name")?;
                    let count = w.num("process count")?;
                    Stimulus::Processes { host, name, count }
                }
                "ipvsadm" => {
                    let op = ipvs::ipvsadm(w)?;
                    Stimulus::Ipvsadm { host, op }
                }
                "addr" => {
                    let add = match w.next("add or del")? {
                        "add" => true,
                        "del" => false,
                        _ => return w.err("write `<host> addr add|del IFACE ADDR`"),
                    };
                    let ifname = w.ident("an interface name")?;
                    let addr = w.ip()?;
                    if add {
                        Stimulus::AddAddress { host, ifname, addr }
                    } else {
                        Stimulus::DelAddress { host, ifname, addr }
                    }
                }
                x => {
                    return w.err(format!(
                        "unknown stimulus `{host} {x}` (start, stop, kill, restart, pause, resume, link, partition, heal, loss, delay, dup, inject, arp, ping, frame, reload, dump, server, <host> script|track_file|processes|addr add|del|ipvsadm)"
                    ))
                }
            }
        }
    };
    w.end()?;
    Ok(s)
}

fn inject(w: &mut Words) -> Result<Inject, ParseError> {
    let segment = w.ident("a segment name")?;
    let mut every = None;
    let mut count = None;
    let mut until = None;
    let mut src: Option<IpAddr> = None;
    let mut dst = None;
    let mut ttl = 255u8;
    loop {
        match w.next("`advert` and its fields")? {
            "every" => every = Some(w.duration()?),
            "count" => count = Some(w.num("packet count")?),
            "until" => until = Some(w.time()?),
            "from" | "src" => src = Some(w.ip()?),
            "to" | "dst" => dst = Some(w.ip()?),
            "ttl" | "hoplimit" => ttl = w.num("TTL")?,
            "advert" => break,
            x => {
                return w.err(format!(
                    "`{x}`: expected every, count, until, from, to, ttl or advert"
                ))
            }
        }
    }
    let Some(src) = src else {
        return w.err("an injected advert needs `from <source address>`");
    };
    if every.is_some_and(|d| d.is_zero()) {
        return w.err("`every` needs a duration above zero");
    }
    let mut p = CraftSpec {
        src,
        dst,
        ttl,
        version: 3,
        typ: 1,
        vrid: 51,
        prio: 100,
        interval: 0,
        addrs: Vec::new(),
        naddr: None,
        rsvd: 0,
        auth: AuthSpec::None,
        csum: CsumSpec::Good,
        truncate: None,
    };
    let mut interval: Option<(Option<Duration>, u16)> = None;
    let mut addrs_given = false;
    while let Some(k) = w.peek() {
        w.pos += 1;
        match k {
            "version" => p.version = w.num("version")?,
            "type" => p.typ = w.num("type")?,
            "vrid" => p.vrid = w.num("VRID")?,
            "prio" | "priority" => p.prio = w.num("priority")?,
            "int" | "interval" => {
                let s = w.next("an interval")?;
                interval = Some(match parse_duration(s) {
                    Some(d) => (Some(d), 0),
                    None => match s.parse::<u16>() {
                        Ok(raw) => (None, raw),
                        Err(_) => {
                            return w.err(format!(
                                "`{s}`: interval is a duration (100cs, 1s) or a raw wire value"
                            ))
                        }
                    },
                });
            }
            "addrs" | "addr" => {
                addrs_given = true;
                while let Some(x) = w.peek() {
                    match x.parse::<IpAddr>() {
                        Ok(a) => {
                            p.addrs.push(a);
                            w.pos += 1;
                        }
                        Err(_) => break,
                    }
                }
            }
            "naddr" => p.naddr = Some(w.num("address count")?),
            "rsvd" => p.rsvd = w.num("reserved nibble")?,
            "auth" => {
                p.auth = match w.next("none, pass WORD or type N")? {
                    "none" => AuthSpec::None,
                    "pass" => AuthSpec::Pass(w.ident("a password")?),
                    "type" => AuthSpec::Type(w.num("auth type")?),
                    x => return w.err(format!("`{x}`: expected none, pass WORD or type N")),
                }
            }
            "csum" | "checksum" => {
                let s = w.next("good, pseudo, message, flipped or a value")?;
                p.csum = match s {
                    "good" => CsumSpec::Good,
                    "pseudo" => CsumSpec::Form(CsumForm::Pseudo),
                    "message" => CsumSpec::Form(CsumForm::Message),
                    "flipped" | "bad" => CsumSpec::Flipped,
                    v => match v
                        .strip_prefix("0x")
                        .and_then(|h| u16::from_str_radix(h, 16).ok())
                    {
                        Some(n) => CsumSpec::Value(n),
                        None => {
                            return w.err(format!(
                                "`{v}`: expected good, pseudo, message, flipped or 0xNNNN"
                            ))
                        }
                    },
                }
            }
            "truncate" => p.truncate = Some(w.num("length")?),
            x => return w.err(format!("unknown advert field `{x}`")),
        }
    }
    if !addrs_given {
        p.addrs = vec![if src.is_ipv6() {
            IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x100))
        } else {
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100))
        }];
    }
    p.interval = match interval {
        None if p.version == 2 => 1,
        None => 100,
        Some((None, raw)) => raw,
        Some((Some(d), _)) if p.version == 2 => (d.as_secs()).min(255) as u16,
        Some((Some(d), _)) => (d.as_millis() / 10).min(0xffff) as u16,
    };
    Ok(Inject {
        segment,
        every,
        count,
        until,
        packet: p,
    })
}

fn state_name(w: &mut Words) -> Result<String, ParseError> {
    let s = w.next("a state")?.to_ascii_uppercase();
    match s.as_str() {
        "MASTER" | "BACKUP" | "FAULT" | "INIT" | "STOP" | "DOWN" => Ok(s),
        _ => w.err(format!(
            "`{s}`: expected MASTER, BACKUP, FAULT, INIT, STOP or DOWN"
        )),
    }
}

fn advert_filter(w: &mut Words) -> Result<AdvertFilter, ParseError> {
    let mut f = AdvertFilter::default();
    while let Some(k) = w.peek() {
        if k == "between" {
            break;
        }
        w.pos += 1;
        match k {
            "prio" | "priority" => f.prio = Some(w.num("priority")?),
            "vrid" => f.vrid = Some(w.num("VRID")?),
            "version" => f.version = Some(w.num("version")?),
            "int" | "interval" => {
                let d = w.duration()?;
                f.int_cs = Some((d.as_millis() / 10) as u32);
            }
            "src" | "from" => f.src = Some(w.ip()?),
            "dst" | "to" => f.dst = Some(w.ip()?),
            "mac" => f.mac = Some(w.mac()?),
            "ttl" => f.ttl = Some(w.num("TTL")?),
            "on" => f.ifname = Some(w.ident("an interface")?),
            "addrs" => {
                let mut v = Vec::new();
                while let Some(x) = w.peek() {
                    match x.parse::<IpAddr>() {
                        Ok(a) => {
                            v.push(a);
                            w.pos += 1;
                        }
                        Err(_) => break,
                    }
                }
                f.addrs = Some(v);
            }
            "bytes" => {
                let s = w.next("quoted hex bytes")?;
                match parse_hex_bytes(s) {
                    Some(b) => f.bytes = Some(b),
                    None => return w.err(format!("`{s}` is not hex bytes")),
                }
            }
            "csum" => {
                f.csum = Some(match w.next("pseudo, message or bad")? {
                    "pseudo" => CsumForm::Pseudo,
                    "message" => CsumForm::Message,
                    "bad" => CsumForm::Bad,
                    x => return w.err(format!("`{x}`: expected pseudo, message or bad")),
                })
            }
            x => return w.err(format!("unknown advert filter `{x}`")),
        }
    }
    Ok(f)
}

fn opt_ip_mac(w: &mut Words) -> Result<(Option<IpAddr>, Option<Mac>), ParseError> {
    let mut ip = None;
    let mut mac = None;
    while let Some(k) = w.peek() {
        if k == "between" {
            break;
        }
        if k == "mac" {
            w.pos += 1;
            mac = Some(w.mac()?);
        } else {
            ip = Some(w.ip()?);
        }
    }
    Ok((ip, mac))
}

fn predicate(w: &mut Words) -> Result<Predicate, ParseError> {
    let p = match w.next("a predicate")? {
        "state" | "is" => Predicate::State(state_name(w)?),
        "becomes" => Predicate::Becomes(state_name(w)?),
        "sends" => match w.next("advert, garp, na or anything")? {
            "advert" | "adverts" => Predicate::SendsAdvert(advert_filter(w)?),
            "garp" => {
                let (ip, mac) = opt_ip_mac(w)?;
                Predicate::SendsGarp { ip, mac }
            }
            "na" => {
                let (ip, mac) = opt_ip_mac(w)?;
                Predicate::SendsNa { ip, mac }
            }
            "anything" => Predicate::SendsAnything,
            x => return w.err(format!("`{x}`: expected advert, garp, na or anything")),
        },
        x @ ("has" | "lacks") => {
            let has = x == "has";
            match w.peek() {
                Some("route") => {
                    w.pos += 1;
                    let r = route_text(w)?;
                    if has {
                        Predicate::HasRoute(r)
                    } else {
                        Predicate::LacksRoute(r)
                    }
                }
                Some("rule") => {
                    w.pos += 1;
                    let words = rest_of_line(w);
                    let r = crate::config::build::iproute::rule_from_words(&words)
                        .or_else(|e| w.err(format!("rule `{}`: {e}", words.join(" "))))?;
                    if has {
                        Predicate::HasRule(r)
                    } else {
                        Predicate::LacksRule(r)
                    }
                }
                _ if has => Predicate::Has(w.ip()?),
                _ => Predicate::Lacks(w.ip()?),
            }
        }
        "priority" => Predicate::Priority(w.num("priority")?),
        "counter" => {
            let name = w.ident("a counter name")?;
            let op = match w.next("a comparison")? {
                ">" => CmpOp::Gt,
                ">=" => CmpOp::Ge,
                "=" | "==" => CmpOp::Eq,
                "<" => CmpOp::Lt,
                "<=" => CmpOp::Le,
                x => return w.err(format!("`{x}`: expected > >= = < <=")),
            };
            Predicate::Counter { name, op, value: w.num("a count")? }
        }
        "answers" => match w.next("arp or ping")? {
            "arp" | "ns" => {
                let (ip, mac) = opt_ip_mac(w)?;
                let Some(ip) = ip else { return w.err("`answers arp` needs an IP") };
                Predicate::AnswersArp { ip, mac }
            }
            "ping" => Predicate::AnswersPing(w.ip()?),
            x => return w.err(format!("`{x}`: expected arp or ping")),
        },
        "forwards" => {
            w.eat("frame");
            Predicate::ForwardsFrame
        }
        "runs" => {
            w.eat("script");
            Predicate::RunsScript(w.ident("a script")?)
        }
        "raises" => {
            w.eat("conflict");
            let kind = match w.peek() {
                Some(k) if !k.is_empty() && k != "between" => {
                    w.pos += 1;
                    let k = k.to_ascii_uppercase();
                    if !crate::vrrp::conflict::ConflictKind::ALL.iter().any(|c| c.word() == k) {
                        return w.err(format!(
                            "`{k}`: expected DUAL_MASTER, ADDRESS_LIST, INTERVAL or OWNER"
                        ));
                    }
                    Some(k)
                }
                _ => None,
            };
            Predicate::RaisesConflict(kind)
        }
        "dump" => {
            let kind = dump_kind(w)?;
            if !w.eat("contains") {
                return w.err("write `dump data|stats|json contains \"TEXT\"`");
            }
            Predicate::DumpContains {
                kind,
                text: w.ident("the text to find (quoted)")?,
            }
        }
        "real-server" | "rs" => {
            let rs = w.ident("a real server like [10.0.0.100]:tcp:80")?;
            let up = match w.next("up or down")? {
                "up" => true,
                "down" => false,
                x => return w.err(format!("`{x}`: expected up or down")),
            };
            let mut weight = None;
            let mut vs = None;
            loop {
                if w.eat("weight") {
                    weight = Some(w.num("weight")?);
                } else if w.eat("vs") {
                    vs = Some(w.ident("a virtual server")?);
                } else {
                    break;
                }
            }
            Predicate::RealServer { rs, up, weight, vs }
        }
        "receives" => {
            let what = w.next("connection or request")?;
            let mut text = None;
            if matches!(what, "request" | "requests") {
                if let Some(t) = w.peek().filter(|t| !matches!(*t, "from" | "between")) {
                    text = Some(t.to_string());
                    w.pos += 1;
                }
            }
            let from = if w.eat("from") { Some(w.ident("a host name")?) } else { None };
            match what {
                "connection" | "connections" => Predicate::ReceivesConnection { from },
                "request" | "requests" => Predicate::ReceivesRequest { text, from },
                x => return w.err(format!("`{x}`: expected connection or request")),
            }
        }
        "ipvs" => Predicate::Ipvs(ipvs::predicate(w)?),
        x => return w.err(format!(
            "unknown predicate `{x}` (state, becomes, sends, has, lacks, priority, counter, answers, forwards, runs, raises, dump, real-server, receives, ipvs)"
        )),
    };
    Ok(p)
}

/// The words up to `between` or the end of the line.
fn rest_of_line(w: &mut Words) -> Vec<String> {
    let mut v = Vec::new();
    while let Some(x) = w.peek().filter(|x| *x != "between") {
        v.push(x.to_string());
        w.pos += 1;
    }
    v
}

/// A route in the configuration's syntax, to the end of the line (or `between`).
fn route_text(w: &mut Words) -> Result<crate::config::model::Route, ParseError> {
    let words = rest_of_line(w);
    crate::config::build::iproute::route_from_words(&words)
        .or_else(|e| w.err(format!("route `{}`: {e}", words.join(" "))))
}

const PREDICATE_WORDS: &[&str] = &[
    "state",
    "is",
    "becomes",
    "sends",
    "has",
    "lacks",
    "priority",
    "counter",
    "answers",
    "forwards",
    "runs",
    "raises",
    "dump",
    "real-server",
    "rs",
    "receives",
    "ipvs",
];

/// What `dump` renders: one of the daemon's status dumps, or `check`, the checker half of
/// SIGUSR1 (`keepalived_check.data`: the LVS topology, the checkers and, after them, the
/// managed IPVS table as `ipvsadm -Ln` prints it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimDump {
    Status(DumpKind),
    Check,
}

impl SimDump {
    pub fn name(self) -> &'static str {
        match self {
            SimDump::Status(k) => k.name(),
            SimDump::Check => "check",
        }
    }
}

fn dump_kind(w: &mut Words) -> Result<SimDump, ParseError> {
    let k = w.next("data, stats, json or check")?;
    match DumpKind::from_name(k) {
        Some(kind) => Ok(SimDump::Status(kind)),
        None if k == "check" => Ok(SimDump::Check),
        None => w.err(format!("`{k}`: expected data, stats, json or check")),
    }
}

fn expect(w: &mut Words, text: &str) -> Result<Expect, ParseError> {
    let line = w.line;
    let mut when = match w.peek() {
        Some("never") => {
            w.pos += 1;
            When::Never {
                from: Instant::ZERO,
                to: Instant::MAX,
            }
        }
        Some("count") => {
            w.pos += 1;
            When::Count {
                n: w.num("a count")?,
                from: Instant::ZERO,
                to: Instant::MAX,
            }
        }
        Some("end") => {
            w.pos += 1;
            When::End
        }
        Some(x) if parse_instant(x).is_some() => When::At(w.time()?),
        _ => When::End,
    };
    let host = w.ident("a host name")?;
    let instance = match w.peek() {
        Some(x)
            if !PREDICATE_WORDS.contains(&x)
                && w.w
                    .get(w.pos + 1)
                    .is_some_and(|n| PREDICATE_WORDS.contains(&n.as_str())) =>
        {
            Some(w.ident("an instance")?)
        }
        _ => None,
    };
    let predicate = predicate(w)?;
    if w.eat("between") {
        let a = w.time()?;
        let b = w.time()?;
        match &mut when {
            When::Never { from, to } | When::Count { from, to, .. } => {
                *from = a;
                *to = b;
            }
            _ => return w.err("`between` goes with `expect never` or `expect count N`"),
        }
    }
    w.end()?;
    if matches!(predicate, Predicate::Counter { .. }) && when != When::End {
        return w.err("counters are read at the end of the run: write `expect <host> counter ...`");
    }
    Ok(Expect {
        line,
        text: text.to_string(),
        when,
        host,
        instance,
        predicate,
    })
}

fn validate(sc: &Scenario) -> Result<(), ParseError> {
    let seg_ok = |s: &str| sc.segments.iter().any(|d| d.name == s);
    let host_ok = |h: &str| sc.hosts.iter().any(|d| d.name == h);
    let server_ok = |h: &str| sc.servers.iter().any(|d| d.name == h);
    servers::validate(sc)?;
    let bad = |line: usize, m: String| Err(ParseError { line, message: m });
    for h in &sc.hosts {
        if h.config.trim().is_empty() && h.config_file.is_none() {
            return bad(
                h.line,
                format!("host `{}` has no `config <<END` block", h.name),
            );
        }
        for i in &h.ifaces {
            if !seg_ok(&i.segment) {
                return bad(i.line, format!("unknown segment `{}`", i.segment));
            }
        }
    }
    for t in &sc.timeline {
        let (hosts, segs): (Vec<&str>, Vec<&str>) = match &t.stimulus {
            Stimulus::Start(h)
            | Stimulus::Stop(h)
            | Stimulus::Kill(h)
            | Stimulus::Restart(h)
            | Stimulus::Pause(h)
            | Stimulus::Resume(h) => (vec![h], vec![]),
            Stimulus::Link { host, .. }
            | Stimulus::Script { host, .. }
            | Stimulus::Reload { host, .. }
            | Stimulus::TrackFile { host, .. }
            | Stimulus::Processes { host, .. }
            | Stimulus::DelAddress { host, .. }
            | Stimulus::AddAddress { host, .. }
            | Stimulus::Dump { host, .. }
            | Stimulus::Ipvsadm { host, .. } => (vec![host], vec![]),
            Stimulus::Partition(g) => {
                // Servers may be cut off too (`partition r1 | web1`).
                let named = g.iter().flatten().map(|s| s.as_str());
                (named.filter(|s| !server_ok(s)).collect(), vec![])
            }
            Stimulus::Server { name, .. } => {
                if !server_ok(name) {
                    return bad(t.line, format!("unknown server `{name}`"));
                }
                (vec![], vec![])
            }
            Stimulus::Heal => (vec![], vec![]),
            Stimulus::Loss { segment, .. }
            | Stimulus::Delay { segment, .. }
            | Stimulus::Dup { segment, .. }
            | Stimulus::Arp { segment, .. }
            | Stimulus::Ping { segment, .. }
            | Stimulus::Frame { segment, .. } => (vec![], vec![segment]),
            Stimulus::Inject(i) => (vec![], vec![&i.segment]),
        };
        for h in hosts {
            if !host_ok(h) {
                return bad(t.line, format!("unknown host `{h}`"));
            }
        }
        for s in segs {
            if !seg_ok(s) {
                return bad(t.line, format!("unknown segment `{s}`"));
            }
        }
    }
    for e in &sc.expects {
        let server_pred = matches!(
            e.predicate,
            Predicate::ReceivesConnection { .. } | Predicate::ReceivesRequest { .. }
        );
        if server_pred && !server_ok(&e.host) {
            return bad(e.line, format!("unknown server `{}`", e.host));
        }
        if !server_pred && !host_ok(&e.host) {
            return bad(e.line, format!("unknown host `{}`", e.host));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
# a comment
segment lan delay 1ms loss 0%
host r1
  iface eth0 lan 192.0.2.1/24 fe80::1 mac 52:54:00:00:00:01
  script chk_nginx fails after 10ms jitter 5ms
  config <<END
vrrp_instance VI_1 {
    interface eth0
}
END
host r2 stopped
  iface eth0 lan 192.0.2.2/24
  config <<END
vrrp_instance VI_1 { }
END
until 30s
at 10s kill r1
at 12s start r2
at 4s r1 script chk_nginx succeeds
at 5s partition r1 | r2
at 0.5s inject lan every 0.5s until 10s from 192.0.2.9 ttl 254 advert prio 250 int 0 csum flipped
expect 13.609375s r1 becomes MASTER
expect never r1 VI_1 state MASTER between 0s 3s
expect count 1 r2 sends advert prio 0 between 10s 10s
expect r1 counter ttl > 0
expect 3.609375s r1 sends garp 192.0.2.100 mac 00:00:5e:00:01:33
expect 20s r1 has 192.0.2.100
"#;

    #[test]
    fn parses_every_kind_of_statement() {
        let sc = parse(SAMPLE).unwrap();
        assert_eq!(sc.segments[0].params.delay, Duration::from_millis(1));
        assert_eq!(sc.hosts.len(), 2);
        assert!(!sc.hosts[1].autostart);
        assert_eq!(sc.hosts[0].ifaces[0].ipv6.len(), 1);
        assert_eq!(sc.hosts[0].scripts[0].delay, Duration::from_millis(10));
        assert_eq!(sc.hosts[0].scripts[0].jitter, Duration::from_millis(5));
        assert!(sc.hosts[0].config.contains("interface eth0"));
        assert_eq!(sc.hosts[0].config_line, 8);
        assert_eq!(sc.timeline.len(), 5);
        match &sc.timeline[4].stimulus {
            Stimulus::Inject(i) => {
                assert_eq!(i.packet.ttl, 254);
                assert_eq!(i.packet.interval, 0);
                assert_eq!(i.packet.csum, CsumSpec::Flipped);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(sc.expects.len(), 6);
        assert_eq!(sc.expects[1].instance.as_deref(), Some("VI_1"));
        assert_eq!(
            sc.expects[1].when,
            When::Never {
                from: Instant::ZERO,
                to: Instant::from_nanos(3_000_000_000)
            }
        );
        assert_eq!(sc.expects[3].when, When::End);
        assert_eq!(sc.end(), Instant::from_nanos(30_000_000_000));
    }

    #[test]
    fn errors_are_located() {
        let e = parse("segment lan\nat 3x kill r1\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("3x"), "{e}");
        let e = parse("segment lan\nat 1s kill r9\n").unwrap_err();
        assert!(e.message.contains("r9"));
        let e = parse("host r1\n  config <<END\nfoo\n").unwrap_err();
        assert!(e.message.contains("not closed"));
        let e = parse("expect 1s r1 dances\n").unwrap_err();
        assert!(e.message.contains("dances"));
    }

    #[test]
    fn dumps_and_quoted_texts() {
        let head = "segment lan\nhost r1\n  iface eth0 lan 192.0.2.1/24\n  config <<END\nx\nEND\n";
        let text = format!(
            "{head}at 5s dump r1 json\n\
             expect 5s r1 VI_1 dump json contains '\"state\":2,' # a comment\n\
             expect never r1 dump data contains \"State = FAULT # not a comment\"\n"
        );
        let sc = parse(&text).unwrap();
        assert_eq!(
            sc.timeline[0].stimulus,
            Stimulus::Dump {
                host: "r1".into(),
                kind: SimDump::Status(DumpKind::Json)
            }
        );
        assert_eq!(sc.expects[0].instance.as_deref(), Some("VI_1"));
        assert_eq!(
            sc.expects[0].predicate,
            Predicate::DumpContains {
                kind: SimDump::Status(DumpKind::Json),
                text: "\"state\":2,".into()
            }
        );
        assert_eq!(
            sc.expects[1].predicate,
            Predicate::DumpContains {
                kind: SimDump::Status(DumpKind::Data),
                text: "State = FAULT # not a comment".into()
            }
        );
        let sc = parse(&format!(
            "{head}at 5s dump r1 check\nexpect 5s r1 dump check contains \"IPVS: managed\"\n"
        ))
        .unwrap();
        assert_eq!(
            sc.timeline[0].stimulus,
            Stimulus::Dump {
                host: "r1".into(),
                kind: SimDump::Check
            }
        );
        assert!(matches!(
            sc.expects[0].predicate,
            Predicate::DumpContains {
                kind: SimDump::Check,
                ..
            }
        ));
        let e = parse(&format!("{head}at 5s dump r1 xml\n")).unwrap_err();
        assert!(e.message.contains("data, stats, json or check"), "{e}");
        let e = parse(&format!("{head}expect r1 dump data has \"x\"\n")).unwrap_err();
        assert!(e.message.contains("contains"), "{e}");
        let e = parse(&format!("{head}at 5s dump r9 data\n")).unwrap_err();
        assert!(e.message.contains("r9"), "{e}");
    }
}
