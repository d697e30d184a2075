//! End to end, SNMP (keepalived's `-x`): keepalived-rs daemons in network namespaces
//! (scripts/lab.sh) are AgentX subagents of Debian's snmpd, which runs in the test's
//! namespace with its AgentX socket in the lab's directory (a unix socket on the shared
//! file system reaches across namespaces) and answers snmpwalk on 127.0.0.1. Needs root;
//! without it the tests print a notice and pass, unless CI is set.
//!
//! Covered: r1 (`enable_snmp_rfc`, `snmp_socket`, `enable_traps`) starts before its snmpd
//! and registers once snmpd is there; r2 (`-x -A`, no keyword) serves every MIB.
//! snmpwalk of VRRP-MIB shows r1's two instances, one Master and one Backup, indexed by
//! eth0's ifIndex and the VRID, with the Master's address; VRRPv3-MIB on r2 shows the
//! opposite states, and so does KEEPALIVED-MIB's vrrpInstanceTable; snmpbulkwalk (GetBulk) lists the same objects as snmpwalk
//! (GetNext); snmpget of a missing row is noSuchInstance. When r2 dies, r1's second
//! instance becomes Master, snmpd forwards vrrpTrapNewMaster, and the walk shows it. snmpd
//! restarted: r1 keeps its VIPs and registers again. A reload to VRRPv3-MIB only is
//! followed. r1 stopped: its session is closed and the MIB is gone from snmpd.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

mod sys_util;

use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use sys_util::*;

const COMMUNITY: &str = "krstest";
const VIP1: &str = "10.77.0.100";
const VIP2: &str = "10.77.0.101";

/// A net-snmp snmpd as AgentX master, on 127.0.0.1:`port` (UDP), its AgentX socket in
/// the lab's directory, notifications sent to `trap_port`; killed on drop.
struct Snmpd {
    child: Option<Child>,
    conf: PathBuf,
    pub socket: PathBuf,
    pub port: u16,
    dir: PathBuf,
    name: String,
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free UDP port")
}

impl Snmpd {
    fn new(lab: &Lab, name: &str, trap_port: u16) -> Snmpd {
        let dir = lab.file(name);
        std::fs::create_dir_all(dir.join("persist")).unwrap();
        let socket = dir.join("agentx");
        let conf = dir.join("snmpd.conf");
        std::fs::write(
            &conf,
            format!(
                "master agentx\n\
                 agentXSocket unix:{}\n\
                 agentXPerms 0700 0700\n\
                 rocommunity {COMMUNITY} 127.0.0.1\n\
                 trap2sink 127.0.0.1:{trap_port} {COMMUNITY}\n",
                socket.display()
            ),
        )
        .unwrap();
        Snmpd {
            child: None,
            conf,
            socket,
            port: free_udp_port(),
            dir,
            name: name.to_string(),
        }
    }

    fn start(&mut self) {
        let log = self.dir.join("snmpd.log");
        let child = Command::new("/usr/sbin/snmpd")
            .args(["-f", "-C", "-Lf"])
            .arg(&log)
            .arg("-c")
            .arg(&self.conf)
            .arg("-p")
            .arg(self.dir.join("snmpd.pid"))
            .arg(format!("udp:127.0.0.1:{}", self.port))
            .env("SNMP_PERSISTENT_DIR", self.dir.join("persist"))
            .env("MIBS", "")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn snmpd");
        self.child = Some(child);
        let socket = self.socket.clone();
        assert!(
            wait_for(Duration::from_secs(10), || socket.exists()),
            "{}: no AgentX socket\n{}",
            self.name,
            self.log_text()
        );
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_file(&self.socket);
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(self.dir.join("snmpd.log")).unwrap_or_default()
    }

