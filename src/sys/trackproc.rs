//! `vrrp_track_process`: counts the processes matching each tracker by scanning /proc, and
//! reports changed counts as `Event::TrackProcessCount`. Scans are triggered by the kernel's
//! process-event connector (fork/exec/exit, NETLINK_CONNECTOR) when it is available, and
//! otherwise run every second from the reactor's timer.

use crate::config::model::TrackProcess;
use crate::event::Event;
use std::collections::BTreeMap;
use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// How often to scan when the connector is not available.
pub const POLL_EVERY: Duration = Duration::from_secs(1);

const NETLINK_CONNECTOR: i32 = 11;
const CN_IDX_PROC: u32 = 1;
const CN_VAL_PROC: u32 = 1;
const PROC_CN_MCAST_LISTEN: u32 = 1;

/// One process as /proc shows it.
#[derive(Clone, Debug, Default)]
pub struct ProcInfo {
    pub comm: String,
    pub argv: Vec<String>,
}

/// Does `p` match `spec` (`process NAME [PARAMS...]`, `param_match exact|partial|initial`;
/// a NAME with a '/' or `full_command` is compared with argv[0], else with the comm or the
/// basename of argv[0])?
pub fn matches(spec: &TrackProcess, p: &ProcInfo) -> bool {
    let Some((name, params)) = spec.process.split_first() else {
        return false;
    };
    let argv0 = p.argv.first().map(String::as_str).unwrap_or("");
    let name_ok = if name.contains('/') || spec.full_command {
        argv0 == name
    } else {
        // comm is truncated to 15 bytes by the kernel.
        let short: String = name.chars().take(15).collect();
        p.comm == short || argv0.rsplit('/').next() == Some(name.as_str())
    };
    if !name_ok {
        return false;
    }
    if params.is_empty() {
        return true;
    }
    let args = p.argv.get(1..).unwrap_or(&[]);
    match spec.param_match.as_deref() {
        Some("initial") => args.len() >= params.len() && args[..params.len()] == params[..],
        Some("partial") => args.join(" ").contains(&params.join(" ")),
        _ => args == params,
    }
}

fn read_procs() -> Vec<ProcInfo> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .map(|s| s.trim_end_matches('\n').to_string())
            .unwrap_or_default();
        let argv: Vec<String> = std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|b| {
                b.split(|&c| c == 0)
                    .filter(|s| !s.is_empty())
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect()
            })
            .unwrap_or_default();
        if comm.is_empty() && argv.is_empty() {
            continue; // gone meanwhile
        }
        out.push(ProcInfo { comm, argv });
    }
    out
}

pub struct ProcTracker {
    specs: Vec<TrackProcess>,
    last: BTreeMap<String, u32>,
    conn: Option<OwnedFd>,
}

