//! The status dumps and the pid file are keepalived's external API (exporters, Checkmk and
//! Zabbix plugins parse them). Needs root (network namespaces); without root the tests
//! print a notice and pass, unless CI is set.
//!
//! - Differential: keepalived 2.2.7 and keepalived-rs run the same configuration on the
//!   same router of a lab (one after the other, with a real keepalived as the peer that
//!   is Master of VI_1); each is sent SIGUSR1, SIGUSR2 and SIGRTMIN+2 and its three files
//!   are compared: every label / field keepalived writes for what we implement is in ours,
//!   with a value of the same form (the same value where the state is the same).
//! - The dumps never follow a symlink planted in `$TMPDIR`, nor write into another
//!   user's file there (CVE-2018-19044 class); the pid file refuses a symlink.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

mod sys_util;

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;
use sys_util::*;

static SERIAL: Mutex<()> = Mutex::new(());

// ------------------------------------------------------------------ the daemons

/// A daemon started in a lab namespace with extra environment (Daemon kills it on drop).
fn spawn(lab: &Lab, node: &str, name: &str, env: &[(&str, &Path)], argv: &[&str]) -> Daemon {
    let log = lab.file(&format!("{name}.log"));
    let logf = std::fs::File::create(&log).expect("log file");
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", &lab.ns(node)]).args(argv);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd
        .stdin(Stdio::null())
        .stdout(logf.try_clone().expect("log"))
        .stderr(logf)
        .spawn()
        .expect("spawn");
    Daemon {
        child: Some(child),
        log,
        name: name.to_string(),
    }
}

fn keepalived(lab: &Lab, node: &str, name: &str, conf: &str, tmpdir: &Path) -> Daemon {
    let c = lab.file(&format!("{name}.conf"));
    std::fs::write(&c, conf).unwrap();
    let f = |ext: &str| lab.file(&format!("{name}.{ext}")).display().to_string();
    let (c, p, v, k) = (
        c.display().to_string(),
        f("pid"),
        f("vrrp.pid"),
        f("chk.pid"),
    );
    spawn(
        lab,
        node,
        name,
        &[("TMPDIR", tmpdir)],
        &[
            "/usr/sbin/keepalived",
            "-n",
            "-l",
            "-D",
            "--vrrp",
            "-f",
            &c,
            "-p",
            &p,
            "-r",
            &v,
            "-c",
            &k,
        ],
    )
}

fn keepalived_rs(lab: &Lab, node: &str, name: &str, conf: &str, extra: &[&str]) -> Daemon {
    let c = lab.file(&format!("{name}.conf"));
    std::fs::write(&c, conf).unwrap();
    let c = c.display().to_string();
    let p = lab.file(&format!("{name}.pid")).display().to_string();
    let mut argv = vec![
        env!("CARGO_BIN_EXE_keepalived-rs"),
        "-n",
        "-l",
        "-D",
        "-f",
        &c,
        "-p",
        &p,
    ];
    argv.extend_from_slice(extra);
    spawn(lab, node, name, &[], &argv)
}

/// Sends the three dump signals (waiting for each file to be rewritten) and returns
/// (data, stats, json).
fn dumps(d: &Daemon, dir: &Path) -> (String, String, String) {
    let mut out = Vec::new();
    for (sig, file) in [
        (libc::SIGUSR1, "keepalived.data"),
        (libc::SIGUSR2, "keepalived.stats"),
        (libc::SIGRTMIN() + 2, "keepalived.json"),
    ] {
        let path = dir.join(file);
        let _ = std::fs::remove_file(&path);
        d.signal(sig);
        assert!(
            wait_for(Duration::from_secs(5), || std::fs::read_to_string(&path)
                .is_ok_and(|t| !t.is_empty())),
            "{}: no {file} after signal {sig}:\n{}",
            d.name,
            d.log_text()
        );
        // We write in one go (temp file + rename); keepalived 2.2.7 writes the file in
        // place, so a read may catch it half written: take it once two reads 100 ms
        // apart agree (bounded).
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        let end = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            std::thread::sleep(Duration::from_millis(100));
            let again = std::fs::read_to_string(&path).unwrap_or_default();
            if again == text || std::time::Instant::now() > end {
                break;
            }
            text = again;
        }
        out.push(text);
    }
    (out.remove(0), out.remove(0), out.remove(0))
}

