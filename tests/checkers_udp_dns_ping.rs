//! UDP_CHECK, DNS_CHECK and PING_CHECK end to end: the daemon (the real Linux world) runs
//! in a network namespace this test creates (only `lo`, so no traffic leaves it), against
//! a Python UDP echo server and a Python DNS responder on 127.0.0.1 and a ping to
//! 127.0.0.3 and to ::1 (up: ICMP and ICMPv6), and a ping to 192.0.2.1 and to
//! 2001:db8::1, which have no route there (down). Stopping the
//! servers takes their real servers down; the echo server back brings its one up.
//! No timing is asserted (each wait is bounded; only what happens, in order).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_keepalived-rs");

const SERVERS: &str = r#"
import socket, struct, sys
mode, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
while True:
    q, peer = s.recvfrom(4096)
    if mode == "echo":
        s.sendto(q, peer)
        continue
    if len(q) < 12:
        continue
    i, labels = 12, []
    while i < len(q) and q[i] != 0:
        labels.append(q[i + 1:i + 1 + q[i]].decode("ascii", "replace"))
        i += 1 + q[i]
    end = i + 5
    qtype = struct.unpack(">H", q[i + 1:i + 3])[0]
    name = ".".join(labels).lower()
    if name == "www.example.com" and qtype == 1:
        hdr = q[:2] + struct.pack(">HHHHH", 0x8180, 1, 1, 0, 0)
        ans = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([10, 0, 0, 1])
        s.sendto(hdr + q[12:end] + ans, peer)
    else:
        s.sendto(q[:2] + struct.pack(">HHHHH", 0x8183, 1, 0, 0, 0) + q[12:end], peer)
"#;

/// A scratch directory removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The network namespace, deleted on drop.
struct Netns(String);

impl Netns {
    fn new() -> Netns {
        let name = format!("protocols2-{}", std::process::id());
        let _ = Command::new("ip")
            .args(["netns", "del", &name])
            .stderr(Stdio::null())
            .status();
        let ok = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .expect("ip netns add");
        assert!(ok.success(), "ip netns add {name}");
        let ns = Netns(name);
        let ok = ns
            .cmd("ip")
            .args(["link", "set", "lo", "up"])
            .status()
            .unwrap();
        assert!(ok.success(), "lo up");
        ns
    }
    fn cmd(&self, prog: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.0, prog]);
        c
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// A child process (ip netns exec execs it, so its pid is the program's), stopped (TERM,
/// then KILL) on every exit path.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        // SAFETY: signalling the child we started.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn server(ns: &Netns, script: &PathBuf, mode: &str, port: u16) -> Proc {
    Proc(
        ns.cmd("python3")
            .arg(script)
            .arg(mode)
            .arg(port.to_string())
            .stdout(Stdio::null())
            .spawn()
            .expect("python3"),
    )
}

/// Waits (bounded) for a line containing `what` at index `from` or later in `seen`;
/// returns its index.
fn wait_after(
    rx: &mpsc::Receiver<String>,
    seen: &mut Vec<String>,
    from: usize,
    what: &str,
) -> usize {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Some(k) = seen.iter().skip(from).position(|l| l.contains(what)) {
            return from + k;
        }
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(100)) {
            seen.push(l);
        }
    }
    panic!("no line with {what:?} in:\n{}", seen.join("\n"));
}

