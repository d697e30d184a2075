//! Helpers shared by the root-only Linux tests: scratch network namespaces removed on every
//! exit path (Drop), running code inside one (a thread that `setns`es), shell commands with
//! bounded waits, and the "root or skip (but fail under CI)" rule.
#![allow(dead_code)]

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// True when the test may run; false (with a notice) when it must be skipped. Under CI
/// (env CI set) not being root is a failure.
pub fn require_root(test: &str) -> bool {
    // SAFETY: plain syscall.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{test}: needs root, and CI is set");
    }
    eprintln!("NOTICE: {test} skipped: needs root (network namespaces)");
    false
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A unique short prefix for this process and call (interface names stay < 16 bytes).
pub fn unique(tag: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!("k{}{}{}", tag, std::process::id() % 100000, n)
}

/// Runs a command, returns (success, stdout+stderr).
pub fn sh(cmd: &str) -> (bool, String) {
    let out = Command::new("sh").arg("-c").arg(cmd).output().expect("sh");
    let mut s = String::from_utf8_lossy(&out.stdout).to_string();
    s.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), s)
}

/// Runs a command that must succeed.
pub fn must(cmd: &str) -> String {
    let (ok, out) = sh(cmd);
    assert!(ok, "command failed: {cmd}\n{out}");
    out
}

/// A network namespace deleted on drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new(tag: &str) -> Netns {
        let name = unique(tag);
        must(&format!("ip netns add {name}"));
        must(&format!("ip -n {name} link set lo up"));
        // No DAD: link-local addresses usable at once.
        let _ = sh(&format!(
            "ip netns exec {name} sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0"
        ));
        Netns { name }
    }

    /// `ip netns exec NAME sh -c CMD`.
    pub fn sh(&self, cmd: &str) -> (bool, String) {
        sh(&format!(
            "ip netns exec {} sh -c '{}'",
            self.name,
            cmd.replace('\'', "'\\''")
        ))
    }

    pub fn must(&self, cmd: &str) -> String {
        let (ok, out) = self.sh(cmd);
        assert!(ok, "command failed in {}: {cmd}\n{out}", self.name);
        out
    }

    /// Runs `f` on a thread that has entered this namespace (network namespaces are per
    /// thread), and returns its result.
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/run/netns/{}", self.name);
        std::thread::spawn(move || {
            let fd = std::fs::File::open(&path).expect("netns file");
            use std::os::fd::AsRawFd;
            // SAFETY: setns on a namespace fd we hold, for this thread only.
            let rc = unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns {path}");
            f()
        })
        .join()
        .expect("thread in netns panicked")
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = sh(&format!("ip netns pids {} | xargs -r kill -9", self.name));
        let _ = sh(&format!("ip netns del {}", self.name));
    }
}

/// Connects two namespaces with a veth pair named `a_if` / `b_if`, both up.
pub fn veth(a: &Netns, a_if: &str, b: &Netns, b_if: &str) {
    let tmp = unique("v");
    must(&format!(
        "ip link add {tmp}a netns {} type veth peer name {tmp}b netns {}",
        a.name, b.name
    ));
    must(&format!("ip -n {} link set {tmp}a name {a_if} up", a.name));
    must(&format!("ip -n {} link set {tmp}b name {b_if} up", b.name));
}

/// Polls `cond` every 10 ms until it holds or `limit` passes.
pub fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    cond()
}