/// Waits until the data dump shows VI_1 as a Backup that hears the Master and VI_2 as
/// Master, and returns the three dumps taken then.
fn settled_dumps(d: &Daemon, dir: &Path) -> (String, String, String) {
    // Signals before the daemon handles them would kill it (SIGUSR1's default action):
    // both log "Entering ... STATE" once their instances run.
    assert!(
        wait_for(Duration::from_secs(15), || d
            .log_text()
            .contains("Entering ")),
        "{} did not start:\n{}",
        d.name,
        d.log_text()
    );
    let mut last = String::new();
    let mut settled = None;
    let ok = wait_for(Duration::from_secs(30), || {
        let (data, stats, json) = dumps(d, dir);
        let ok = block(&data, "VRRP Topology", " VRRP Instance = VI_1").is_some_and(|b| {
            b.contains(&"   State = BACKUP".to_string())
                && b.contains(&"   Master priority = 200".to_string())
        }) && block(&data, "VRRP Topology", " VRRP Instance = VI_2")
            .is_some_and(|b| b.contains(&"   State = MASTER".to_string()))
            && block(&data, "VRRP Scripts", " VRRP Script = chk_ok").is_some_and(|b| {
                // Between two runs of the script (it runs every second for a few ms):
                // a dump taken while it runs says `running`, whichever daemon.
                b.contains(&"   Status = GOOD".to_string())
                    && b.contains(&"   State = idle".to_string())
            });
        if ok {
            settled = Some((data.clone(), stats, json));
        } else {
            std::thread::sleep(Duration::from_millis(500));
        }
        last = data;
        ok
    });
    assert!(ok, "{}: not settled; last data dump:\n{last}", d.name);
    settled.expect("the settled dumps")
}

// ------------------------------------------------------------------ reading keepalived.data

/// The lines of one entity (e.g. ` VRRP Instance = VI_1`) of a section of a data dump:
/// its header and the lines indented under it.
fn block(data: &str, section: &str, head: &str) -> Option<Vec<String>> {
    let mut in_section = false;
    let mut out: Option<Vec<String>> = None;
    for l in data.lines() {
        if l.starts_with("------<") {
            if out.is_some() {
                break;
            }
            in_section = l.contains(&format!("< {section} >"));
            continue;
        }
        if !in_section {
            continue;
        }
        match &mut out {
            None if l == head => out = Some(vec![l.to_string()]),
            Some(v) if l.starts_with("   ") => v.push(l.to_string()),
            Some(_) => break,
            None => {}
        }
    }
    out
}

/// One labelled line of an entity: `   Label = value`, `   Label : value`, a list head
/// `   Label :` with its `     item` lines, or a line that is only a label.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    value: String,
    items: Vec<String>,
}

fn entries(lines: &[String]) -> BTreeMap<String, Entry> {
    let mut out: BTreeMap<String, Entry> = BTreeMap::new();
    let mut last: Option<String> = None;
    for l in lines.iter().skip(1) {
        if let Some(item) = l.strip_prefix("     ") {
            if let Some(k) = &last {
                if let Some(e) = out.get_mut(k) {
                    e.items.push(item.to_string());
                }
            }
            continue;
        }
        let t = l.trim();
        let (label, value) = if let Some((a, b)) = t.split_once(" = ") {
            (a.to_string(), b.to_string())
        } else if let Some(a) = t.strip_suffix(':') {
            (a.trim().to_string(), String::new())
        } else if let Some((a, b)) = t.split_once(" : ") {
            (a.to_string(), b.to_string())
        } else if let Some((a, b)) = t.split_once(": ") {
            (a.to_string(), b.to_string())
        } else {
            (t.to_string(), String::new())
        };
        last = Some(label.clone());
        out.insert(
            label,
            Entry {
                value,
                items: Vec::new(),
            },
        );
    }
    out
}

