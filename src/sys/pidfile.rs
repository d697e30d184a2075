//! The pid file, with keepalived's semantics: a file naming a live process means "already
//! running" (refuse to start); a stale one (the process is gone) is replaced; it is
//! written after the fork, mode 0644, and removed at exit if it still names us.
//!
//! The default is keepalived's own `/run/keepalived.pid`, so that monitoring written for
//! keepalived (exporters, Checkmk and Zabbix plugins) finds us; `-p` moves it, e.g. to run
//! beside a real keepalived during a migration.
//!
//! Never through a symlink: a symlink at the pid file's name is refused (keepalived opens
//! it with `O_NOFOLLOW` and fails), reads use `O_NOFOLLOW` and only regular files, and the
//! file is written by `safefile::replace` (temp file + rename), so a file planted there is
//! replaced, never written into.

use super::safefile;
use std::fs;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Where the pid file goes when `-p` is not given: keepalived's.
pub const DEFAULT_PID_FILE: &str = "/run/keepalived.pid";

/// More than any pid needs; a bigger file is not a pid file.
const MAX_PID_FILE: u64 = 64;

#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
    pid: u32,
}

fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks existence / permission.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// The pid written in `path`: a regular file (not through a symlink) holding a number.
fn read_pid(path: &Path) -> Option<i32> {
    let f = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .ok()?;
    if !f.metadata().ok()?.is_file() {
        return None;
    }
    let mut text = String::new();
    f.take(MAX_PID_FILE).read_to_string(&mut text).ok()?;
    text.trim().parse().ok().filter(|p| *p > 0)
}

/// The pid recorded in `path` if that process is alive (and not us).
pub fn holder(path: &Path) -> Option<i32> {
    let pid = read_pid(path)?;
    (pid as u32 != std::process::id() && alive(pid)).then_some(pid)
}

fn is_symlink(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

impl PidFile {
    /// Writes our pid to `path`, unless another live process holds it or `path` is a
    /// symlink. A stale file is replaced.
    pub fn acquire(path: &Path) -> Result<PidFile, String> {
        if is_symlink(path) {
            return Err(format!(
                "{}: is a symbolic link - refusing to use it as the pid file",
                path.display()
            ));
        }
        if let Some(pid) = holder(path) {
            return Err(format!("{}: already running as pid {pid}", path.display()));
        }
        let pid = std::process::id();
        safefile::replace(path, format!("{pid}\n").as_bytes(), 0o644)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(PidFile {
            path: path.to_path_buf(),
            pid,
        })
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        if read_pid(&self.path) == Some(self.pid as i32) {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("krs-pid-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn refuses_a_live_holder_and_takes_over_a_stale_file() {
        let dir = scratch("stale");
        let path = dir.join("k.pid");
        // pid 1 is alive.
        fs::write(&path, "1\n").unwrap();
        assert!(PidFile::acquire(&path).unwrap_err().contains("pid 1"));
        // A pid that cannot exist is stale.
        fs::write(&path, "999999999\n").unwrap();
        {
            let _p = PidFile::acquire(&path).unwrap();
            let t = fs::read_to_string(&path).unwrap();
            assert_eq!(t.trim(), std::process::id().to_string());
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o644, "readable by monitoring, as keepalived's");
        }
        assert!(!path.exists(), "removed on drop");
        // Garbage is not a holder.
        fs::write(&path, "not a pid\n").unwrap();
        assert_eq!(holder(&path), None);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_symlink_is_refused_and_never_followed() {
        let dir = scratch("link");
        let victim = dir.join("victim");
        fs::write(&victim, "1\n").unwrap();
        let path = dir.join("k.pid");
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        // Not read through the link (pid 1 would mean "running").
        assert_eq!(holder(&path), None);
        let e = PidFile::acquire(&path).unwrap_err();
        assert!(e.contains("symbolic link"), "{e}");
        assert_eq!(fs::read_to_string(&victim).unwrap(), "1\n");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_that_no_longer_names_us_is_left_alone() {
        let dir = scratch("other");
        let path = dir.join("k.pid");
        let p = PidFile::acquire(&path).unwrap();
        fs::write(&path, "12345\n").unwrap();
        drop(p);
        assert_eq!(fs::read_to_string(&path).unwrap(), "12345\n");
        fs::remove_dir_all(&dir).unwrap();
    }
}
