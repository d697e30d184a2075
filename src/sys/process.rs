//! Child processes (track scripts, notify scripts): spawned without a shell from their
//! argv, stdin/stdout/stderr on /dev/null, each in its own process group; a timeout sends
//! SIGTERM to the group and SIGKILL 2 s later (then every 10 s); exits are reaped without
//! blocking — through a pidfd registered with the reactor where the kernel has them, and on
//! every SIGCHLD otherwise — and reported for the runs the engine waits on.

use crate::config::model::ScriptCommand;
use crate::event::{ScriptOutcome, ScriptRunId};
use crate::sched::Instant;
use std::collections::BTreeMap;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const KILL_GRACE: Duration = Duration::from_secs(2);
pub const KILL_REPEAT: Duration = Duration::from_secs(10);

/// One running child.
pub struct Running {
    pub run: Option<ScriptRunId>,
    pub desc: String,
    child: Child,
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

/// Every child we started, by pid.
#[derive(Default)]
pub struct Processes {
    children: BTreeMap<i32, Running>,
    pidfd_unsupported: bool,
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

fn resolve_user(cmd: &ScriptCommand) -> Result<Option<(u32, u32)>, String> {
    let Some(user) = &cmd.user else {
        return Ok(None);
    };
    let u = nix::unistd::User::from_name(user)
        .map_err(|e| format!("looking up user '{user}': {e}"))?
        .ok_or_else(|| format!("no such user '{user}'"))?;
    let gid = match &cmd.group {
        Some(g) => {
            nix::unistd::Group::from_name(g)
                .map_err(|e| format!("looking up group '{g}': {e}"))?
                .ok_or_else(|| format!("no such group '{g}'"))?
                .gid
        }
        None => u.gid,
    };
    Ok(Some((u.uid.as_raw(), gid.as_raw())))
}

impl Processes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts `cmd` at `now`. Returns the pid, or why it could not start.
    pub fn spawn(
        &mut self,
        now: Instant,
        run: Option<ScriptRunId>,
        cmd: &ScriptCommand,
        timeout: Option<Duration>,
    ) -> Result<i32, String> {
        let Some((prog, args)) = cmd.argv.split_first() else {
            return Err("empty command".into());
        };
        let mut c = Command::new(prog);
        c.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        if let Some((uid, gid)) = resolve_user(cmd)? {
            c.gid(gid).uid(uid);
        }
        let child = c.spawn().map_err(|e| format!("{prog}: {e}"))?;
        let pid = child.id() as i32;
        let pidfd = if self.pidfd_unsupported {
            None
        } else {
            let fd = pidfd_open(pid);
            if fd.is_none() {
                self.pidfd_unsupported = true;
            }
            fd
        };
        self.children.insert(
            pid,
            Running {
                run,
                desc: cmd.argv.join(" "),
                child,
                pidfd,
                deadline: timeout.map(|t| now + t),
                timed_out: false,
            },
        );
        Ok(pid)
    }

    pub fn get(&self, pid: i32) -> Option<&Running> {
        self.children.get(&pid)
    }

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

    fn signal_group(pid: i32, sig: i32) {
        // SAFETY: plain syscall; the group is the child's own (process_group(0)).
        unsafe { libc::kill(-pid, sig) };
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

    /// Sends SIGTERM to every child (shutdown), without waiting.
    pub fn terminate_all(&mut self) {
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
            let Some(r) = self.children.get_mut(&p) else {
                continue;
            };
            let status = match r.child.try_wait() {
                Ok(Some(s)) => s,
                Ok(None) => continue,
                Err(e) => {
                    log::error!("waitpid({p}): {e}");
                    // ECHILD: someone else reaped it; forget it rather than spin.
                    if e.raw_os_error() != Some(libc::ECHILD) {
                        continue;
                    }
                    std::process::ExitStatus::from_raw(0)
                }
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
            } else if let Some(code) = status.code() {
                ScriptOutcome::Exited(code)
            } else {
                ScriptOutcome::Signaled(status.signal().unwrap_or(0))
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

    fn cmd(argv: &[&str]) -> ScriptCommand {
        ScriptCommand::from_argv(argv)
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

    #[test]
    fn reports_exit_codes_and_spawn_failures() {
        let mut p = Processes::new();
        let pid = p
            .spawn(
                Instant::ZERO,
                Some(ScriptRunId(1)),
                &cmd(&["/bin/sh", "-c", "exit 3"]),
                None,
            )
            .unwrap();
        let f = wait_reap(&mut p, pid);
        assert_eq!(f.outcome, ScriptOutcome::Exited(3));
        assert_eq!(f.run, Some(ScriptRunId(1)));
        assert!(p.is_empty());
        let e = p
            .spawn(Instant::ZERO, None, &cmd(&["/nonexistent/script"]), None)
            .unwrap_err();
        assert!(e.contains("/nonexistent/script"), "{e}");
        assert!(p.spawn(Instant::ZERO, None, &cmd(&[]), None).is_err());
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
        let pid = p
            .spawn(
                Instant::ZERO,
                Some(ScriptRunId(7)),
                &cmd(&["/bin/sh", "-c", &script]),
                Some(Duration::from_millis(50)),
            )
            .unwrap();
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
        let pid = p
            .spawn(
                Instant::ZERO,
                Some(ScriptRunId(9)),
                &cmd(&[
                    "/bin/sh",
                    "-c",
                    "trap '' TERM; while :; do sleep 0.05; done",
                ]),
                Some(Duration::from_millis(10)),
            )
            .unwrap();
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