/// The form of a value: runs of digits become `9` (so times, counts and addresses of the
/// same kind compare equal).
fn shape(v: &str) -> String {
    let mut s = String::new();
    let mut in_digits = false;
    for c in v.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                s.push('9');
            }
            in_digits = true;
        } else {
            s.push(c);
            in_digits = false;
        }
    }
    s
}

/// Lines keepalived writes that we do not (internals of its four-process design, or
/// facts we do not have); README lists them.
fn not_ours(label: &str) -> bool {
    const PREFIXES: &[&str] = &[
        // instance
        "Number of config faults",
        "Number of track scripts init",
        "fd_in ",
        // scripts
        "Result",
        "Insecure",
        "Init state",
        "Script uid:gid",
        "VRRP instances",
        // track processes
        "Fork delay timer",
        "Terminate delay timer",
        // interfaces
        "MAC broadcast",
        "Seen up",
        "Delayed state change running",
        "Up debounce timer",
        "Down debounce timer",
        "MTU",
        "HW Type",
        "NIC ",
        "Reset ",
        "Original ",
        "Not IPv6 forwarding",
        "IPv6 forwarding",
    ];
    PREFIXES.iter().any(|p| label.starts_with(p))
}

/// Labels whose value is written differently on purpose (README): script command lines
/// without keepalived's `, uid:gid U:G` suffix, routes and rules as configured, the
/// lower-priority GARP repeat (ours: none unless configured), interface flags.
fn value_differs(label: &str) -> bool {
    label.ends_with("state transition script")
        || label == "Virtual Routes"
        || label == "Virtual Rules"
        || label == "Gratuitous ARP lower priority repeat"
}

/// Labels that describe the same state in both runs and must have the same value.
const SAME_VALUE: &[&str] = &[
    "VRRP Version",
    "Sync group",
    "State",
    "Master router",
    "Master priority",
    "Flags",
    "Wantstate",
    "Number of interface and track script faults",
    "Master down timer",
    "Interface",
    "Using src_ip",
    "Multicast address 224.0.0.18",
    "Gratuitous ARP delay",
    "Gratuitous ARP repeat",
    "Gratuitous ARP refresh",
    "Gratuitous ARP refresh repeat",
    "Gratuitous ARP lower priority delay",
    "Down timer adverts",
    "Send advert after receive lower priority advert",
    "Send advert after receive higher priority advert",
    "Virtual Router ID",
    "Priority",
    "Effective priority",
    "Total priority",
    "Advert interval",
    "Accept",
    "Preempt",
    "Promote_secondaries",
    "Authentication type",
    "Password",
    "Virtual IP (1)",
    "Virtual IP Excluded",
    "Tracked interfaces",
    "Tracked scripts",
    "Tracked files",
    "Tracked processes",
    "Using smtp notification",
    "Notify deleted",
    "Notify priority changes",
    // scripts, files, processes, groups
    "Command",
    "Interval",
    "Timeout",
    "Weight",
    "Rise",
    "Fall",
    "Status",
    "Tracking instances",
    "File",
    "Process",
    "Min processes",
    "Have quorum",
    "Full command",
    "Num member fault 0, num member init 0",
    "VRRP member instances",
    // interfaces
    "index",
    "IPv4 address",
    "IPv6 address",
    "MAC",
    "Tracking VRRP instances",
];

