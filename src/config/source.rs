//! Reading configuration files: the one place the configuration language touches a file's
//! contents (the main file and every include).
//!
//! A file is opened non-blocking (so a FIFO, or a symlink to one, never blocks `open`),
//! checked on the open descriptor to be a regular, non-executable file (as keepalived
//! 2.2.7 refuses anything else: "not a regular non-executable file"), and read line by
//! line with two bounds: no line is held beyond [`MAX_LINE_BYTES`] (the rest of a longer
//! line is skipped, so a 10 MB token costs no memory), and all the files of one load
//! together are read up to a byte budget ([`MAX_CONFIG_BYTES`]).
//!
//! (`libc` appears only for the `O_NONBLOCK` and `ENOTDIR` constants: no call is made.)

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Longest line kept (keepalived itself splits lines at 1 KiB).
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// Most bytes of configuration text one load reads, all files together.
pub const MAX_CONFIG_BYTES: u64 = 32 << 20;

/// Why a file could not be used.
#[derive(Debug)]
pub enum OpenError {
    /// It does not exist (or a directory on its path does not).
    Missing(io::Error),
    /// It exists but is not a regular file: says what it is ("a FIFO", ...).
    NotRegular(&'static str),
    /// A regular file with an execute bit set.
    Executable,
    /// It exists but cannot be opened (permissions, a symlink loop, ...).
    Unreadable(io::Error),
}

/// An open configuration file.
pub struct Source {
    reader: BufReader<File>,
}

/// One physical line read into the caller's buffer.
pub struct LineRead {
    /// Length of the whole line (without its newline); more than the buffer holds when
    /// the line was longer than [`MAX_LINE_BYTES`].
    pub len: usize,
    /// The byte budget ran out in this line: it is incomplete and nothing more is read.
    pub out_of_budget: bool,
}

impl LineRead {
    pub fn too_long(&self) -> bool {
        self.len > MAX_LINE_BYTES
    }
}

fn what_it_is(ft: std::fs::FileType) -> Option<&'static str> {
    Some(if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_file() {
        return None;
    } else {
        "a special file"
    })
}

/// Opens `path` for reading as a configuration file.
pub fn open(path: &Path) -> Result<Source, OpenError> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            _ if e.kind() == io::ErrorKind::NotFound => OpenError::Missing(e),
            Some(libc::ENOTDIR) => OpenError::Missing(e),
            // open(2) on a socket.
            Some(libc::ENXIO) => OpenError::NotRegular("a socket"),
            _ => OpenError::Unreadable(e),
        })?;
    let meta = file.metadata().map_err(OpenError::Unreadable)?;
    if let Some(what) = what_it_is(meta.file_type()) {
        return Err(OpenError::NotRegular(what));
    }
    if meta.permissions().mode() & 0o111 != 0 {
        return Err(OpenError::Executable);
    }
    Ok(Source {
        reader: BufReader::with_capacity(64 << 10, file),
    })
}

impl Source {
    /// Reads the next line (without its `\n`) into `buf` (cleared first), keeping at most
    /// [`MAX_LINE_BYTES`] of it; `budget` is the number of bytes still allowed to be read
    /// and is decreased by what is consumed. `Ok(None)` at the end of the file.
    pub fn next_line(
        &mut self,
        buf: &mut Vec<u8>,
        budget: &mut u64,
    ) -> io::Result<Option<LineRead>> {
        buf.clear();
        let mut len = 0usize;
        let mut any = false;
        loop {
            let avail = match self.reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                return Ok(any.then_some(LineRead {
                    len,
                    out_of_budget: false,
                }));
            }
            any = true;
            let (chunk, newline) = match avail.iter().position(|&c| c == b'\n') {
                Some(i) => (&avail[..i], true),
                None => (avail, false),
            };
            let want = chunk.len() + usize::from(newline);
            let allowed = usize::try_from(*budget).unwrap_or(usize::MAX);
            if want > allowed {
                let keep = allowed.min(chunk.len());
                let room = MAX_LINE_BYTES.saturating_sub(buf.len());
                buf.extend_from_slice(&chunk[..keep.min(room)]);
                len += keep;
                self.reader.consume(allowed);
                *budget = 0;
                return Ok(Some(LineRead {
                    len,
                    out_of_budget: true,
                }));
            }
            let room = MAX_LINE_BYTES.saturating_sub(buf.len());
            buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            len += chunk.len();
            self.reader.consume(want);
            *budget -= want as u64;
            if newline {
                return Ok(Some(LineRead {
                    len,
                    out_of_budget: false,
                }));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    struct TempDir(std::path::PathBuf);

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn tempdir(tag: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("kars-source-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("temp dir");
        TempDir(d)
    }

    fn lines(path: &Path, budget: &mut u64) -> Vec<(String, usize, bool)> {
        let mut src = open(path).expect("open");
        let mut buf = Vec::new();
        let mut out = Vec::new();
        while let Some(l) = src.next_line(&mut buf, budget).expect("read") {
            out.push((
                String::from_utf8_lossy(&buf).into_owned(),
                l.len,
                l.out_of_budget,
            ));
            if l.out_of_budget {
                break;
            }
        }
        out
    }

    #[test]
    fn lines_are_split_and_bounded() {
        let d = tempdir("lines");
        let p = d.0.join("a.conf");
        let mut f = std::fs::File::create(&p).expect("create");
        let long = "x".repeat(MAX_LINE_BYTES + 10);
        write!(f, "a b\n{long}\nlast").expect("write");
        drop(f);
        let mut budget = MAX_CONFIG_BYTES;
        let got = lines(&p, &mut budget);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], ("a b".to_string(), 3, false));
        assert_eq!(got[1].0.len(), MAX_LINE_BYTES);
        assert_eq!(got[1].1, MAX_LINE_BYTES + 10);
        assert_eq!(got[2], ("last".to_string(), 4, false));
        assert_eq!(
            budget,
            MAX_CONFIG_BYTES - (4 + MAX_LINE_BYTES as u64 + 11 + 4)
        );
        // A budget that runs out in the second line.
        let mut budget = 6;
        let got = lines(&p, &mut budget);
        assert_eq!(got, [("a b".into(), 3, false), ("xx".into(), 2, true)]);
        assert_eq!(budget, 0);
    }

    #[test]
    fn only_regular_non_executable_files_open() {
        let d = tempdir("kinds");
        let fifo = d.0.join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(made, "mkfifo");
        // Opening a FIFO without a writer returns at once.
        assert!(matches!(open(&fifo), Err(OpenError::NotRegular("a FIFO"))));
        assert!(matches!(
            open(Path::new("/dev/zero")),
            Err(OpenError::NotRegular("a character device"))
        ));
        assert!(matches!(
            open(&d.0),
            Err(OpenError::NotRegular("a directory"))
        ));
        let link = d.0.join("link");
        std::os::unix::fs::symlink(&fifo, &link).expect("symlink");
        assert!(matches!(open(&link), Err(OpenError::NotRegular("a FIFO"))));
        let exe = d.0.join("exe.conf");
        std::fs::write(&exe, "x\n").expect("write");
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o654)).expect("chmod");
        assert!(matches!(open(&exe), Err(OpenError::Executable)));
        assert!(matches!(
            open(&d.0.join("none")),
            Err(OpenError::Missing(_))
        ));
        assert!(matches!(
            open(&exe.join("below")),
            Err(OpenError::Missing(_))
        ));
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        assert!(open(&exe).is_ok());
    }
}
