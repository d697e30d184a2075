//! Child processes (track scripts, notify scripts): who may start, how many at once, how
//! long they may run, and their exits.
//!
//! - A command runs only with the [`RunAs`] its configuration load gave it (a command the
//!   load refused has none and never runs). Right before each start its program is
//!   checked again: executable by the script's user and, for a root script under
//!   `enable_script_security`, on a path no unprivileged user can change (permissions
//!   may have changed since the load); a refused start is a failed run.
//! - At most [`MAX_RUNNING`] scripts run at once (each holds a pidfd), notify scripts at
//!   most [`MAX_NOTIFY_RUNNING`] of them so track scripts always find room. A notify
//!   script over its cap waits in a queue of [`MAX_QUEUED`], started oldest first as
//!   others end; when the queue is full the oldest waiting one is dropped. A track script
//!   over the cap is skipped this time, as keepalived's "expect idle - skipping run". The
//!   first time the cap is hit is logged, and again when the backlog clears.
//! - A timeout sends SIGTERM to the script's process group and SIGKILL 2 s later (then
//!   every 10 s). Track scripts have theirs; notify scripts, which keepalived never
//!   times out, get [`NOTIFY_TIMEOUT`] so a hung one cannot hold its slot forever.
//! - Exits are reaped without blocking — through a pidfd registered with the reactor
//!   where the kernel has them, and on every SIGCHLD otherwise — and reported for the
//!   runs the engine waits on. The child itself is started by `script_spawn`.

use super::script_spawn;
use crate::config::model::{RunAs, ScriptCommand};
use crate::config::script_check::{executable_by, unsafe_path, Account, LiveHost};
use crate::event::{ScriptOutcome, ScriptRunId};
use crate::sched::Instant;
use std::collections::{BTreeMap, VecDeque};
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::time::Duration;

pub const KILL_GRACE: Duration = Duration::from_secs(2);
pub const KILL_REPEAT: Duration = Duration::from_secs(10);
/// Scripts running at once, all kinds.
pub const MAX_RUNNING: usize = 128;
/// Notify scripts running at once (the rest of [`MAX_RUNNING`] stays for track scripts).
pub const MAX_NOTIFY_RUNNING: usize = 64;
/// Notify scripts waiting for a slot.
pub const MAX_QUEUED: usize = 1024;
/// How long a notify script may run (keepalived: forever). Long enough for any script
/// that moves a cloud address or restarts a service; a hung one then gives its slot back.
pub const NOTIFY_TIMEOUT: Duration = Duration::from_secs(300);

/// The caps, adjustable for tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub running: usize,
    pub notify_running: usize,
    pub queued: usize,
    pub notify_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            running: MAX_RUNNING,
            notify_running: MAX_NOTIFY_RUNNING,
            queued: MAX_QUEUED,
            notify_timeout: NOTIFY_TIMEOUT,
        }
    }
}

/// One running child.
pub struct Running {
    pub run: Option<ScriptRunId>,
    pub desc: String,
    pub pidfd: Option<OwnedFd>,
    /// When to act next: the timeout, then the SIGKILL times.
    pub deadline: Option<Instant>,
    pub timed_out: bool,
}

/// A finished child.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finished {
    pub pid: i32,
    pub run: Option<ScriptRunId>,
    pub desc: String,
    pub outcome: ScriptOutcome,
}

/// What became of a request to run a script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Started {
    /// Running as this pid.
    Pid(i32),
    /// A notify script waiting for a slot.
    Queued,
    /// A track script not run this time (too many running).
    Skipped,
}

/// What the caps did, for the stats dump.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Notify scripts that had to wait.
    pub queued: u64,
    /// Waiting notify scripts dropped from a full queue.
    pub dropped: u64,
    /// Track script runs skipped.
    pub skipped: u64,
    /// Starts refused by the check before each run.
    pub refused: u64,
}

struct Waiting {
    cmd: ScriptCommand,
    timeout: Option<Duration>,
}

/// Every child we started, by pid, and the notify scripts waiting for a slot.
pub struct Processes {
    children: BTreeMap<i32, Running>,
    queue: VecDeque<Waiting>,
    limits: Limits,
    pidfd_unsupported: bool,
    devnull: Option<OwnedFd>,
    /// The cap was hit and the backlog has not cleared yet (logged once).
    backlog: bool,
    /// Waiting scripts were dropped in this backlog (logged once).
    dropping: bool,
    pub counters: Counters,
}