    /// `snmpwalk` (or `snmpbulkwalk`) of `root`, numeric: (OID without the leading dot,
    /// value as printed).
    fn walk(&self, tool: &str, root: &str) -> Vec<(String, String)> {
        let out = Command::new(tool)
            .args(["-v2c", "-c", COMMUNITY, "-On", "-t", "2", "-r", "1"])
            .arg(format!("127.0.0.1:{}", self.port))
            .arg(root)
            .env("MIBS", "")
            .output()
            .unwrap_or_else(|e| panic!("{tool}: {e}"));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let (name, value) = l.split_once(" = ")?;
                Some((
                    name.trim_start_matches('.').to_string(),
                    value.trim().to_string(),
                ))
            })
            .collect()
    }

    fn get(&self, oid: &str) -> String {
        let out = Command::new("snmpget")
            .args(["-v2c", "-c", COMMUNITY, "-On", "-t", "2", "-r", "1"])
            .arg(format!("127.0.0.1:{}", self.port))
            .arg(oid)
            .env("MIBS", "")
            .output()
            .expect("snmpget");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Snmpd {
    fn drop(&mut self) {
        self.stop();
    }
}

fn value(walk: &[(String, String)], oid: &str) -> Option<String> {
    walk.iter().find(|(n, _)| n == oid).map(|(_, v)| v.clone())
}

fn conf(snmp: &str, prio1: u8, prio2: u8) -> String {
    format!(
        "global_defs {{
{snmp}}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 42
    priority {prio1}
    advert_int 0.1
    virtual_ipaddress {{
        {VIP1}/24
    }}
}}
vrrp_instance VI_2 {{
    state BACKUP
    interface eth0
    virtual_router_id 43
    priority {prio2}
    advert_int 0.1
    virtual_ipaddress {{
        {VIP2}/24
    }}
}}
"
    )
}

/// eth0's interface index in a lab router.
fn ifindex(lab: &Lab, node: &str) -> u32 {
    let out = lab.must(node, "ip -o link show eth0");
    out.split(':')
        .next()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no ifindex in {out}"))
}

