//! The notify FIFOs' writing side. Each FIFO is opened once, read-write and non-blocking,
//! and kept open for the life of the daemon (as keepalived does): the open never waits for
//! a reader, a reader never sees end-of-file between two lines, and a reader that opens
//! the FIFO later still gets what is written from then on. The FIFO is never created here
//! and never followed through a symlink (O_NOFOLLOW); what is not a FIFO is refused. A
//! line that does not fit (no reader is draining a full pipe) is dropped, counted, and
//! logged at most once a minute per FIFO — the loop never blocks on a slow reader.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

const LOG_EVERY: Duration = Duration::from_secs(60);

struct Open {
    fd: OwnedFd,
    dropped: u64,
    last_log: Option<Instant>,
}

/// Every notify FIFO the daemon writes to, by path.
#[derive(Default)]
pub struct FifoWriter {
    open: BTreeMap<String, Open>,
}

fn open_fifo(path: &str) -> Result<OwnedFd, String> {
    let c = CString::new(path).map_err(|_| "path contains a NUL byte".to_string())?;
    // SAFETY: plain syscall on a NUL-terminated path.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOFOLLOW,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error().to_string());
    }
    // SAFETY: a fresh fd we own.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: zeroed plain C struct filled by fstat.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid fd and buffer.
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } != 0 {
        return Err(std::io::Error::last_os_error().to_string());
    }
    if st.st_mode & libc::S_IFMT != libc::S_IFIFO {
        return Err("not a FIFO".into());
    }
    Ok(fd)
}

impl FifoWriter {
    /// Writes one line (with its newline) to the FIFO at `path`, opening it on first use.
    pub fn write(&mut self, path: &str, line: &str) {
        if !self.open.contains_key(path) {
            match open_fifo(path) {
                Ok(fd) => {
                    self.open.insert(
                        path.to_string(),
                        Open {
                            fd,
                            dropped: 0,
                            last_log: None,
                        },
                    );
                }
                Err(e) => {
                    log::warn!("notify fifo {path}: {e}");
                    return;
                }
            }
        }
        let Some(o) = self.open.get_mut(path) else {
            return;
        };
        let bytes = line.as_bytes();
        // SAFETY: valid fd and buffer. Lines are shorter than PIPE_BUF, so a write is
        // all or nothing.
        let n = unsafe { libc::write(o.fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len()) };
        if n == bytes.len() as isize {
            return;
        }
        let err = std::io::Error::last_os_error();
        o.dropped += 1;
        let due = o.last_log.map_or(true, |t| t.elapsed() >= LOG_EVERY);
        if due {
            o.last_log = Some(Instant::now());
            log::warn!(
                "notify fifo {path}: line dropped ({err}); {} dropped so far",
                o.dropped
            );
        }
        if err.raw_os_error() != Some(libc::EAGAIN) {
            // Something else went wrong: reopen on the next line.
            self.open.remove(path);
        }
    }

    /// Bytes written to the FIFOs and not read yet by any reader.
    pub fn unread(&self) -> usize {
        let mut total = 0;
        for o in self.open.values() {
            let mut n: libc::c_int = 0;
            // SAFETY: FIONREAD writes one int.
            if unsafe { libc::ioctl(o.fd.as_raw_fd(), libc::FIONREAD, &mut n) } == 0 {
                total += n.max(0) as usize;
            }
        }
        total
    }

    /// Lines dropped on `path` so far.
    pub fn dropped(&self, path: &str) -> u64 {
        self.open.get(path).map_or(0, |o| o.dropped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn tmp(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("krs-fw-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn lines_reach_a_reader_that_opens_later_and_no_eof_between_lines() {
        let d = tmp("a");
        let p = d.join("f");
        nix::unistd::mkfifo(&p, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let path = p.to_str().unwrap();
        let mut w = FifoWriter::default();
        w.write(path, "INSTANCE \"VI_1\" BACKUP 100\n"); // no reader yet: kept in the pipe
        let mut r = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags_nonblock()
            .open(&p)
            .unwrap();
        w.write(path, "INSTANCE \"VI_1\" MASTER 100\n");
        let mut got = String::new();
        let mut buf = [0u8; 256];
        let n = r.read(&mut buf).unwrap();
        got.push_str(std::str::from_utf8(&buf[..n]).unwrap());
        assert_eq!(
            got,
            "INSTANCE \"VI_1\" BACKUP 100\nINSTANCE \"VI_1\" MASTER 100\n"
        );
        // Our own read-write descriptor keeps the FIFO open: no EOF, just nothing yet.
        assert_eq!(
            r.read(&mut buf).unwrap_err().kind(),
            std::io::ErrorKind::WouldBlock
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_symlink_or_a_regular_file_is_never_written() {
        let d = tmp("b");
        let victim = d.join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let link = d.join("link");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let mut w = FifoWriter::default();
        w.write(link.to_str().unwrap(), "x\n");
        w.write(victim.to_str().unwrap(), "x\n");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_full_pipe_drops_lines_without_blocking() {
        let d = tmp("c");
        let p = d.join("f");
        nix::unistd::mkfifo(&p, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let path = p.to_str().unwrap();
        let mut w = FifoWriter::default();
        let line = format!("{}\n", "x".repeat(100));
        for _ in 0..2000 {
            w.write(path, &line); // 200 KB into a 64 KB pipe nobody reads
        }
        assert!(w.dropped(path) > 0);
        std::fs::remove_dir_all(&d).unwrap();
    }

    trait NonBlock {
        fn custom_flags_nonblock(&mut self) -> &mut Self;
    }
    impl NonBlock for std::fs::OpenOptions {
        fn custom_flags_nonblock(&mut self) -> &mut Self {
            use std::os::unix::fs::OpenOptionsExt;
            self.custom_flags(libc::O_NONBLOCK)
        }
    }
}