#[test]
fn udp_dns_and_ping_checkers_in_a_namespace() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        assert!(std::env::var_os("CI").is_none(), "CI runs as root");
        eprintln!("needs root (a network namespace, raw ICMP sockets): skipped");
        return;
    }
    let dir = std::env::temp_dir().join(format!("krs-protocols2-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let d = TempDir(dir);
    let ns = Netns::new();
    let py = d.0.join("servers.py");
    std::fs::write(&py, SERVERS).unwrap();
    let echo = server(&ns, &py, "echo", 7007);
    let dns = server(&ns, &py, "dns", 5353);
    let conf = d.0.join("k.conf");
    std::fs::write(
        &conf,
        "global_defs {\n router_id krs-test\n}\n\
         virtual_server 127.0.0.1 9 {\n protocol UDP\n lvs_method NAT\n lvs_sched rr\n delay_loop 1\n\
         real_server 127.0.0.1 7007 {\n  UDP_CHECK {\n   payload 68656c6c6f\n   require_reply 6865\n   connect_timeout 1\n   retry 0\n   warmup 0\n   alpha\n  }\n }\n\
         real_server 127.0.0.1 5353 {\n  DNS_CHECK {\n   type A\n   name www.example.com\n   connect_timeout 1\n   retry 0\n   delay_before_retry 1\n   warmup 0\n   alpha\n  }\n }\n\
         real_server 127.0.0.3 1 {\n  PING_CHECK {\n   connect_timeout 1\n   retry 0\n   warmup 0\n   alpha\n  }\n }\n\
         real_server 192.0.2.1 1 {\n  PING_CHECK {\n   connect_timeout 1\n   retry 0\n   warmup 0\n  }\n }\n}\n\
         virtual_server ::1 9 {\n lvs_method NAT\n lvs_sched rr\n delay_loop 1\n\
         real_server ::1 1 {\n  PING_CHECK {\n   connect_timeout 1\n   retry 0\n   warmup 0\n   alpha\n  }\n }\n\
         real_server 2001:db8::1 1 {\n  PING_CHECK {\n   connect_timeout 1\n   retry 0\n   warmup 0\n  }\n }\n}\n",
    )
    .unwrap();
    let mut daemon = Proc(
        ns.cmd(BIN)
            .args(["-n", "-l", "-D", "--no-control-socket", "-f"])
            .arg(&conf)
            .arg("-p")
            .arg(d.0.join("k.pid"))
            .arg("--dump-dir")
            .arg(&d.0)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the daemon"),
    );
    let stderr = daemon.0.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    let vs = "VS [127.0.0.1]:udp:9";
    let udp = "[127.0.0.1]:udp:7007";
    let dnsrs = "[127.0.0.1]:udp:5353";
    let mut seen = Vec::new();
    let start = wait_after(&rx, &mut seen, 0, "Activating healthchecker for service");
    wait_after(
        &rx,
        &mut seen,
        start,
        &format!("Adding service {udp} to {vs}"),
    );
    wait_after(
        &rx,
        &mut seen,
        start,
        &format!("Adding service {dnsrs} to {vs}"),
    );
    wait_after(
        &rx,
        &mut seen,
        start,
        &format!("Adding service [127.0.0.3]:udp:1 to {vs}"),
    );
    wait_after(
        &rx,
        &mut seen,
        start,
        &format!("Removing service [192.0.2.1]:udp:1 from {vs}"),
    );
    // ICMPv6: ::1 answers, 2001:db8::1 has no route in the namespace.
    let vs6 = "VS [::1]:udp:9";
    wait_after(
        &rx,
        &mut seen,
        start,
        &format!("Adding service [::1]:udp:1 to {vs6}"),
    );
    wait_after(
        &rx,
        &mut seen,
        start,
        &format!("Removing service [2001:db8::1]:udp:1 from {vs6}"),
    );
    // None of the checkers is reported as not implemented.
    assert!(
        !seen.iter().any(|l| l.contains("not implemented")),
        "{}",
        seen.join("\n")
    );
    // The servers go away: port unreachable takes both down.
    let mark = seen.len();
    drop(echo);
    drop(dns);
    wait_after(
        &rx,
        &mut seen,
        mark,
        &format!("Removing service {udp} from {vs}"),
    );
    wait_after(
        &rx,
        &mut seen,
        mark,
        &format!("Removing service {dnsrs} from {vs}"),
    );
    // The echo server comes back: up again.
    let mark = seen.len();
    let _echo = server(&ns, &py, "echo", 7007);
    wait_after(
        &rx,
        &mut seen,
        mark,
        &format!("Adding service {udp} to {vs}"),
    );
    // The reachable ping target never went down.
    assert!(
        !seen
            .iter()
            .any(|l| l.contains("Removing service [127.0.0.3]:udp:1")
                || l.contains("Removing service [::1]:udp:1")),
        "{}",
        seen.join("\n")
    );
}