/// Compares one entity of keepalived's data dump with ours; returns the problems.
fn compare_entity(what: &str, theirs: &[String], ours: &[String], problems: &mut Vec<String>) {
    let t = entries(theirs);
    let o = entries(ours);
    for (label, te) in &t {
        if not_ours(label) {
            continue;
        }
        let Some(oe) = o.get(label) else {
            problems.push(format!("{what}: `{label}` missing (keepalived: {te:?})"));
            continue;
        };
        if value_differs(label) {
            if te.items.len() != oe.items.len() {
                problems.push(format!("{what}: `{label}`: {te:?} vs ours {oe:?}"));
            }
            continue;
        }
        if SAME_VALUE.contains(&label.as_str()) {
            if te != oe {
                problems.push(format!("{what}: `{label}`: keepalived {te:?}, ours {oe:?}"));
            }
        } else if shape(&te.value) != shape(&oe.value) || te.items.len() != oe.items.len() {
            problems.push(format!(
                "{what}: `{label}` has another form: keepalived {te:?}, ours {oe:?}"
            ));
        }
    }
    // Nothing of ours in keepalived's blocks that keepalived does not write there.
    for label in o.keys() {
        if !t.contains_key(label) {
            problems.push(format!("{what}: ours has `{label}`, keepalived has not"));
        }
    }
}

// ------------------------------------------------------------------ reading keepalived.json

/// Just enough JSON for keepalived.json.
#[derive(Clone, Debug, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "bool",
            Json::Num(_) => "number",
            Json::Str(_) => "string",
            Json::Arr(_) => "array",
            Json::Obj(_) => "object",
        }
    }

    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn keys(&self) -> Vec<String> {
        match self {
            Json::Obj(m) => m.iter().map(|(k, _)| k.clone()).collect(),
            _ => Vec::new(),
        }
    }
}

fn parse_json(text: &str) -> Json {
    let b = text.trim().as_bytes();
    let mut i = 0;
    let v = value(b, &mut i);
    assert_eq!(i, b.len(), "trailing text in JSON at {i}: {text}");
    v
}

fn ws(b: &[u8], i: &mut usize) {
    while *i < b.len() && b[*i].is_ascii_whitespace() {
        *i += 1;
    }
}

