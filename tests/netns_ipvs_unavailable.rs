//! On a kernel without IPVS (no `ip_vs` module, as on the machines this project runs on):
//! a keepalived-rs daemon in a network namespace, with a VRRP instance and a
//! `virtual_server` whose real server is checked by TCP_CHECK against a listener this test
//! runs inside the namespace, says once that IPVS is unavailable and goes on: the instance
//! becomes MASTER (the VIP is on its interface) and keeps sending adverts (seen by tcpdump
//! on the peer end of the link), the checker takes the server down when the listener goes
//! away (`notify_down` runs) and up again when it is back (`notify_up` runs), SIGUSR1's
//! `keepalived_check.data` says IPVS is unavailable and why, and the "unavailable" line is
//! still the only one at the end.
//!
//! Needs root (network namespaces) and a kernel without IPVS; on a kernel with IPVS the
//! test says so and passes (the condition it proves is absent). Without root it prints a
//! notice and passes, unless CI is set.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

mod sys_util;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use sys_util::*;

const BIN: &str = env!("CARGO_BIN_EXE_keepalived-rs");
const VIP: &str = "10.66.0.100";
const ADDR: &str = "10.66.0.1";

/// A scratch directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let p = std::env::temp_dir().join(format!("krs-ipvs-unavail-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("mkdir");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
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

/// The daemon, stopped (TERM, then KILL) on every exit path.
struct Daemon(Child);

