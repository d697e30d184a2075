//! Files the daemon (root) writes in places others can write to — the status dumps in
//! `$TMPDIR` (default /tmp), the pid file, `track_file` initial values —
//! written so that nothing planted there by another user is ever followed or written
//! into (the CVE-2018-19044 / -19046 class of keepalived before 2.0.11).
//!
//! A whole file is replaced, never rewritten in place: a new file with an unguessable name
//! is created next to it with `O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC` (so it is ours and
//! fresh even if someone raced us), filled, given its mode with `fchmod`, and renamed over
//! the final name. `rename` replaces the directory entry itself: a symlink there is
//! replaced, never followed, and another user's file there is unlinked, never written to.
//! In a sticky directory (/tmp) root may replace another user's entry; a non-root daemon
//! gets EPERM and says so. keepalived ≥ 2.0.11 does the same for its dumps (mkstemp in
//! `$TMPDIR`, then rename).

use std::ffi::CString;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::FromRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Temp names tried before giving up (each collision is someone else's file).
const ATTEMPTS: u32 = 16;

/// 12 letters and digits from the kernel's random pool (the pid and a counter when it
/// cannot give any: the name then only needs to be new, which `O_EXCL` checks).
fn random_suffix(attempt: u32) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut buf = [0u8; 12];
    // SAFETY: getrandom writes at most buf.len() bytes into buf.
    let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), libc::GRND_NONBLOCK) };
    if n != buf.len() as isize {
        return format!("{}x{attempt}", std::process::id());
    }
    buf.iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// Creates a new file at `path` (never an existing one, never through a symlink), mode
/// `mode` whatever the umask.
fn create_new(path: &Path, mode: u32) -> io::Result<File> {
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"))?;
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: open with a valid C string; the result is checked.
    let fd = unsafe { libc::open(c.as_ptr(), flags, 0o600 as libc::c_uint) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor we own.
    let f = unsafe { File::from_raw_fd(fd) };
    // SAFETY: fchmod on our descriptor.
    if unsafe { libc::fchmod(fd, mode as libc::mode_t) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(f)
}

/// Replaces the file at `path` with `bytes`, mode `mode`: temp file + rename in the same
/// directory (see the module comment). On error nothing is left behind.
pub fn replace(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let mut last = None;
    for attempt in 0..ATTEMPTS {
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(".");
        tmp_name.push(random_suffix(attempt));
        let tmp = dir.join(tmp_name);
        let mut f = match create_new(&tmp, mode) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                last = Some(e);
                continue;
            }
            Err(e) => return Err(e),
        };
        let done = f
            .write_all(bytes)
            .and_then(|()| std::fs::rename(&tmp, path));
        if done.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        return done;
    }
    Err(last.unwrap_or_else(|| io::Error::other("no temporary name available")))
}

/// Where the dumps go: `--dump-dir`, else `$TMPDIR` (as keepalived), else /tmp. A relative
/// directory is taken from the current directory at start-up (the daemon later runs in /).
pub fn dump_dir(option: Option<&Path>) -> PathBuf {
    let dir = match option {
        Some(d) => d.to_path_buf(),
        None => match std::env::var_os("TMPDIR").filter(|v| !v.is_empty()) {
            Some(t) => PathBuf::from(t),
            None => PathBuf::from("/tmp"),
        },
    };
    if dir.is_relative() {
        if let Ok(cwd) = std::env::current_dir() {
            return cwd.join(dir);
        }
    }
    dir
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("krs-safefile-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn replace_never_follows_a_planted_symlink() {
        let d = scratch("link");
        let victim = d.join("victim");
        std::fs::write(&victim, "precious\n").unwrap();
        let target = d.join("keepalived.data");
        std::os::unix::fs::symlink(&victim, &target).unwrap();
        replace(&target, b"dump\n", 0o600).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
        let meta = std::fs::symlink_metadata(&target).unwrap();
        assert!(
            meta.file_type().is_file(),
            "the symlink itself was replaced"
        );
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "dump\n");
        // Nothing else left in the directory.
        let mut names: Vec<String> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["keepalived.data", "victim"]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn replace_sets_the_mode_whatever_the_umask_and_cleans_up_on_error() {
        let d = scratch("mode");
        let p = d.join("f");
        replace(&p, b"a", 0o644).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        // A directory at the final name: rename fails, the temp file is removed.
        let blocked = d.join("dir");
        std::fs::create_dir(&blocked).unwrap();
        std::fs::write(blocked.join("x"), "x").unwrap();
        assert!(replace(&blocked, b"a", 0o600).is_err());
        let n = std::fs::read_dir(&d).unwrap().count();
        assert_eq!(n, 2, "only f and dir remain");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn dump_dir_prefers_the_option() {
        assert_eq!(dump_dir(Some(Path::new("/x"))), PathBuf::from("/x"));
    }
}