fn value(b: &[u8], i: &mut usize) -> Json {
    ws(b, i);
    let v = match b[*i] {
        b'{' => {
            *i += 1;
            let mut m = Vec::new();
            loop {
                ws(b, i);
                if b[*i] == b'}' {
                    *i += 1;
                    break;
                }
                let Json::Str(k) = value(b, i) else {
                    panic!("object key at {i}")
                };
                ws(b, i);
                assert_eq!(b[*i], b':');
                *i += 1;
                m.push((k, value(b, i)));
                ws(b, i);
                if b[*i] == b',' {
                    *i += 1;
                }
            }
            Json::Obj(m)
        }
        b'[' => {
            *i += 1;
            let mut a = Vec::new();
            loop {
                ws(b, i);
                if b[*i] == b']' {
                    *i += 1;
                    break;
                }
                a.push(value(b, i));
                ws(b, i);
                if b[*i] == b',' {
                    *i += 1;
                }
            }
            Json::Arr(a)
        }
        b'"' => {
            *i += 1;
            let mut s = String::new();
            while b[*i] != b'"' {
                if b[*i] == b'\\' {
                    *i += 1;
                    match b[*i] {
                        b'n' => s.push('\n'),
                        b't' => s.push('\t'),
                        b'u' => {
                            let h = std::str::from_utf8(&b[*i + 1..*i + 5]).unwrap();
                            s.push(char::from_u32(u32::from_str_radix(h, 16).unwrap()).unwrap());
                            *i += 4;
                        }
                        c => s.push(c as char),
                    }
                } else {
                    s.push(b[*i] as char);
                }
                *i += 1;
            }
            *i += 1;
            Json::Str(s)
        }
        b't' => {
            *i += 4;
            Json::Bool(true)
        }
        b'f' => {
            *i += 5;
            Json::Bool(false)
        }
        b'n' => {
            *i += 4;
            Json::Null
        }
        _ => {
            let start = *i;
            while *i < b.len() && matches!(b[*i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                *i += 1;
            }
            assert!(*i > start, "unexpected byte at {start}");
            Json::Num(String::from_utf8_lossy(&b[start..*i]).into_owned())
        }
    };
    ws(b, i);
    v
}

/// Fields that describe the same state in both runs.
const SAME_JSON: &[&str] = &[
    "iname",
    "dont_track_primary",
    "skip_check_adv_addr",
    "strict_mode",
    "vmac_ifname",
    "ifp_ifname",
    "master_priority",
    "garp_delay",
    "garp_refresh",
    "garp_rep",
    "garp_refresh_rep",
    "garp_lower_prio_delay",
    "lower_prio_no_advert",
    "higher_prio_send_advert",
    "vrid",
    "base_priority",
    "effective_priority",
    "vipset",
    "promote_secondaries",
    "adver_int",
    "master_adver_int",
    "accept",
    "nopreempt",
    "preempt_delay",
    "state",
    "wantstate",
    "version",
    "smtp_alert",
    "notify_deleted",
    "vips",
    "evips",
    "track_ifp",
    "track_script",
    "auth_type",
    "auth_data",
    // stats
    "become_master",
    "release_master",
    "packet_len_err",
    "advert_interval_err",
    "ip_ttl_err",
    "invalid_type_rcvd",
    "addr_list_err",
    "invalid_authtype",
    "authtype_mismatch",
    "auth_failure",
    "pri_zero_rcvd",
    "pri_zero_sent",
];

fn compare_json(theirs: &str, ours: &str, problems: &mut Vec<String>) {
    let (t, o) = (parse_json(theirs), parse_json(ours));
    let (Json::Arr(ta), Json::Arr(oa)) = (&t, &o) else {
        problems.push(format!("json: not both arrays: {t:?} / {o:?}"));
        return;
    };
    if ta.len() != oa.len() {
        problems.push(format!("json: {} elements vs ours {}", ta.len(), oa.len()));
        return;
    }
    for (te, oe) in ta.iter().zip(oa) {
        let name = te.get("data").and_then(|d| d.get("iname")).cloned();
        let mut ok_keys = te.keys();
        ok_keys.push("keepalived_rs".into());
        if oe.keys()[..2] != ["data", "stats"] || !oe.keys().iter().all(|k| ok_keys.contains(k)) {
            problems.push(format!("json {name:?}: element keys {:?}", oe.keys()));
        }
        for part in ["data", "stats"] {
            let (Some(tp), Some(op)) = (te.get(part), oe.get(part)) else {
                problems.push(format!("json {name:?}: no `{part}`"));
                continue;
            };
            // keepalived's route and rule texts differ by design (README).
            let skip = ["vroutes", "vrules"];
            let keys: Vec<String> = tp.keys();
            if op.keys() != keys {
                problems.push(format!(
                    "json {name:?} {part}: keys\n  keepalived {keys:?}\n  ours       {:?}",
                    op.keys()
                ));
            }
            for k in &keys {
                let (Some(tv), Some(ov)) = (tp.get(k), op.get(k)) else {
                    continue;
                };
                if tv.kind() != ov.kind() {
                    problems.push(format!("json {name:?} {part}.{k}: {tv:?} vs ours {ov:?}"));
                } else if SAME_JSON.contains(&k.as_str()) && !skip.contains(&k.as_str()) && tv != ov
                {
                    problems.push(format!(
                        "json {name:?} {part}.{k}: keepalived {tv:?}, ours {ov:?}"
                    ));
                }
            }
        }
    }
}

// ------------------------------------------------------------------ the test

/// The peer (a real keepalived on r2): Master of VI_1 with priority 200.
fn peer_conf() -> String {
    "vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 200
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass secret
    }
    virtual_ipaddress {
        10.77.0.100/24
    }
}
"
    .into()
}

