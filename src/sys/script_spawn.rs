//! Starting one script: `fork` and `execve` with nothing but async-signal-safe system
//! calls in between, everything the child needs (C strings, the environment, the signal
//! action and mask) prepared before the fork. The parent never waits for the `exec`: a
//! program that cannot be executed ends its child with status 127 (126 when the identity
//! could not be taken), which the caller sees as any other exit.
//!
//! The child, in this order: gets its own process group (so a timeout can kill the whole
//! tree); stdin, stdout and stderr on /dev/null; every signal back to its default action
//! and an empty signal mask; as root, exactly one supplementary group (the script's
//! group, as keepalived 2.2.7 does), then the gid, then the uid; the parent-death signal
//! SIGTERM (set after the identity change, which clears it) — and exits at once if the
//! daemon already died; every descriptor above 2 closed (`close_range`, else one by one).

use crate::config::model::RunAs;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// Exit status of a child that could not take the script's identity.
pub const EXIT_IDENTITY: i32 = 126;
/// Exit status of a child whose `execve` failed.
pub const EXIT_EXEC: i32 = 127;

/// Everything the child reads, built before the fork (the child may not allocate).
struct Prepared {
    program: CString,
    _argv: Vec<CString>,
    argv_ptrs: Vec<*const libc::c_char>,
    _envp: Vec<CString>,
    envp_ptrs: Vec<*const libc::c_char>,
    /// (uid, gid) to switch to; `None`: keep the daemon's.
    ids: Option<(libc::uid_t, libc::gid_t)>,
    parent: libc::pid_t,
    empty_mask: libc::sigset_t,
    max_fd: libc::c_int,
}

/// The kernel's `struct sigaction` for SIG_DFL, no flags and an empty mask: all zeros
/// whatever the architecture's field order (handler, flags, restorer, mask).
const DEFAULT_ACTION: [u64; 4] = [0; 4];
/// The kernel's signal set size (64 signals).
const SIGSET_BYTES: libc::c_long = 8;
/// The highest signal number.
const LAST_SIGNAL: libc::c_int = 64;

fn cstring(s: &[u8]) -> io::Result<CString> {
    CString::new(s).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in argument"))
}

fn prepare(run_as: &RunAs, argv: &[String]) -> io::Result<Prepared> {
    use std::os::unix::ffi::OsStrExt;
    let program = cstring(run_as.program.as_bytes())?;
    let argv: Vec<CString> = argv
        .iter()
        .map(|a| cstring(a.as_bytes()))
        .collect::<io::Result<_>>()?;
    let mut argv_ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argv_ptrs.push(std::ptr::null());
    let envp: Vec<CString> = std::env::vars_os()
        .filter_map(|(k, v)| {
            let mut kv = k.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            CString::new(kv).ok()
        })
        .collect();
    let mut envp_ptrs: Vec<*const libc::c_char> = envp.iter().map(|e| e.as_ptr()).collect();
    envp_ptrs.push(std::ptr::null());
    // SAFETY: plain getters.
    let (euid, egid) = unsafe { (libc::geteuid(), libc::getegid()) };
    let ids = if euid == 0 {
        // Root always sets the groups, even to root's own (one group, as keepalived).
        Some((run_as.uid, run_as.gid))
    } else if (run_as.uid, run_as.gid) == (euid, egid) {
        None
    } else {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "cannot run as uid:gid {}:{} without root",
                run_as.uid, run_as.gid
            ),
        ));
    };
    // SAFETY: a zeroed sigset_t is a valid value, then initialised by libc.
    let mut empty_mask: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: initialising a structure we own.
    unsafe { libc::sigemptyset(&mut empty_mask) };
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct we pass.
    let max_fd = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 {
        lim.rlim_cur.min(1 << 20) as libc::c_int
    } else {
        1024
    };
    Ok(Prepared {
        program,
        _argv: argv,
        argv_ptrs,
        _envp: envp,
        envp_ptrs,
        ids,
        parent: std::process::id() as libc::pid_t,
        empty_mask,
        max_fd,
    })
}

/// The child between fork and exec. Only async-signal-safe calls; never returns.
///
/// # Safety
/// Must be called in a freshly forked child, with `p` built before the fork.
unsafe fn child(p: &Prepared, devnull: libc::c_int) -> ! {
    libc::setpgid(0, 0);
    if devnull < 3 {
        // dup2 onto itself would keep its close-on-exec flag.
        libc::fcntl(devnull, libc::F_SETFD, 0);
    }
    for fd in 0..3 {
        if libc::dup2(devnull, fd) < 0 {
            libc::_exit(EXIT_EXEC);
        }
    }
    // The raw system call: libc's sigaction refuses the signals it reserves for itself
    // (32, 33), which the daemon may have inherited ignored. SIGKILL and SIGSTOP fail
    // harmlessly.
    for sig in 1..=LAST_SIGNAL {
        libc::syscall(
            libc::SYS_rt_sigaction,
            sig,
            DEFAULT_ACTION.as_ptr(),
            std::ptr::null_mut::<u64>(),
            SIGSET_BYTES,
        );
    }
    libc::sigprocmask(libc::SIG_SETMASK, &p.empty_mask, std::ptr::null_mut());
    if let Some((uid, gid)) = p.ids {
        let groups = [gid];
        if libc::setgroups(1, groups.as_ptr()) != 0
            || libc::setgid(gid) != 0
            || libc::setuid(uid) != 0
        {
            libc::_exit(EXIT_IDENTITY);
        }
    }
    // After the identity change, which clears it.
    libc::prctl(
        libc::PR_SET_PDEATHSIG,
        libc::SIGTERM as libc::c_ulong,
        0,
        0,
        0,
    );
    if libc::getppid() != p.parent {
        libc::_exit(0);
    }
    if libc::syscall(
        libc::SYS_close_range,
        3 as libc::c_uint,
        libc::c_uint::MAX,
        0,
    ) != 0
    {
        for fd in 3..p.max_fd {
            libc::close(fd);
        }
    }
    libc::execve(
        p.program.as_ptr(),
        p.argv_ptrs.as_ptr(),
        p.envp_ptrs.as_ptr(),
    );
    libc::_exit(EXIT_EXEC)
}

/// Starts `argv` as `run_as` (its program replacing `argv[0]` for `execve`); returns the
/// child's pid at once. `devnull` is an open /dev/null.
pub fn spawn(run_as: &RunAs, argv: &[String], devnull: BorrowedFd<'_>) -> io::Result<i32> {
    if argv.is_empty() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "empty command"));
    }
    let p = prepare(run_as, argv)?;
    let null = devnull.as_raw_fd();
    // SAFETY: the child runs only async-signal-safe calls on memory prepared above and
    // leaves through execve or _exit.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => unsafe { child(&p, null) },
        pid => {
            // Also here, as shells do: a signal to the group right after the fork must
            // not find no group (EACCES once the child has exec'd: it set it itself).
            // SAFETY: plain syscall on our own child.
            unsafe { libc::setpgid(pid, pid) };
            Ok(pid)
        }
    }
}