/// The BER encoding of an OID's content (after 06 len), for finding it in a trap.
fn ber_oid(oid: &[u32]) -> Vec<u8> {
    let mut out = vec![(oid[0] * 40 + oid[1]) as u8];
    for &s in &oid[2..] {
        let mut bytes = vec![(s & 0x7f) as u8];
        let mut v = s >> 7;
        while v > 0 {
            bytes.push((v & 0x7f) as u8 | 0x80);
            v >>= 7;
        }
        bytes.reverse();
        out.extend(bytes);
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn snmpwalk_shows_both_instances_with_their_states() {
    if !require_root("snmpwalk_shows_both_instances_with_their_states") {
        return;
    }
    ensure_installed("/usr/sbin/snmpd", "snmpd");
    ensure_installed("/usr/bin/snmpwalk", "snmp");
    let lab = Lab::new(2, 1);
    let traps = UdpSocket::bind("127.0.0.1:0").expect("trap listener");
    traps
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let trap_port = traps.local_addr().unwrap().port();
    let mut snmpd1 = Snmpd::new(&lab, "snmpd1", trap_port);
    let mut snmpd2 = Snmpd::new(&lab, "snmpd2", free_udp_port());

    // r1 starts before its snmpd: it keeps trying, VRRP runs meanwhile.
    let r1_snmp = format!(
        "    enable_snmp_rfc\n    enable_traps\n    snmp_socket unix:{}\n",
        snmpd1.socket.display()
    );
    let mut r1 = Daemon::start(&lab, "r1", "r1", &conf(&r1_snmp, 200, 100));
    snmpd2.start();
    let a2 = format!("unix:{}", snmpd2.socket.display());
    let r2 = Daemon::start_args(&lab, "r2", "r2", &conf("", 100, 200), &["-x", "-A", &a2]);
    assert!(
        wait_for(Duration::from_secs(10), || lab.holders(VIP1) == ["r1"]
            && lab.holders(VIP2) == ["r2"]),
        "VIPs: {:?} {:?}\n{}\n{}",
        lab.holders(VIP1),
        lab.holders(VIP2),
        r1.log_text(),
        r2.log_text()
    );
    snmpd1.start();

    // VRRP-MIB on r1: vrrpOperState.ifIndex.VRID, master(3) and backup(2).
    let if1 = ifindex(&lab, "r1");
    let state = |vrid: u32| format!("1.3.6.1.2.1.68.1.3.1.3.{if1}.{vrid}");
    let mut walk = Vec::new();
    let found = wait_for(Duration::from_secs(15), || {
        walk = snmpd1.walk("snmpwalk", "1.3.6.1.2.1.68");
        value(&walk, &state(42)).is_some()
    });
    assert!(
        found,
        "no VRRP-MIB rows from r1: {walk:?}\n{}\n{}",
        r1.log_text(),
        snmpd1.log_text()
    );
    assert_eq!(value(&walk, &state(42)).as_deref(), Some("INTEGER: 3"));
    assert_eq!(value(&walk, &state(43)).as_deref(), Some("INTEGER: 2"));
    // vrrpOperMasterIpAddr: r1 itself for VRID 42, r2 as heard for VRID 43.
    let master = |vrid: u32| format!("1.3.6.1.2.1.68.1.3.1.7.{if1}.{vrid}");
    assert_eq!(
        value(&walk, &master(42)).as_deref(),
        Some("IpAddress: 10.77.0.1")
    );
    assert_eq!(
        value(&walk, &master(43)).as_deref(),
        Some("IpAddress: 10.77.0.2")
    );
    assert_eq!(
        value(&walk, &format!("1.3.6.1.2.1.68.1.3.1.5.{if1}.42")).as_deref(),
        Some("INTEGER: 200")
    );
    assert_eq!(
        value(
            &walk,
            &format!("1.3.6.1.2.1.68.1.4.1.2.{if1}.43.10.77.0.101")
        )
        .as_deref(),
        Some("INTEGER: 1")
    );
    assert_eq!(
        value(&walk, "1.3.6.1.2.1.68.1.2.0").as_deref(),
        Some("INTEGER: 1"),
        "vrrpNotificationCntl enabled with enable_traps"
    );
    assert!(r1.log_text().contains("SNMP: serving VRRP-MIB (RFC 2787)"));
    // GetBulk lists the same objects as GetNext.
    let names = |w: &[(String, String)]| w.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    let bulk = snmpd1.walk("snmpbulkwalk", "1.3.6.1.2.1.68");
    assert_eq!(names(&bulk), names(&walk));
    // Get of a row that does not exist.
    assert!(
        snmpd1
            .get(&format!("1.3.6.1.2.1.68.1.3.1.3.{if1}.99"))
            .contains("No Such Instance"),
        "{}",
        snmpd1.get(&format!("1.3.6.1.2.1.68.1.3.1.3.{if1}.99"))
    );

    // VRRPv3-MIB on r2 (-x alone serves every MIB): the opposite states.
    let if2 = ifindex(&lab, "r2");
    let v3state = |vrid: u32| format!("1.3.6.1.2.1.207.1.1.1.1.6.{if2}.{vrid}.1");
    let mut w2 = Vec::new();
    assert!(
        wait_for(Duration::from_secs(15), || {
            w2 = snmpd2.walk("snmpwalk", "1.3.6.1.2.1.207");
            value(&w2, &v3state(43)).is_some()
        }),
        "no VRRPv3-MIB rows from r2: {w2:?}\n{}",
        r2.log_text()
    );
    assert_eq!(value(&w2, &v3state(42)).as_deref(), Some("INTEGER: 2"));
    assert_eq!(value(&w2, &v3state(43)).as_deref(), Some("INTEGER: 3"));
    assert!(!snmpd2.walk("snmpwalk", "1.3.6.1.2.1.68").is_empty());
    // KEEPALIVED-MIB's vrrpInstanceTable too: VI_1 backup(1), VI_2 master(2), by position.
    let ka = snmpd2.walk("snmpwalk", "1.3.6.1.4.1.9586.100.5.2.3.1");
    let ka_col = |c: u32, i: u32| format!("1.3.6.1.4.1.9586.100.5.2.3.1.{c}.{i}");
    assert_eq!(
        value(&ka, &ka_col(2, 1)).as_deref(),
        Some("STRING: \"VI_1\""),
        "{ka:?}"
    );
    assert_eq!(value(&ka, &ka_col(4, 1)).as_deref(), Some("INTEGER: 1"));
    assert_eq!(value(&ka, &ka_col(4, 2)).as_deref(), Some("INTEGER: 2"));

    // r2 dies: r1 takes VRID 43 over and snmpd forwards vrrpTrapNewMaster.
    let mut r2 = r2;
    r2.kill();
    assert!(
        wait_for(Duration::from_secs(5), || value(
            &snmpd1.walk("snmpwalk", "1.3.6.1.2.1.68.1.3.1.3"),
            &state(43)
        )
        .as_deref()
            == Some("INTEGER: 3")),
        "VRID 43 not master on r1\n{}",
        r1.log_text()
    );
    let trap_oid = ber_oid(&[1, 3, 6, 1, 2, 1, 68, 0, 1]);
    let bind_oid = ber_oid(&[1, 3, 6, 1, 2, 1, 68, 1, 3, 1, 7, if1, 43]);
    let mut got = Vec::new();
    let trap_seen = wait_for(Duration::from_secs(5), || {
        let mut buf = [0u8; 2048];
        if let Ok(n) = traps.recv(&mut buf) {
            got.push(buf[..n].to_vec());
        }
        got.iter().any(|t| {
            contains(t, &trap_oid) && contains(t, &bind_oid) && contains(t, &[10, 77, 0, 1])
        })
    });
    assert!(
        trap_seen,
        "no vrrpTrapNewMaster for VRID 43: {got:?}\n{}",
        snmpd1.log_text()
    );

    // snmpd restarts: VRRP goes on, r1 registers again.
    snmpd1.stop();
    assert!(lab.has_addr("r1", VIP1) && lab.has_addr("r1", VIP2));
    snmpd1.start();
    assert!(
        wait_for(Duration::from_secs(15), || value(
            &snmpd1.walk("snmpwalk", "1.3.6.1.2.1.68.1.3.1.3"),
            &state(42)
        )
        .is_some()),
        "r1 did not register again\n{}",
        r1.log_text()
    );
    assert!(lab.has_addr("r1", VIP1) && lab.has_addr("r1", VIP2));
    assert!(r1
        .log_text()
        .contains("the master agent closed the connection"));

    // A reload that serves VRRPv3-MIB only: VRRP-MIB is gone, VRRPv3-MIB is there.
    let v3_only = r1_snmp.replace("enable_snmp_rfc\n", "enable_snmp_rfcv3\n");
    std::fs::write(lab.file("r1.conf"), conf(&v3_only, 200, 100)).unwrap();
    r1.signal(libc::SIGHUP);
    let v3state1 = format!("1.3.6.1.2.1.207.1.1.1.1.6.{if1}.42.1");
    assert!(
        wait_for(Duration::from_secs(15), || {
            let w = snmpd1.walk("snmpwalk", "1.3.6.1.2.1.207.1.1.1.1.6");
            value(&w, &v3state1).as_deref() == Some("INTEGER: 3")
                && value(&snmpd1.walk("snmpwalk", "1.3.6.1.2.1.68.1.3"), &state(42)).is_none()
        }),
        "reload to VRRPv3-MIB only not followed\n{}",
        r1.log_text()
    );

    // r1 stops: it closes its session, and snmpd no longer has the MIB.
    r1.signal(libc::SIGTERM);
    assert_eq!(r1.wait_exit(Duration::from_secs(10)), Some(0));
    let after = snmpd1.walk("snmpwalk", "1.3.6.1.2.1.207.1.1");
    assert!(value(&after, &v3state1).is_none(), "{after:?}");
    assert!(
        after.iter().all(|(_, v)| v.starts_with("No Such Object")),
        "{after:?}"
    );
    assert!(r1.log_text().contains("Stopped"));
}