impl Drop for Daemon {
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

/// A TCP listener on ADDR:port inside `ns`, accepting (and closing) connections while
/// `run` is set; cleared, it closes the socket and waits for `run` again (refused
/// meanwhile); `quit` ends the thread.
fn listener(ns: &str, port: u16, run: Arc<AtomicBool>, quit: Arc<AtomicBool>) {
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let fd = std::fs::File::open(&path).expect("netns file");
        use std::os::fd::AsRawFd;
        // SAFETY: setns on a namespace fd we hold, for this thread only.
        let rc = unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns {path}");
        while !quit.load(Ordering::SeqCst) {
            if !run.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
            let l = match std::net::TcpListener::bind((ADDR, port)) {
                Ok(l) => l,
                Err(_) => {
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
            };
            l.set_nonblocking(true).unwrap();
            while run.load(Ordering::SeqCst) && !quit.load(Ordering::SeqCst) {
                if let Ok((c, _)) = l.accept() {
                    drop(c);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    });
}

fn script(path: &Path, body: &str) {
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Lines of the daemon's log read so far, and the channel bringing more.
struct Log {
    rx: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Log {
    /// Waits (bounded) for a line containing `what`.
    fn wait(&mut self, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.seen.iter().any(|l| l.contains(what)) {
                return;
            }
            if let Ok(l) = self.rx.recv_timeout(Duration::from_millis(100)) {
                self.seen.push(l);
            }
        }
        panic!("no line with {what:?} in:\n{}", self.seen.join("\n"));
    }

    /// Takes whatever arrived.
    fn drain(&mut self) {
        while let Ok(l) = self.rx.try_recv() {
            self.seen.push(l);
        }
    }

    fn unavailable_lines(&self) -> Vec<&String> {
        self.seen
            .iter()
            .filter(|l| {
                let l = l.to_lowercase();
                l.contains("ipvs") && l.contains("unavailable")
            })
            .collect()
    }
}

/// Waits (bounded) for `path` to hold text.
fn file_text(path: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let t = std::fs::read_to_string(path).unwrap_or_default();
        if !t.is_empty() || Instant::now() > deadline {
            return t;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn without_ipvs_vrrp_and_checkers_go_on() {
    if !require_root("netns_ipvs_unavailable") {
        return;
    }
    if Path::new("/proc/net/ip_vs").exists() {
        eprintln!("NOTICE: this kernel has IPVS: the unavailable case cannot be shown here");
        return;
    }
    ensure_capture_tools();
    let d = TempDir::new();
    let lb = Netns::new("ipv");
    let peer = Netns::new("ipp");
    veth(&lb, "eth0", &peer, "eth0");
    lb.must(&format!("ip addr add {ADDR}/24 dev eth0"));
    peer.must("ip addr add 10.66.0.2/24 dev eth0");

    let port = 8080;
    let run = Arc::new(AtomicBool::new(true));
    let quit = Arc::new(AtomicBool::new(false));
    listener(&lb.name, port, run.clone(), quit.clone());
    struct Quit(Arc<AtomicBool>);
    impl Drop for Quit {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let _quit = Quit(quit);

    let notify = d.path("notify.sh");
    let downs = d.path("down");
    let ups = d.path("up");
    script(&notify, "echo \"$2\" >> \"$1\"");
    let conf = d.path("k.conf");
    std::fs::write(
        &conf,
        format!(
            "global_defs {{\n router_id krs-ipvs\n script_user root\n enable_script_security\n}}\n\
             vrrp_instance VI_1 {{\n state BACKUP\n interface eth0\n virtual_router_id 66\n priority 150\n\
             advert_int 1\n virtual_ipaddress {{\n  {VIP}/24\n }}\n}}\n\
             virtual_server {VIP} 80 {{\n protocol TCP\n lb_kind NAT\n lb_algo wrr\n delay_loop 1\n\
             real_server {ADDR} {port} {{\n  weight 2\n  notify_down \"{n} {down} DOWN\"\n  notify_up \"{n} {up} UP\"\n\
             TCP_CHECK {{\n   connect_timeout 1\n   retry 1\n   delay_before_retry 1\n   warmup 0\n  }}\n }}\n}}\n",
            n = notify.display(),
            down = downs.display(),
            up = ups.display(),
        ),
    )
    .unwrap();

    let child = Command::new("ip")
        .args(["netns", "exec", &lb.name, BIN])
        .args(["-n", "-l", "-D", "--no-control-socket", "-f"])
        .arg(&conf)
        .arg("-p")
        .arg(d.path("k.pid"))
        .arg("--dump-dir")
        .arg(&d.0)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the daemon");
    let mut daemon = Daemon(child);
    let stderr = daemon.0.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    let mut log = Log {
        rx,
        seen: Vec::new(),
    };

    // IPVS unavailable, said once; VRRP goes MASTER with its VIP.
    log.wait("navailable");
    log.wait("Entering MASTER STATE");
    assert!(
        wait_for(Duration::from_secs(10), || lb
            .sh("ip -4 addr show dev eth0")
            .1
            .contains(VIP)),
        "VIP on eth0:\n{}",
        log.seen.join("\n")
    );
    // ... and keeps advertising: three adverts from the Master, heard on the peer.
    let (ok, out) = peer.sh(&format!(
        "timeout 8 tcpdump -l -n -i eth0 -c 3 'ip proto 112 and src host {ADDR}' 2>/dev/null"
    ));
    assert!(
        ok && out.lines().filter(|l| l.contains("VRRP")).count() == 3,
        "adverts heard:\n{out}"
    );

    // The checker sees the listener: up; then gone: down (notify_down runs), back: up.
    let rs = format!("[{ADDR}]:tcp:{port}");
    log.wait(&format!("TCP connection to {rs} success."));
    run.store(false, Ordering::SeqCst);
    log.wait(&format!("Removing service {rs} from VS"));
    assert_eq!(file_text(&downs), "DOWN\n", "{}", log.seen.join("\n"));
    run.store(true, Ordering::SeqCst);
    log.wait(&format!("Adding service {rs} to VS"));
    assert_eq!(file_text(&ups), "UP\n", "{}", log.seen.join("\n"));

    // SIGUSR1: the checker dump says IPVS is unavailable, and why.
    // SAFETY: signalling the child we started (ip netns exec execs the daemon).
    unsafe { libc::kill(daemon.0.id() as i32, libc::SIGUSR1) };
    let dump = file_text(&d.path("keepalived_check.data"));
    assert!(
        dump.contains(
            "------< keepalived-rs IPVS >------\nIPVS: unavailable: the kernel has no IPVS"
        ),
        "{dump}"
    );

    // Still MASTER, and the unavailable line is still the only one.
    assert!(lb.sh("ip -4 addr show dev eth0").1.contains(VIP));
    log.drain();
    let lines = log.unavailable_lines();
    assert_eq!(lines.len(), 1, "{}", log.seen.join("\n"));
    drop(daemon);
}