/// What both implementations run on r1. The tracked process is one that never runs:
/// keepalived 2.2.7 counts no process at all from a network namespace other than the
/// host's (its process-event connector exists only there), while we also scan /proc.
fn conf(dir: &Path) -> String {
    format!(
        "global_defs {{
    router_id r1
}}
vrrp_script chk_ok {{
    script /usr/bin/true
    interval 1
    weight 10
}}
track_file tf1 {{
    file {}/tf1
    weight 3
}}
vrrp_track_process tp1 {{
    process no-such-process-krs
    quorum 1
    weight 2
}}
vrrp_sync_group G1 {{
    group {{
        VI_2
    }}
}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    authentication {{
        auth_type PASS
        auth_pass secret
    }}
    virtual_ipaddress {{
        10.77.0.100/24
    }}
    virtual_ipaddress_excluded {{
        10.77.0.111/24
    }}
    track_interface {{
        eth1 weight 5
    }}
    track_script {{
        chk_ok
    }}
    track_file {{
        tf1
    }}
    track_process {{
        tp1
    }}
    notify_master \"/usr/bin/true master\"
}}
vrrp_instance VI_2 {{
    state BACKUP
    interface eth1
    virtual_router_id 52
    priority 150
    version 3
    advert_int 0.5
    unicast_src_ip 10.78.0.1
    unicast_peer {{
        10.78.0.9
    }}
    virtual_ipaddress {{
        10.78.0.100/24
    }}
    virtual_routes {{
        10.99.0.0/16 via 10.78.0.254
    }}
}}
",
        dir.display()
    )
}

/// The entities of the data dump compared, as (section, header).
const ENTITIES: &[(&str, &str)] = &[
    ("VRRP Topology", " VRRP Instance = VI_1"),
    ("VRRP Topology", " VRRP Instance = VI_2"),
    ("VRRP Sync groups", " VRRP Sync Group = G1, MASTER"),
    ("VRRP Scripts", " VRRP Script = chk_ok"),
    ("VRRP Track files", " Track file = tf1"),
    ("VRRP Track processes", " VRRP Track process = tp1"),
    ("Interfaces", " Name = eth0"),
    ("Interfaces", " Name = eth1"),
];