impl Default for Processes {
    fn default() -> Self {
        Self::with_limits(Limits::default())
    }
}

fn pidfd_open(pid: i32) -> Option<OwnedFd> {
    // SAFETY: plain syscall; PIDFD_NONBLOCK = O_NONBLOCK.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, libc::O_NONBLOCK) };
    if fd < 0 {
        return None;
    }
    // SAFETY: fresh fd we own.
    Some(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// The check right before a start: the program is still executable by the script's user
/// and, when asked, still safe for root.
fn recheck(r: &RunAs) -> Result<(), String> {
    let program = Path::new(&r.program);
    if r.check_path {
        if let Some(why) = unsafe_path(&LiveHost, program) {
            return Err(format!(
                "Unsafe permissions found for script '{}' ({why}) - not running it",
                r.program
            ));
        }
    }
    let who = Account {
        uid: r.uid,
        gid: r.gid,
    };
    if !executable_by(&LiveHost, program, who) {
        return Err(format!(
            "{}: not an executable file for uid:gid {}:{}",
            r.program, r.uid, r.gid
        ));
    }
    Ok(())
}

/// Decodes a `waitpid` status.
fn outcome_of(status: libc::c_int) -> ScriptOutcome {
    if libc::WIFEXITED(status) {
        ScriptOutcome::Exited(libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        ScriptOutcome::Signaled(libc::WTERMSIG(status))
    } else {
        ScriptOutcome::Exited(0)
    }
}

impl Processes {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_limits(limits: Limits) -> Self {
        let devnull = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")
            .map(OwnedFd::from)
            .map_err(|e| log::error!("/dev/null: {e}"))
            .ok();
        Processes {
            children: BTreeMap::new(),
            queue: VecDeque::new(),
            limits,
            pidfd_unsupported: false,
            devnull,
            backlog: false,
            dropping: false,
            counters: Counters::default(),
        }
    }

    fn notify_running(&self) -> usize {
        self.children.values().filter(|r| r.run.is_none()).count()
    }

    fn note_backlog(&mut self) {
        if !self.backlog {
            self.backlog = true;
            log::warn!(
                "{} scripts running ({} notify scripts; the limits are {} and {}): notify scripts wait, track script runs are skipped until some end",
                self.children.len(),
                self.notify_running(),
                self.limits.running,
                self.limits.notify_running
            );
        }
    }

    /// Asks to run `cmd` at `now`: started, queued (notify) or skipped (track), or why it
    /// could not start. `run` is set for the track scripts whose exit the engine awaits.
    pub fn spawn(
        &mut self,
        now: Instant,
        run: Option<ScriptRunId>,
        cmd: &ScriptCommand,
        timeout: Option<Duration>,
    ) -> Result<Started, String> {
        if cmd.argv.is_empty() {
            return Err("empty command".into());
        }
        if cmd.run_as.is_none() {
            return Err("disabled: not checked against this host, or refused there".into());
        }
        let full = self.children.len() >= self.limits.running;
        if run.is_some() {
            if full {
                self.counters.skipped += 1;
                self.note_backlog();
                log::debug!(
                    "track script '{}': {} scripts running - skipping run",
                    cmd.argv.join(" "),
                    self.children.len()
                );
                return Ok(Started::Skipped);
            }
            return self.start(now, run, cmd, timeout).map(Started::Pid);
        }
        let busy = full || self.notify_running() >= self.limits.notify_running;
        if busy || !self.queue.is_empty() {
            if self.queue.len() >= self.limits.queued {
                if let Some(old) = self.queue.pop_front() {
                    self.counters.dropped += 1;
                    if !self.dropping {
                        self.dropping = true;
                        log::warn!(
                            "{} notify scripts waiting: dropping the oldest ('{}' first; counted until the backlog clears)",
                            self.limits.queued,
                            old.cmd.argv.join(" ")
                        );
                    }
                }
            }
            self.queue.push_back(Waiting {
                cmd: cmd.clone(),
                timeout,
            });
            self.counters.queued += 1;
            self.note_backlog();
            return Ok(Started::Queued);
        }
        self.start(now, None, cmd, timeout).map(Started::Pid)
    }

    /// Starts one of the daemon's own children now: no caps, no queue, and no time limit
    /// but `timeout` (a FIFO reader runs as long as the daemon).
    pub fn spawn_own(
        &mut self,
        now: Instant,
        cmd: &ScriptCommand,
        timeout: Option<Duration>,
    ) -> Result<i32, String> {
        if cmd.argv.is_empty() {
            return Err("empty command".into());
        }
        let pid = self.start(now, None, cmd, timeout)?;
        if timeout.is_none() {
            if let Some(r) = self.children.get_mut(&pid) {
                r.deadline = None;
            }
        }
        Ok(pid)
    }

    /// Starts a command now (within the caps).
    fn start(
        &mut self,
        now: Instant,
        run: Option<ScriptRunId>,
        cmd: &ScriptCommand,
        timeout: Option<Duration>,
    ) -> Result<i32, String> {
        let desc = cmd.argv.join(" ");
        let Some(run_as) = &cmd.run_as else {
            return Err("disabled".into());
        };
        if let Err(e) = recheck(run_as) {
            self.counters.refused += 1;
            return Err(e);
        }
        let Some(devnull) = &self.devnull else {
            return Err("/dev/null is not open".into());
        };
        let pid = script_spawn::spawn(run_as, &cmd.argv, devnull.as_fd())
            .map_err(|e| format!("{}: {e}", run_as.program))?;
        let pidfd = if self.pidfd_unsupported {
            None
        } else {
            let fd = pidfd_open(pid);
            if fd.is_none() {
                self.pidfd_unsupported = true;
            }
            fd
        };
        let timeout = match run {
            None => timeout.or(Some(self.limits.notify_timeout)),
            Some(_) => timeout,
        };
        self.children.insert(
            pid,
            Running {
                run,
                desc,
                pidfd,
                deadline: timeout.map(|t| now + t),
                timed_out: false,
            },
        );
        Ok(pid)
    }

    /// Starts waiting notify scripts while there is room, oldest first. Returns each
    /// start's pid, or the script and why it could not start.
    pub fn start_waiting(&mut self, now: Instant) -> Vec<Result<i32, String>> {
        let mut out = Vec::new();
        while !self.queue.is_empty()
            && self.children.len() < self.limits.running
            && self.notify_running() < self.limits.notify_running
        {
            let Some(w) = self.queue.pop_front() else {
                break;
            };
            out.push(
                self.start(now, None, &w.cmd, w.timeout)
                    .map_err(|e| format!("cannot run '{}': {e}", w.cmd.argv.join(" "))),
            );
        }
        if self.backlog && self.queue.is_empty() && self.children.len() < self.limits.running {
            self.backlog = false;
            self.dropping = false;
            let c = self.counters;
            log::info!(
                "script backlog cleared (so far {} notify scripts waited, {} were dropped, {} track script runs were skipped)",
                c.queued,
                c.dropped,
                c.skipped
            );
        }
        out
    }

    pub fn get(&self, pid: i32) -> Option<&Running> {
        self.children.get(&pid)
    }

    /// Running children.
    pub fn len(&self) -> usize {
        self.children.len()
    }

    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }

    /// Pids of the running children.
    pub fn pids(&self) -> impl Iterator<Item = i32> + '_ {
        self.children.keys().copied()
    }

    /// Terminates one child: SIGTERM to its group now, SIGKILL after the grace time.
    pub fn terminate(&mut self, now: Instant, pid: i32) {
        if let Some(r) = self.children.get_mut(&pid) {
            Self::signal_group(pid, libc::SIGTERM);
            r.deadline = Some(now + KILL_GRACE);
            r.timed_out = true;
        }
    }

    /// Notify scripts waiting for a slot.
    pub fn waiting(&self) -> usize {
        self.queue.len()
    }

    fn signal_group(pid: i32, sig: i32) {
        // SAFETY: plain syscalls; the group is the child's own (setpgid at the fork), and
        // the child itself when the group is gone.
        unsafe {
            if libc::kill(-pid, sig) != 0 {
                libc::kill(pid, sig);
            }
        }
    }

    /// Kills the child of `run`: SIGTERM to its group now, SIGKILL after the grace time.
    pub fn kill_run(&mut self, now: Instant, run: ScriptRunId) {
        if let Some((&pid, r)) = self.children.iter_mut().find(|(_, r)| r.run == Some(run)) {
            Self::signal_group(pid, libc::SIGTERM);
            r.deadline = Some(now + KILL_GRACE);
            r.timed_out = true;
        }
    }

    /// Sends SIGTERM to every child the engine waits on (track scripts) at shutdown; SIGKILL
    /// follows after the grace time. Notify scripts are left to finish.
    pub fn terminate_tracked(&mut self, now: Instant) {
        for (&pid, r) in self.children.iter_mut() {
            if r.run.is_some() {
                Self::signal_group(pid, libc::SIGTERM);
                r.deadline = Some(now + KILL_GRACE);
                r.timed_out = true;
            }
        }
    }

    /// Sends SIGTERM to every child and forgets the waiting ones (shutdown), without
    /// waiting.
    pub fn terminate_all(&mut self) {
        self.queue.clear();
        for &pid in self.children.keys() {
            Self::signal_group(pid, libc::SIGTERM);
        }
    }

    /// The earliest time a child needs attention.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.children.values().filter_map(|r| r.deadline).min()
    }

    /// Acts on due timeouts: first SIGTERM (the run is then timed out), then SIGKILL.
    pub fn on_timers(&mut self, now: Instant) {
        for (&pid, r) in self.children.iter_mut() {
            match r.deadline {
                Some(d) if d <= now => {
                    if r.timed_out {
                        log::warn!("script '{}' (pid {pid}) ignored SIGTERM: SIGKILL", r.desc);
                        Self::signal_group(pid, libc::SIGKILL);
                        r.deadline = Some(now + KILL_REPEAT);
                    } else {
                        log::warn!("script '{}' (pid {pid}) timed out: SIGTERM", r.desc);
                        Self::signal_group(pid, libc::SIGTERM);
                        r.timed_out = true;
                        r.deadline = Some(now + KILL_GRACE);
                    }
                }
                _ => {}
            }
        }
    }

    /// Reaps `pid` if it exited (pidfd readiness), or every child (SIGCHLD).
    pub fn reap(&mut self, pid: Option<i32>) -> Vec<Finished> {
        let pids: Vec<i32> = match pid {
            Some(p) => vec![p],
            None => self.children.keys().copied().collect(),
        };
        let mut done = Vec::new();
        for p in pids {
            if !self.children.contains_key(&p) {
                continue;
            }
            let mut status: libc::c_int = 0;
            // SAFETY: waitpid on our own child, without blocking.
            let rc = unsafe { libc::waitpid(p, &mut status, libc::WNOHANG) };
            let outcome = match rc {
                0 => continue,
                -1 => {
                    let e = std::io::Error::last_os_error();
                    if e.raw_os_error() == Some(libc::EINTR) {
                        continue;
                    }
                    // ECHILD: someone else reaped it; forget it rather than spin.
                    log::error!("waitpid({p}): {e}");
                    ScriptOutcome::Exited(0)
                }
                _ => outcome_of(status),
            };
            let Some(r) = self.children.remove(&p) else {
                continue;
            };
            // The group may still hold grandchildren: make sure they go too.
            if r.timed_out {
                Self::signal_group(p, libc::SIGKILL);
            }
            let outcome = if r.timed_out {
                ScriptOutcome::TimedOut
            } else {
                outcome
            };
            done.push(Finished {
                pid: p,
                run: r.run,
                desc: r.desc,
                outcome,
            });
        }
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own_ids() -> (u32, u32) {
        // SAFETY: plain getters.
        unsafe { (libc::geteuid(), libc::getegid()) }
    }

    /// A command checked as the config loader would for a script run as ourselves.
    fn cmd(argv: &[&str]) -> ScriptCommand {
        let mut c = ScriptCommand::from_argv(argv);
        let (uid, gid) = own_ids();
        c.run_as = argv.first().map(|p| RunAs {
            uid,
            gid,
            program: p.to_string(),
            check_path: false,
        });
        c
    }

    fn wait_reap(p: &mut Processes, pid: i32) -> Finished {
        for _ in 0..500 {
            if let Some(f) = p.reap(Some(pid)).pop() {
                return f;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("child {pid} never exited");
    }

    fn pid_of(s: Result<Started, String>) -> i32 {
        match s {
            Ok(Started::Pid(p)) => p,
            other => panic!("not started: {other:?}"),
        }
    }

    /// A scratch directory removed on drop.
    struct Scratch(std::path::PathBuf);
    impl Scratch {
        fn new(tag: &str) -> Scratch {
            let d = std::env::temp_dir().join(format!("krs-proc-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&d);
            std::fs::create_dir_all(&d).expect("scratch dir");
            Scratch(d)
        }
        fn wait_file(&self, name: &str) -> String {
            let p = self.0.join(name);
            for _ in 0..500 {
                if let Ok(t) = std::fs::read_to_string(&p) {
                    if t.ends_with("END\n") {
                        return t;
                    }
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            panic!("{} never written", p.display());
        }
    }
    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn reports_exit_codes_and_spawn_failures() {
        let mut p = Processes::new();
        let pid = pid_of(p.spawn(
            Instant::ZERO,
            Some(ScriptRunId(1)),
            &cmd(&["/bin/sh", "-c", "exit 3"]),
            None,
        ));
        let f = wait_reap(&mut p, pid);
        assert_eq!(f.outcome, ScriptOutcome::Exited(3));
        assert_eq!(f.run, Some(ScriptRunId(1)));
        assert!(p.is_empty());
        let e = p
            .spawn(Instant::ZERO, None, &cmd(&["/nonexistent/script"]), None)
            .unwrap_err();
        assert!(e.contains("/nonexistent/script"), "{e}");
        assert!(p.spawn(Instant::ZERO, None, &cmd(&[]), None).is_err());
        // A command the configuration load did not clear never runs.
        let e = p
            .spawn(
                Instant::ZERO,
                None,
                &ScriptCommand::from_argv(&["/bin/true"]),
                None,
            )
            .unwrap_err();
        assert!(e.contains("disabled"), "{e}");
        assert!(p.is_empty());
    }

    #[test]
    fn a_root_script_whose_path_became_unsafe_is_refused() {
        let s = Scratch::new("unsafe");
        let dir = s.0.join("open");
        std::fs::create_dir(&dir).expect("dir");
        let script = dir.join("chk.sh");
        std::fs::write(&script, "#!/bin/sh\nexit 0\n").expect("script");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let mut c = cmd(&[script.to_str().expect("utf-8 path")]);
        if let Some(r) = c.run_as.as_mut() {
            r.check_path = true;
        }
        let mut p = Processes::new();
        // Root-owned in a root-owned 0755 directory under the sticky /tmp: runs (as
        // root; as another user the file's owner is not root, which is unsafe too).
        let first = p.spawn(Instant::ZERO, Some(ScriptRunId(1)), &c, None);
        if own_ids().0 == 0 {
            let pid = pid_of(first);
            assert_eq!(wait_reap(&mut p, pid).outcome, ScriptOutcome::Exited(0));
        } else {
            assert!(first.is_err());
        }
        // The directory becomes world-writable after the load: refused before the fork.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let e = p
            .spawn(Instant::ZERO, Some(ScriptRunId(2)), &c, None)
            .unwrap_err();
        assert!(e.contains("Unsafe permissions found for script"), "{e}");
        assert!(p.is_empty());
        assert_eq!(p.counters.refused, 1 + u64::from(own_ids().0 != 0));
    }

    #[test]
    fn the_child_starts_clean() {
        let s = Scratch::new("env");
        let out = s.0.join("env.txt");
        // A descriptor the daemon forgot to mark close-on-exec, a blocked and an ignored
        // signal: the script must see none of them.
        let mut pipe = [0; 2];
        // SAFETY: pipe writes two fds we then own; F_DUPFD copies without close-on-exec,
        // at numbers no shell uses.
        let fds = unsafe {
            assert_eq!(libc::pipe(pipe.as_mut_ptr()), 0);
            [
                libc::fcntl(pipe[0], libc::F_DUPFD, 900),
                libc::fcntl(pipe[1], libc::F_DUPFD, 900),
            ]
        };
        assert!(fds[0] >= 900 && fds[1] >= 900, "{fds:?}");
        // SAFETY: this thread's mask only; a process-wide disposition restored below.
        let old_usr2 = unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGUSR1);
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            libc::signal(libc::SIGUSR2, libc::SIG_IGN)
        };
        let script = format!(
            "exec > {}; grep -E '^(SigBlk|SigIgn|Groups)' /proc/self/status; \
             echo pgid $(cut -d' ' -f5 /proc/self/stat) pid $$; \
             echo fds $(ls /proc/$$/fd | sort -n | tr '\\n' ' '); \
             echo stdin $(readlink /proc/$$/fd/0); echo END",
            out.display()
        );
        let mut p = Processes::new();
        let pid = pid_of(p.spawn(Instant::ZERO, None, &cmd(&["/bin/sh", "-c", &script]), None));
        // SAFETY: restoring what we changed; closing our pipe.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGUSR1);
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            libc::signal(libc::SIGUSR2, old_usr2);
            for fd in fds.into_iter().chain(pipe) {
                libc::close(fd);
            }
        }
        let text = s.wait_file("env.txt");
        assert_eq!(wait_reap(&mut p, pid).outcome, ScriptOutcome::Exited(0));
        assert!(text.contains("SigBlk:\t0000000000000000"), "{text}");
        assert!(text.contains("SigIgn:\t0000000000000000"), "{text}");
        assert!(text.contains(&format!("pgid {pid} pid {pid}")), "{text}");
        // 0-2, and the one `exec >` made into 1; the shell's own fds (dash: 10) aside,
        // none of ours: the pipe's numbers are not there.
        let fd_line = text.lines().find(|l| l.starts_with("fds")).unwrap_or("");
        for fd in fds {
            assert!(
                !fd_line.split_whitespace().any(|w| w == fd.to_string()),
                "fd {fd} leaked: {fd_line}"
            );
        }
        assert!(text.contains("stdin /dev/null"), "{text}");
        if own_ids().0 == 0 {
            // Root sets exactly one supplementary group: the script's (here root's).
            assert!(
                text.contains("Groups:\t0 \n") || text.contains("Groups:\t0\n"),
                "{text}"
            );
        }
    }

    #[test]
    fn root_runs_a_script_as_its_user_with_one_group() {
        if own_ids().0 != 0 {
            eprintln!(
                "NOTICE: identity change needs root; checked by tests/script_security.rs under CI"
            );
            return;
        }
        let s = Scratch::new("ids");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&s.0, std::fs::Permissions::from_mode(0o1777)).expect("chmod");
        let out = s.0.join("ids.txt");
        let script = format!(
            "exec > {}; echo $(id -u) $(id -g); grep ^Groups: /proc/self/status; echo END",
            out.display()
        );
        let mut c = cmd(&["/bin/sh", "-c", &script]);
        if let Some(r) = c.run_as.as_mut() {
            r.uid = 65534;
            r.gid = 1;
        }
        let mut p = Processes::new();
        let pid = pid_of(p.spawn(Instant::ZERO, None, &c, None));
        let text = s.wait_file("ids.txt");
        assert_eq!(wait_reap(&mut p, pid).outcome, ScriptOutcome::Exited(0));
        assert!(text.starts_with("65534 1\n"), "{text}");
        assert!(
            text.contains("Groups:\t1 \n") || text.contains("Groups:\t1\n"),
            "{text}"
        );
    }

    #[test]
    fn caps_queue_notify_scripts_oldest_first_and_skip_track_runs() {
        let s = Scratch::new("cap");
        let limits = Limits {
            running: 3,
            notify_running: 2,
            queued: 2,
            notify_timeout: Duration::from_secs(60),
        };
        let mut p = Processes::with_limits(limits);
        let hang = cmd(&["/bin/sleep", "100"]);
        let t0 = Instant::ZERO;
        let a = pid_of(p.spawn(t0, None, &hang, None));
        let b = pid_of(p.spawn(t0, None, &hang, None));
        // The notify cap is reached: the next ones wait, and the third pushes the oldest
        // waiting one out.
        let mark = |n: u32| {
            cmd(&[
                "/bin/sh",
                "-c",
                &format!("echo {n} END > {}/n{n}", s.0.display()),
            ])
        };
        assert_eq!(p.spawn(t0, None, &mark(1), None), Ok(Started::Queued));
        assert_eq!(p.spawn(t0, None, &mark(2), None), Ok(Started::Queued));
        assert_eq!(p.spawn(t0, None, &mark(3), None), Ok(Started::Queued));
        assert_eq!(p.waiting(), 2);
        assert_eq!(p.counters.dropped, 1);
        // A track script still finds the slot kept for it, then the total cap is hit.
        let t = pid_of(p.spawn(t0, Some(ScriptRunId(5)), &hang, None));
        assert_eq!(
            p.spawn(t0, Some(ScriptRunId(6)), &hang, None),
            Ok(Started::Skipped)
        );
        assert_eq!(p.counters.skipped, 1);
        assert_eq!(p.len(), 3);
        // Notify scripts get the default timeout; track scripts only their own.
        assert_eq!(
            p.get(a).and_then(|r| r.deadline),
            Some(t0 + limits.notify_timeout)
        );
        assert_eq!(p.get(t).and_then(|r| r.deadline), None);
        // One notify script ends: the oldest waiting one (2) starts, then 3.
        p.kill_run(t0, ScriptRunId(5));
        Processes::signal_group(a, libc::SIGKILL);
        let _ = wait_reap(&mut p, a);
        let started = p.start_waiting(t0);
        assert_eq!(started.len(), 1);
        let n2 = started[0].clone().expect("started");
        assert_eq!(s.wait_file("n2"), "2 END\n");
        assert_eq!(wait_reap(&mut p, n2).outcome, ScriptOutcome::Exited(0));
        let n3 = p.start_waiting(t0)[0].clone().expect("started");
        assert_eq!(s.wait_file("n3"), "3 END\n");
        assert_eq!(wait_reap(&mut p, n3).outcome, ScriptOutcome::Exited(0));
        assert!(!s.0.join("n1").exists(), "the dropped script ran");
        assert_eq!(p.waiting(), 0);
        assert_eq!(wait_reap(&mut p, t).outcome, ScriptOutcome::TimedOut);
        p.terminate_all();
        let _ = wait_reap(&mut p, b);
        assert!(p.is_empty());
    }

    fn dead_or_zombie(pid: i32) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            Ok(s) => s
                .rsplit(')')
                .next()
                .is_some_and(|rest| rest.trim_start().starts_with(['Z', 'X'])),
        }
    }

    #[test]
    fn timeout_terminates_the_whole_group() {
        let mut p = Processes::new();
        let marker = std::env::temp_dir().join(format!("krs-grp-{}", std::process::id()));
        let script = format!("sleep 100 & echo $! > {}; wait", marker.display());
        // The shell's child (sleep) is in the same group and must die too.
        let pid = pid_of(p.spawn(
            Instant::ZERO,
            Some(ScriptRunId(7)),
            &cmd(&["/bin/sh", "-c", &script]),
            Some(Duration::from_millis(50)),
        ));
        assert_eq!(p.next_deadline(), Some(Instant::from_nanos(50_000_000)));
        let mut grandchild = None;
        for _ in 0..300 {
            grandchild = std::fs::read_to_string(&marker)
                .ok()
                .and_then(|t| t.trim().parse::<i32>().ok());
            if grandchild.is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let grandchild = grandchild.expect("the script started its child");
        let _ = std::fs::remove_file(&marker);
        assert!(p.reap(Some(pid)).is_empty());
        p.on_timers(Instant::from_nanos(60_000_000));
        let f = wait_reap(&mut p, pid);
        assert_eq!(f.outcome, ScriptOutcome::TimedOut);
        // The grandchild went with its group (a zombie waiting for init counts as gone).
        let mut gone = false;
        for _ in 0..100 {
            if dead_or_zombie(grandchild) {
                gone = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(gone, "process {grandchild} of the group still alive");
    }

    #[test]
    fn sigkill_follows_an_ignored_sigterm() {
        let mut p = Processes::new();
        let pid = pid_of(p.spawn(
            Instant::ZERO,
            Some(ScriptRunId(9)),
            &cmd(&[
                "/bin/sh",
                "-c",
                "trap '' TERM; while :; do sleep 0.05; done",
            ]),
            Some(Duration::from_millis(10)),
        ));
        std::thread::sleep(Duration::from_millis(100));
        p.on_timers(Instant::from_nanos(20_000_000));
        std::thread::sleep(Duration::from_millis(200));
        assert!(
            p.reap(Some(pid)).is_empty(),
            "SIGTERM should have been ignored"
        );
        assert_eq!(
            p.next_deadline(),
            Some(Instant::from_nanos(20_000_000) + KILL_GRACE)
        );
        p.on_timers(Instant::from_nanos(20_000_000) + KILL_GRACE);
        let f = wait_reap(&mut p, pid);
        assert_eq!(f.outcome, ScriptOutcome::TimedOut);
    }
}