fn open_connector() -> io::Result<OwnedFd> {
    // SAFETY: plain syscall, checked.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            NETLINK_CONNECTOR,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fresh fd we own.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut sa: libc::sockaddr_nl = unsafe { zeroed() };
    sa.nl_family = libc::AF_NETLINK as u16;
    sa.nl_groups = CN_IDX_PROC;
    // SAFETY: valid address.
    if unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&sa as *const libc::sockaddr_nl).cast(),
            size_of::<libc::sockaddr_nl>() as u32,
        )
    } < 0
    {
        return Err(io::Error::last_os_error());
    }
    // nlmsghdr (16) + cn_msg (20) + op (4)
    let mut m = Vec::with_capacity(40);
    m.extend_from_slice(&40u32.to_ne_bytes());
    m.extend_from_slice(&(libc::NLMSG_DONE as u16).to_ne_bytes());
    m.extend_from_slice(&0u16.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    m.extend_from_slice(&std::process::id().to_ne_bytes());
    m.extend_from_slice(&CN_IDX_PROC.to_ne_bytes());
    m.extend_from_slice(&CN_VAL_PROC.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes()); // seq
    m.extend_from_slice(&0u32.to_ne_bytes()); // ack
    m.extend_from_slice(&4u16.to_ne_bytes()); // len
    m.extend_from_slice(&0u16.to_ne_bytes()); // flags
    m.extend_from_slice(&PROC_CN_MCAST_LISTEN.to_ne_bytes());
    let mut to: libc::sockaddr_nl = unsafe { zeroed() };
    to.nl_family = libc::AF_NETLINK as u16;
    // SAFETY: buffer and address valid for the call.
    if unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            m.as_ptr().cast(),
            m.len(),
            0,
            (&to as *const libc::sockaddr_nl).cast(),
            size_of::<libc::sockaddr_nl>() as u32,
        )
    } < 0
    {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

impl ProcTracker {
    pub fn new(specs: &[TrackProcess]) -> ProcTracker {
        let conn = if specs.is_empty() {
            None
        } else {
            match open_connector() {
                Ok(fd) => Some(fd),
                Err(e) => {
                    log::warn!(
                        "vrrp_track_process: process events unavailable ({e}); scanning every {POLL_EVERY:?}"
                    );
                    None
                }
            }
        };
        ProcTracker {
            specs: specs.to_vec(),
            last: BTreeMap::new(),
            conn,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    /// True when scans must be timed (no connector).
    pub fn polling(&self) -> bool {
        !self.specs.is_empty() && self.conn.is_none()
    }

    pub fn connector_fd(&self) -> Option<RawFd> {
        self.conn.as_ref().map(|f| f.as_raw_fd())
    }

    /// Drains the connector; true when something happened (a rescan is due).
    pub fn drain(&mut self) -> bool {
        let Some(fd) = &self.conn else {
            return false;
        };
        let mut buf = [0u8; 8192];
        let mut any = false;
        loop {
            // SAFETY: reading into our buffer.
            let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.raw_os_error() == Some(libc::ENOBUFS) {
                    any = true;
                    continue;
                }
                break;
            }
            if n == 0 {
                break;
            }
            any = true;
        }
        any
    }

    /// Counts matches; events for changed counts (all of them on the first scan).
    pub fn scan(&mut self) -> Vec<Event> {
        if self.specs.is_empty() {
            return Vec::new();
        }
        let procs = read_procs();
        let mut out = Vec::new();
        for s in &self.specs {
            let count = procs.iter().filter(|p| matches(s, p)).count() as u32;
            if self.last.get(&s.name) != Some(&count) {
                self.last.insert(s.name.clone(), count);
                out.push(Event::TrackProcessCount {
                    name: s.name.clone(),
                    count,
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(process: &[&str], pm: Option<&str>) -> TrackProcess {
        TrackProcess {
            name: "t".into(),
            span: Default::default(),
            process: process.iter().map(|s| s.to_string()).collect(),
            param_match: pm.map(str::to_string),
            weight: 0,
            reverse: false,
            quorum: 1,
            quorum_max: None,
            delay: Duration::ZERO,
            fork_delay: None,
            terminate_delay: None,
            full_command: false,
        }
    }

    fn p(comm: &str, argv: &[&str]) -> ProcInfo {
        ProcInfo {
            comm: comm.into(),
            argv: argv.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn matching_by_name_path_and_parameters() {
        let nginx = p("nginx", &["/usr/sbin/nginx", "-g", "daemon off;"]);
        assert!(matches(&spec(&["nginx"], None), &nginx));
        assert!(matches(&spec(&["/usr/sbin/nginx"], None), &nginx));
        assert!(!matches(&spec(&["/sbin/nginx"], None), &nginx));
        assert!(matches(
            &spec(&["nginx", "-g", "daemon off;"], None),
            &nginx
        ));
        assert!(!matches(&spec(&["nginx", "-g"], None), &nginx));
        assert!(matches(&spec(&["nginx", "-g"], Some("initial")), &nginx));
        assert!(matches(
            &spec(&["nginx", "daemon"], Some("partial")),
            &nginx
        ));
        assert!(!matches(&spec(&["apache2"], None), &nginx));
        // A long name is matched against the truncated comm.
        let long = p("averyveryveryl", &[]);
        assert!(!matches(&spec(&["averyveryverylongname"], None), &long));
        let long = p("averyveryverylo", &[]);
        assert!(matches(&spec(&["averyveryverylongname"], None), &long));
    }

    #[test]
    fn scan_counts_a_real_process() {
        let mut child = std::process::Command::new("/bin/sleep")
            .arg("31.4159")
            .spawn()
            .unwrap();
        // Wait until the child has exec'd (before that it is a copy of this test).
        for _ in 0..500 {
            let comm = std::fs::read_to_string(format!("/proc/{}/comm", child.id()));
            if comm.is_ok_and(|c| c.trim() == "sleep") {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let mut t = ProcTracker::new(&[spec(&["sleep", "31.4159"], None)]);
        let ev = t.scan();
        assert_eq!(
            ev,
            vec![Event::TrackProcessCount {
                name: "t".into(),
                count: 1
            }]
        );
        assert!(t.scan().is_empty(), "no change, no event");
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(
            t.scan(),
            vec![Event::TrackProcessCount {
                name: "t".into(),
                count: 0
            }]
        );
    }
}