#[test]
fn dumps_match_keepalived_2_2_7_on_the_same_configuration() {
    if !require_root("dumps_match_keepalived_2_2_7_on_the_same_configuration") {
        return;
    }
    ensure_installed("/usr/sbin/keepalived", "keepalived");
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new(2, 2);
    std::fs::write(lab.file("tf1"), "0\n").unwrap();
    let peer_dir = lab.file("peer-tmp");
    std::fs::create_dir_all(&peer_dir).unwrap();
    let _peer = keepalived(&lab, "r2", "peer", &peer_conf(), &peer_dir);

    let conf = conf(&lab.dir);
    // keepalived 2.2.7 first.
    let ka_dir = lab.file("ka-tmp");
    std::fs::create_dir_all(&ka_dir).unwrap();
    let mut ka = keepalived(&lab, "r1", "keepalived", &conf, &ka_dir);
    let (ka_data, ka_stats, ka_json) = settled_dumps(&ka, &ka_dir);
    ka.signal(libc::SIGTERM);
    assert!(
        ka.wait_exit(Duration::from_secs(10)).is_some(),
        "keepalived did not stop"
    );
    // Then ours, with --dump-dir.
    let rs_dir = lab.file("rs-dumps");
    std::fs::create_dir_all(&rs_dir).unwrap();
    let dir_arg = rs_dir.display().to_string();
    let rs = keepalived_rs(
        &lab,
        "r1",
        "keepalived-rs",
        &conf,
        &["--dump-dir", &dir_arg],
    );
    let (rs_data, rs_stats, rs_json) = settled_dumps(&rs, &rs_dir);

    let mut problems = Vec::new();
    // keepalived.data, entity by entity.
    for (section, head) in ENTITIES {
        let theirs = block(&ka_data, section, head);
        let ours = block(&rs_data, section, head);
        match (theirs, ours) {
            (Some(t), Some(o)) => compare_entity(head.trim(), &t, &o, &mut problems),
            (None, _) => problems.push(format!("keepalived wrote no `{head}` in {section}")),
            (Some(_), None) => problems.push(format!("ours has no `{head}` in {section}")),
        }
    }
    // Our global definitions are a subset of keepalived's, in the same form.
    let glob = |d: &str| -> BTreeMap<String, String> {
        d.lines()
            .skip(1)
            .take_while(|l| !l.starts_with("------<"))
            .filter_map(|l| {
                l.trim()
                    .split_once(" = ")
                    .map(|(a, b)| (a.into(), b.into()))
            })
            .collect()
    };
    let (kg, og) = (glob(&ka_data), glob(&rs_data));
    for (label, v) in &og {
        match kg.get(label) {
            Some(kv) if shape(kv) == shape(v) => {}
            other => problems.push(format!("global `{label}` = {v:?}, keepalived {other:?}")),
        }
    }
    assert_eq!(kg.get("Router ID"), og.get("Router ID"));

    // keepalived.stats: keepalived's blocks, line for line (counts may differ: the two
    // runs are not simultaneous), with the same state counters.
    let ka_blocks: Vec<&str> = ka_stats.split("VRRP Instance: ").skip(1).collect();
    let rs_text = rs_stats.split("------< keepalived-rs").next().unwrap();
    let rs_blocks: Vec<&str> = rs_text.split("VRRP Instance: ").skip(1).collect();
    if ka_blocks.len() != rs_blocks.len() {
        problems.push(format!(
            "stats: {} blocks vs {}",
            ka_blocks.len(),
            rs_blocks.len()
        ));
    }
    for (t, o) in ka_blocks.iter().zip(&rs_blocks) {
        if shape(t) != shape(o) {
            problems.push(format!(
                "stats block differs:\nkeepalived:\n{t}\nours:\n{o}"
            ));
        }
        for label in ["  Became master: ", "  Released master: ", "    Failure: "] {
            let v = |s: &str| s.lines().find(|l| l.starts_with(label)).map(str::to_string);
            if v(t) != v(o) {
                problems.push(format!("stats `{label}`: {:?} vs ours {:?}", v(t), v(o)));
            }
        }
    }

    compare_json(&ka_json, &rs_json, &mut problems);
    assert!(
        problems.is_empty(),
        "{} differences:\n{}\n\nkeepalived data:\n{ka_data}\nours:\n{rs_data}\nkeepalived json:\n{ka_json}\nours:\n{rs_json}",
        problems.len(),
        problems.join("\n")
    );
}

// ------------------------------------------------------------------ planted files

fn simple_conf() -> String {
    "vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 200
    advert_int 1
    virtual_ipaddress {
        10.77.0.100/24
    }
}
"
    .into()
}

const NOBODY: u32 = 65534;

