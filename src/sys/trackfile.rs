//! `track_file`: the files are watched with inotify (their directories, so a file replaced
//! by rename or created later is seen) and re-read on every change; a changed value goes to
//! the engine as `Event::TrackFileValue`. `init_file` writes the initial value at start.

use crate::config::model::TrackFile;
use crate::event::Event;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

/// The value of a track file: its first word as an integer (None: unreadable or not a
/// number).
pub fn read_value(path: &Path) -> Option<i64> {
    let text = std::fs::read_to_string(path).ok()?;
    text.split_whitespace().next()?.parse().ok()
}

pub struct FileTracker {
    fd: OwnedFd,
    files: Vec<(String, PathBuf)>,
    last: BTreeMap<String, Option<i64>>,
}

impl FileTracker {
    /// Writes `init_file` values, watches the files' directories.
    pub fn new(files: &[TrackFile]) -> io::Result<FileTracker> {
        // SAFETY: plain syscall, checked.
        let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fresh fd we own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let mut dirs = BTreeSet::new();
        let mut list = Vec::new();
        for f in files {
            let path = PathBuf::from(&f.file);
            if let Some((value, overwrite)) = f.init_file {
                if overwrite || !path.exists() {
                    // Replaced, never written through a symlink planted at `path`.
                    let text = format!("{value}\n");
                    if let Err(e) = super::safefile::replace(&path, text.as_bytes(), 0o644) {
                        log::error!("track_file {}: init_file {}: {e}", f.name, path.display());
                    }
                }
            }
            let dir = path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf();
            dirs.insert(dir);
            list.push((f.name.clone(), path));
        }
        for d in dirs {
            let Ok(c) = CString::new(d.as_os_str().as_encoded_bytes()) else {
                continue;
            };
            let mask = libc::IN_CLOSE_WRITE
                | libc::IN_MOVED_TO
                | libc::IN_MOVED_FROM
                | libc::IN_CREATE
                | libc::IN_DELETE
                | libc::IN_MODIFY;
            // SAFETY: valid fd and NUL-terminated path.
            let wd = unsafe { libc::inotify_add_watch(fd.as_raw_fd(), c.as_ptr(), mask) };
            if wd < 0 {
                log::error!(
                    "track_file: cannot watch {}: {}",
                    d.display(),
                    io::Error::last_os_error()
                );
            }
        }
        Ok(FileTracker {
            fd,
            files: list,
            last: BTreeMap::new(),
        })
    }

    /// Events for every file whose value differs from what was last reported.
    fn changes(&mut self) -> Vec<Event> {
        let mut out = Vec::new();
        for (name, path) in &self.files {
            let v = read_value(path);
            if self.last.get(name) != Some(&v) {
                self.last.insert(name.clone(), v);
                out.push(Event::TrackFileValue {
                    name: name.clone(),
                    value: v,
                });
            }
        }
        out
    }

    /// The initial value of every file.
    pub fn initial(&mut self) -> Vec<Event> {
        self.last.clear();
        self.changes()
    }

    /// Drains the inotify queue and reports changed values.
    pub fn on_readable(&mut self) -> Vec<Event> {
        let mut buf = [0u8; 4096];
        loop {
            // SAFETY: reading into our buffer.
            let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                break;
            }
        }
        self.changes()
    }
}

impl AsRawFd for FileTracker {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_initial_values_and_changes() {
        let dir = std::env::temp_dir().join(format!("krs-tf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = |name: &str, file: &Path, init: Option<(i64, bool)>| TrackFile {
            name: name.into(),
            span: Default::default(),
            file: file.display().to_string(),
            weight: 1,
            reverse: false,
            init_file: init,
        };
        let a = dir.join("a");
        let b = dir.join("b");
        std::fs::write(&a, "7\n").unwrap();
        let _ = std::fs::remove_file(&b);
        let mut t = FileTracker::new(&[f("A", &a, Some((3, false))), f("B", &b, Some((5, false)))])
            .unwrap();
        // init_file without overwrite keeps A, creates B.
        let init = t.initial();
        assert!(init.contains(&Event::TrackFileValue {
            name: "A".into(),
            value: Some(7)
        }));
        assert!(init.contains(&Event::TrackFileValue {
            name: "B".into(),
            value: Some(5)
        }));
        assert!(t.on_readable().is_empty(), "nothing changed");
        std::fs::write(&a, "-12 trailing words\n").unwrap();
        let mut pfd = libc::pollfd {
            fd: t.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        assert_eq!(
            unsafe { libc::poll(&mut pfd, 1, 1000) },
            1,
            "inotify saw the write"
        );
        assert_eq!(
            t.on_readable(),
            vec![Event::TrackFileValue {
                name: "A".into(),
                value: Some(-12)
            }]
        );
        std::fs::write(&a, "not a number").unwrap();
        std::fs::remove_file(&b).unwrap();
        unsafe { libc::poll(&mut pfd, 1, 1000) };
        let ch = t.on_readable();
        assert!(ch.contains(&Event::TrackFileValue {
            name: "A".into(),
            value: None
        }));
        assert!(ch.contains(&Event::TrackFileValue {
            name: "B".into(),
            value: None
        }));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
