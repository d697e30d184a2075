//! Helpers shared by the root-only Linux tests: scratch network namespaces removed on every
//! exit path (Drop), running code inside one (a thread that `setns`es), shell commands with
//! bounded waits, and the "root or skip (but fail under CI)" rule.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]
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

/// Installs the Debian package providing `binary` when it is missing (apt-get).
pub fn ensure_installed(binary: &str, package: &str) {
    if std::path::Path::new(binary).exists() {
        return;
    }
    let (ok, out) = sh(&format!(
        "DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y --no-install-recommends {package} \
         || (timeout 120 apt-get update && DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y --no-install-recommends {package})"
    ));
    assert!(
        ok && std::path::Path::new(binary).exists(),
        "installing {package} failed:\n{out}"
    );
}

/// The capture tools the end-to-end tests use.
pub fn ensure_capture_tools() {
    ensure_installed("/usr/bin/tcpdump", "tcpdump");
    ensure_installed("/usr/bin/tshark", "tshark");
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

// ------------------------------------------------------------------ lab, daemons, captures

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

/// The lab script of the repository.
pub fn lab_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/lab.sh")
}

/// A lab of `scripts/lab.sh`: routers PREFIXr1.. on bridged segments in PREFIXsw, removed
/// (with every process inside) on drop.
pub struct Lab {
    pub prefix: String,
    pub dir: PathBuf,
    pub routers: u32,
}

