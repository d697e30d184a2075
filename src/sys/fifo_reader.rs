//! The notify FIFOs and their reader scripts (`notify_fifo_script`,
//! `vrrp_notify_fifo_script`): keepalived creates a FIFO when it is missing and starts the
//! script with the FIFO's
//! path as its last argument, before any state is written; the script runs for the whole
//! life of the daemon and is terminated (SIGTERM) at exit, once the STOP lines are written.

use super::world::SysWorld;
use crate::config::model::{Config, ScriptCommand};
use crate::sched::Instant;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

/// The (FIFO, reader script) pairs of a configuration.
pub fn pairs(config: &Config) -> Vec<(String, ScriptCommand)> {
    let g = &config.global;
    let mut out = Vec::new();
    for (fifo, script) in [
        (&g.notify_fifo, &g.notify_fifo_script),
        (&g.vrrp_notify_fifo, &g.vrrp_notify_fifo_script),
    ] {
        if let (Some(f), Some(s)) = (fifo, script) {
            out.push((f.clone(), s.clone()));
        }
    }
    out
}

/// Makes sure `path` is a FIFO: creates it (mode 0600) when missing; anything else in
/// its place (a regular file, a symlink, a directory) is refused.
pub fn ensure_fifo(path: &str) -> Result<(), String> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_fifo() => Ok(()),
        Ok(_) => Err(format!("{path} exists and is not a FIFO")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => nix::unistd::mkfifo(
            Path::new(path),
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .map_err(|e| format!("cannot create FIFO {path}: {e}")),
        Err(e) => Err(format!("{path}: {e}")),
    }
}

/// Creates each notify FIFO that is missing (`notify_fifo`, `vrrp_notify_fifo`, with or
/// without a reader) and starts the readers; returns the readers' pids.
pub fn start(world: &mut SysWorld, now: Instant, config: &Config) -> Vec<i32> {
    let g = &config.global;
    for fifo in [&g.notify_fifo, &g.vrrp_notify_fifo].into_iter().flatten() {
        if let Err(e) = ensure_fifo(fifo) {
            log::error!("notify FIFO: {e}");
        }
    }
    let mut pids = Vec::new();
    for (fifo, script) in pairs(config) {
        if let Err(e) = ensure_fifo(&fifo) {
            log::error!("notify FIFO: {e}; its reader script is not started");
            continue;
        }
        let mut cmd = script.clone();
        cmd.argv.push(fifo.clone());
        log::info!("Starting FIFO reader '{}'", cmd.argv.join(" "));
        if let Some(pid) = world.spawn_child(now, &cmd, None) {
            pids.push(pid);
        }
    }
    pids
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileTypeExt;

    #[test]
    fn a_missing_fifo_is_created_and_anything_else_refused() {
        let dir = std::env::temp_dir().join(format!("krs-fifo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("f");
        let path = fifo.to_str().unwrap();
        ensure_fifo(path).unwrap();
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
        ensure_fifo(path).unwrap(); // already a FIFO: fine
        let file = dir.join("regular");
        std::fs::write(&file, "x").unwrap();
        assert!(ensure_fifo(file.to_str().unwrap()).is_err());
        let link = dir.join("link");
        std::os::unix::fs::symlink(&fifo, &link).unwrap();
        assert!(ensure_fifo(link.to_str().unwrap()).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