#[test]
fn dumps_never_follow_a_planted_symlink_nor_write_into_another_users_file() {
    if !require_root("dumps_never_follow_a_planted_symlink_nor_write_into_another_users_file") {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new(1, 1);
    // A private "/tmp": world-writable and sticky, as /tmp is.
    let tmp = lab.file("tmp");
    std::fs::create_dir(&tmp).unwrap();
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o1777)).unwrap();
    // Victims elsewhere, root's.
    let victims = lab.file("victims");
    std::fs::create_dir(&victims).unwrap();
    let victim = victims.join("shadow");
    std::fs::write(&victim, "root:secret\n").unwrap();
    let absent = victims.join("created-through-a-dangling-link");
    // keepalived.data -> victim; keepalived.json -> a file that does not exist yet;
    // keepalived.stats: a regular file of another user.
    let chown = |p: &Path| {
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: lchown on a path we created.
        assert_eq!(unsafe { libc::lchown(c.as_ptr(), NOBODY, NOBODY) }, 0);
    };
    let data = tmp.join("keepalived.data");
    std::os::unix::fs::symlink(&victim, &data).unwrap();
    chown(&data);
    let json = tmp.join("keepalived.json");
    std::os::unix::fs::symlink(&absent, &json).unwrap();
    chown(&json);
    let stats = tmp.join("keepalived.stats");
    std::fs::write(&stats, "planted by nobody\n").unwrap();
    chown(&stats);

    // $TMPDIR names the directory, as for keepalived.
    let c = lab.file("r1.conf");
    std::fs::write(&c, simple_conf()).unwrap();
    let c = c.display().to_string();
    let p = lab.file("r1.pid").display().to_string();
    let d = spawn(
        &lab,
        "r1",
        "r1",
        &[("TMPDIR", &tmp)],
        &[
            env!("CARGO_BIN_EXE_keepalived-rs"),
            "-n",
            "-l",
            "-f",
            &c,
            "-p",
            &p,
        ],
    );
    assert!(
        wait_for(Duration::from_secs(10), || lab
            .has_addr("r1", "10.77.0.100")),
        "not master:\n{}",
        d.log_text()
    );
    let regular = |path: &Path| {
        std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file() && m.uid() == 0)
    };
    d.signal(libc::SIGUSR1);
    d.signal(libc::SIGUSR2);
    d.signal(libc::SIGRTMIN() + 2);
    assert!(
        wait_for(Duration::from_secs(5), || regular(&data)
            && regular(&stats)
            && regular(&json)),
        "dumps not written:\n{}",
        d.log_text()
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "root:secret\n");
    assert!(
        !absent.exists(),
        "a file was created through the dangling link"
    );
    let text = std::fs::read_to_string(&data).unwrap();
    assert!(text.contains(" VRRP Instance = VI_1\n   VRRP Version = 2\n   State = MASTER\n"));
    assert!(std::fs::read_to_string(&stats)
        .unwrap()
        .starts_with("VRRP Instance: VI_1\n  Advertisements:\n"));
    assert!(std::fs::read_to_string(&json)
        .unwrap()
        .starts_with("[{\"data\":{\"iname\":\"VI_1\","));
    for f in [&data, &stats, &json] {
        let mode = std::fs::metadata(f).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o600, "{}: as keepalived's (umask 0177)", f.display());
    }
    // Nothing else left behind in the directory (no temp files).
    let mut names: Vec<String> = std::fs::read_dir(&tmp)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["keepalived.data", "keepalived.json", "keepalived.stats"]
    );
}

#[test]
fn the_pid_file_refuses_a_symlink_and_replaces_a_stale_file() {
    if !require_root("the_pid_file_refuses_a_symlink_and_replaces_a_stale_file") {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new(1, 1);
    let victim = lab.file("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    let pid = lab.file("k.pid");
    std::os::unix::fs::symlink(&victim, &pid).unwrap();
    let c = lab.file("r1.conf");
    std::fs::write(&c, simple_conf()).unwrap();
    let bin = env!("CARGO_BIN_EXE_keepalived-rs");
    let (ok, out) = sh(&format!(
        "ip netns exec {} {bin} -n -l -f {} -p {} 2>&1",
        lab.ns("r1"),
        c.display(),
        pid.display()
    ));
    assert!(!ok, "started with a symlinked pid file: {out}");
    assert!(out.contains("symbolic link"), "{out}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(!lab.has_addr("r1", "10.77.0.100"));

    // A stale pid file (its process is gone) is replaced, as keepalived does.
    std::fs::remove_file(&pid).unwrap();
    std::fs::write(&pid, "999999999\n").unwrap();
    let mut d = spawn(
        &lab,
        "r1",
        "r1",
        &[],
        &[
            bin,
            "-n",
            "-l",
            "-f",
            &c.display().to_string(),
            "-p",
            &pid.display().to_string(),
        ],
    );
    let me = d.pid().to_string();
    assert!(
        wait_for(Duration::from_secs(5), || std::fs::read_to_string(&pid)
            .is_ok_and(|t| t.trim() == me)),
        "pid file not taken over:\n{}",
        d.log_text()
    );
    let mode = std::fs::metadata(&pid).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);
    d.signal(libc::SIGTERM);
    assert!(d.wait_exit(Duration::from_secs(10)).is_some());
    assert!(!pid.exists(), "removed at exit");
}
