//! The pid file: refuses to start when a live process holds it, written after the fork,
//! removed at exit if it still names us.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where the pid file goes when `-p` is not given.
pub const DEFAULT_PID_FILE: &str = "/run/keepalived-rs.pid";

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

/// The pid recorded in `path` if that process is alive (and not us).
pub fn holder(path: &Path) -> Option<i32> {
    let text = fs::read_to_string(path).ok()?;
    let pid: i32 = text.trim().parse().ok()?;
    (pid > 0 && pid as u32 != std::process::id() && alive(pid)).then_some(pid)
}

impl PidFile {
    /// Writes our pid to `path`, unless another live process holds it.
    pub fn acquire(path: &Path) -> Result<PidFile, String> {
        if let Some(pid) = holder(path) {
            return Err(format!("{}: already running as pid {pid}", path.display()));
        }
        let pid = std::process::id();
        let tmp = path.with_extension(format!("tmp{pid}"));
        let write = || -> std::io::Result<()> {
            let mut f = fs::File::create(&tmp)?;
            writeln!(f, "{pid}")?;
            fs::rename(&tmp, path)
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            format!("{}: {e}", path.display())
        })?;
        Ok(PidFile {
            path: path.to_path_buf(),
            pid,
        })
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let ours = fs::read_to_string(&self.path)
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok())
            == Some(self.pid);
        if ours {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_live_holder_and_takes_over_a_stale_file() {
        let dir = std::env::temp_dir().join(format!("krs-pid-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
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
        }
        assert!(!path.exists(), "removed on drop");
        fs::remove_dir_all(&dir).unwrap();
    }
}