impl Lab {
    pub fn new(routers: u32, segments: u32) -> Lab {
        ensure_capture_tools();
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let prefix = format!("k{}{}", std::process::id() % 10000, n);
        let dir = std::env::temp_dir().join(format!("krs-{prefix}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("lab dir");
        let lab = Lab {
            prefix,
            dir,
            routers,
        };
        must(&format!(
            "{} up {} {routers} {segments}",
            lab_script().display(),
            lab.prefix
        ));
        lab
    }

    /// Namespace name of a node ("r1", "sw").
    pub fn ns(&self, node: &str) -> String {
        format!("{}{node}", self.prefix)
    }

    pub fn sh(&self, node: &str, cmd: &str) -> (bool, String) {
        sh(&format!(
            "ip netns exec {} sh -c '{}'",
            self.ns(node),
            cmd.replace('\'', "'\\''")
        ))
    }

    pub fn must(&self, node: &str, cmd: &str) -> String {
        let (ok, out) = self.sh(node, cmd);
        assert!(ok, "command failed on {node}: {cmd}\n{out}");
        out
    }

    /// Whether `addr` is on an interface of `node`.
    pub fn has_addr(&self, node: &str, addr: &str) -> bool {
        self.must(node, "ip -o addr show")
            .split_whitespace()
            .any(|w| w.split('/').next() == Some(addr))
    }

    /// Which of the routers hold `addr` right now.
    pub fn holders(&self, addr: &str) -> Vec<String> {
        (1..=self.routers)
            .map(|i| format!("r{i}"))
            .filter(|n| self.has_addr(n, addr))
            .collect()
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = sh(&format!("{} down {}", lab_script().display(), self.prefix));
        if std::thread::panicking() {
            eprintln!("lab files kept in {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A keepalived-rs daemon (`-n -l -D`) in a lab namespace, killed on drop.
pub struct Daemon {
    pub child: Option<Child>,
    pub log: PathBuf,
    pub name: String,
}

impl Daemon {
    pub fn start(lab: &Lab, node: &str, name: &str, config: &str) -> Daemon {
        Self::start_args(lab, node, name, config, &[])
    }

    pub fn start_args(lab: &Lab, node: &str, name: &str, config: &str, extra: &[&str]) -> Daemon {
        let conf = lab.file(&format!("{name}.conf"));
        std::fs::write(&conf, config).expect("write config");
        let log = lab.file(&format!("{name}.log"));
        let logf = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("log file");
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &lab.ns(node),
                env!("CARGO_BIN_EXE_keepalived-rs"),
            ])
            .args(["-n", "-l", "-D", "-f"])
            .arg(&conf)
            .arg("-p")
            .arg(lab.file(&format!("{name}.pid")))
            .args(extra)
            .env("RUST_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(logf.try_clone().expect("log"))
            .stderr(logf)
            .spawn()
            .expect("spawn keepalived-rs");
        Daemon {
            child: Some(child),
            log,
            name: name.to_string(),
        }
    }

    /// Any program (a peer: keepalived, FRR) in a lab namespace, output to NAME.log.
    pub fn start_program(
        lab: &Lab,
        node: &str,
        name: &str,
        program: &str,
        args: &[&str],
    ) -> Daemon {
        let log = lab.file(&format!("{name}.log"));
        let logf = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("log file");
        let child = Command::new("ip")
            .args(["netns", "exec", &lab.ns(node), program])
            .args(args)
            .stdin(Stdio::null())
            .stdout(logf.try_clone().expect("log"))
            .stderr(logf)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {program}: {e}"));
        Daemon {
            child: Some(child),
            log,
            name: name.to_string(),
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.as_ref().map(|c| c.id() as i32).unwrap_or(-1)
    }

    pub fn signal(&self, sig: i32) {
        if let Some(c) = &self.child {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(c.id() as i32, sig) };
        }
    }

    /// Waits (bounded) for the process to exit; returns its exit code.
    /// Whether the daemon is still running (not exited, not a zombie).
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let mut child = self.child.take()?;
        let end = Instant::now() + limit;
        loop {
            if let Ok(Some(st)) = child.try_wait() {
                return Some(st.code().unwrap_or(-1));
            }
            if Instant::now() > end {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGKILL, reaped.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A tcpdump capture on a bridge of the lab's switch.
pub struct Capture {
    child: Option<Child>,
    pub file: PathBuf,
}

impl Capture {
    pub fn start(lab: &Lab, bridge: &str, name: &str, filter: &str) -> Capture {
        let file = lab.file(&format!("{name}.pcap"));
        let err = lab.file(&format!("{name}.tcpdump.log"));
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &lab.ns("sw"),
                "tcpdump",
                "--immediate-mode",
                "-i",
                bridge,
                "-n",
                "-U",
                "-w",
            ])
            .arg(&file)
            .arg(filter)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&err).expect("tcpdump log"))
            .spawn()
            .expect("tcpdump");
        // tcpdump says "listening on" once the capture runs.
        wait_for(Duration::from_secs(5), || {
            std::fs::read_to_string(&err)
                .unwrap_or_default()
                .contains("listening on")
        });
        Capture {
            child: Some(child),
            file,
        }
    }

    /// Stops the capture (SIGINT flushes) and returns tshark's fields, one Vec per frame.
    pub fn stop(&mut self, fields: &[&str], display_filter: &str) -> Vec<Vec<String>> {
        if let Some(mut c) = self.child.take() {
            // tcpdump stops reading at SIGINT: give it time to write what the kernel has.
            std::thread::sleep(Duration::from_millis(300));
            // SAFETY: signalling our own child.
            unsafe { libc::kill(c.id() as i32, libc::SIGINT) };
            let end = Instant::now() + Duration::from_secs(5);
            while Instant::now() < end {
                if let Ok(Some(_)) = c.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        self.fields(fields, display_filter)
    }

    pub fn fields(&self, fields: &[&str], display_filter: &str) -> Vec<Vec<String>> {
        let mut cmd = Command::new("tshark");
        cmd.arg("-r")
            .arg(&self.file)
            .args(["-T", "fields", "-E", "separator=|"]);
        if !display_filter.is_empty() {
            cmd.args(["-Y", display_filter]);
        }
        for f in fields {
            cmd.args(["-e", f]);
        }
        let out = cmd.output().expect("tshark");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.split('|').map(str::to_string).collect())
            .collect()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
