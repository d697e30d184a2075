//! A small RFC 3164 syslog client over the local datagram socket (`/dev/log`).
//!
//! Each record is one datagram `<PRI>Mmm dd hh:mm:ss IDENT[PID]: MESSAGE`, as the C
//! library's syslog(3) sends it. A send that fails (syslogd restarted) reconnects once;
//! if that fails too the line goes to stderr, so a message is never silently lost and
//! logging never takes the daemon down.

use super::clock::LocalTime;
use std::io::{self, Write};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The standard local syslog socket.
pub const DEV_LOG: &str = "/dev/log";

/// Longest message body sent in one datagram; longer ones are cut (syslogd limits vary,
/// 8 KiB is accepted by rsyslog and journald).
const MAX_BODY: usize = 8192;

/// Syslog severities (RFC 5424 §6.2.1 numbering, the same in RFC 3164).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Err = 3,
    Warning = 4,
    Info = 6,
    Debug = 7,
}

impl From<log::Level> for Severity {
    fn from(l: log::Level) -> Self {
        match l {
            log::Level::Error => Severity::Err,
            log::Level::Warn => Severity::Warning,
            log::Level::Info => Severity::Info,
            log::Level::Debug | log::Level::Trace => Severity::Debug,
        }
    }
}

/// One formatted record, without the transport.
pub fn format_record(
    facility_code: u8,
    severity: Severity,
    time: &str,
    ident: &str,
    pid: u32,
    msg: &str,
) -> String {
    let pri = u16::from(facility_code) * 8 + severity as u16;
    let mut body: String = msg
        .chars()
        .map(|c| if c == '\n' { ' ' } else { c })
        .collect();
    if body.len() > MAX_BODY {
        let mut cut = MAX_BODY;
        while !body.is_char_boundary(cut) {
            cut -= 1;
        }
        body.truncate(cut);
    }
    format!("<{pri}>{time} {ident}[{pid}]: {body}")
}

/// A connected syslog client.
pub struct Syslog {
    path: PathBuf,
    ident: String,
    facility_code: u8,
    sock: Mutex<Option<UnixDatagram>>,
}

impl Syslog {
    /// Connects to `path` (normally [`DEV_LOG`]); fails if nothing listens there.
    pub fn connect(path: &Path, ident: &str, facility_code: u8) -> io::Result<Syslog> {
        let sock = Self::open(path)?;
        Ok(Syslog {
            path: path.to_path_buf(),
            ident: ident.to_string(),
            facility_code,
            sock: Mutex::new(Some(sock)),
        })
    }

    fn open(path: &Path) -> io::Result<UnixDatagram> {
        let s = UnixDatagram::unbound()?;
        s.connect(path)?;
        s.set_nonblocking(true)?;
        Ok(s)
    }

    /// Sends one record per line of `msg`. Errors fall back to stderr.
    pub fn send(&self, severity: Severity, msg: &str) {
        self.send_at(severity, LocalTime::now(), msg);
    }

    /// [`Syslog::send`] for a record made at `at` (a line held back and sent later).
    pub fn send_at(&self, severity: Severity, at: Option<LocalTime>, msg: &str) {
        let time = at.map(|t| t.rfc3164()).unwrap_or_default();
        let mut guard = match self.sock.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        // Read at each send: the daemon may have forked since connecting.
        let pid = std::process::id();
        for line in msg.lines() {
            let rec = format_record(self.facility_code, severity, &time, &self.ident, pid, line);
            let mut sent = guard
                .as_ref()
                .map(|s| s.send(rec.as_bytes()).is_ok())
                .unwrap_or(false);
            if !sent {
                // syslogd may have restarted: reconnect once.
                *guard = Self::open(&self.path).ok();
                sent = guard
                    .as_ref()
                    .map(|s| s.send(rec.as_bytes()).is_ok())
                    .unwrap_or(false);
            }
            if !sent {
                let _ = writeln!(io::stderr(), "{}: {line}", self.ident);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_format() {
        assert_eq!(
            format_record(3, Severity::Info, "Nov 21 23:52:51", "Keepalived", 42, "hi"),
            "<30>Nov 21 23:52:51 Keepalived[42]: hi"
        );
        // local7 (23) err
        assert!(format_record(23, Severity::Err, "t", "k", 1, "x").starts_with("<187>t "));
        let long = "é".repeat(MAX_BODY);
        let r = format_record(1, Severity::Debug, "t", "k", 1, &long);
        assert!(r.len() <= MAX_BODY + 20);
    }

    #[test]
    fn sends_one_datagram_per_line() {
        let dir = std::env::temp_dir().join(format!("krs-syslog-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log");
        let server = UnixDatagram::bind(&path).unwrap();
        let client = Syslog::connect(&path, "Keepalived", 16).unwrap();
        client.send(Severity::Warning, "first\nsecond");
        let mut buf = [0u8; 512];
        let n = server.recv(&mut buf).unwrap();
        let a = String::from_utf8_lossy(&buf[..n]).to_string();
        let n = server.recv(&mut buf).unwrap();
        let b = String::from_utf8_lossy(&buf[..n]).to_string();
        assert!(a.starts_with("<132>"), "{a}");
        assert!(
            a.ends_with(&format!(" Keepalived[{}]: first", std::process::id())),
            "{a}"
        );
        assert!(b.ends_with(": second"), "{b}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn absent_socket_is_an_error_not_a_panic() {
        assert!(Syslog::connect(Path::new("/nonexistent/dev/log"), "k", 3).is_err());
    }
}
