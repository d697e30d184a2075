//! Process set-up of the daemon: detaching (double fork, setsid, stdio on /dev/null),
//! umask, and entering a named network namespace (`-s NAME`: /run/netns/NAME) before any
//! socket is opened.

use nix::unistd::{fork, setsid, ForkResult};
use std::os::fd::AsRawFd;

/// Detaches from the terminal. Returns in the daemon (grandchild); the parents exit 0.
pub fn detach() -> Result<(), String> {
    // SAFETY: called before any thread or socket exists.
    match unsafe { fork() }.map_err(|e| format!("fork: {e}"))? {
        ForkResult::Parent { .. } => std::process::exit(0),
        ForkResult::Child => {}
    }
    setsid().map_err(|e| format!("setsid: {e}"))?;
    // SAFETY: as above; the second fork makes sure we never reacquire a terminal.
    match unsafe { fork() }.map_err(|e| format!("fork: {e}"))? {
        ForkResult::Parent { .. } => std::process::exit(0),
        ForkResult::Child => {}
    }
    let _ = std::env::set_current_dir("/");
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(|e| format!("/dev/null: {e}"))?;
    for fd in 0..3 {
        // SAFETY: dup2 onto the standard descriptors.
        unsafe { libc::dup2(null.as_raw_fd(), fd) };
    }
    Ok(())
}

pub fn set_umask(mask: u32) {
    // SAFETY: plain syscall.
    unsafe { libc::umask(mask as libc::mode_t) };
}

/// Enters the network namespace `/run/netns/NAME`.
pub fn enter_netns(name: &str) -> Result<(), String> {
    if name.contains('/') || name.is_empty() {
        return Err(format!("bad namespace name '{name}'"));
    }
    let path = format!("/run/netns/{name}");
    let f = std::fs::File::open(&path).map_err(|e| format!("{path}: {e}"))?;
    // SAFETY: setns on a namespace fd we hold.
    let rc = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc < 0 {
        return Err(format!("setns {path}: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}
