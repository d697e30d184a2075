//! The health checkers end to end on loopback: the daemon (the real Linux world) checks a
//! TCP listener this test starts on 127.0.0.1 and a MISC_CHECK script, logs keepalived's
//! lines, sets `misc_dynamic` weights, and when the listener goes away takes the server
//! down after `retry` + 1 failures and runs `notify_down` with its configured arguments.
//! No timing is asserted (each wait is bounded; only the order and content of what
//! happens).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_keepalived-rs");

/// A scratch directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        TempDir::new_tagged("tcp")
    }
    fn new_tagged(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("krs-runtime-chk-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("mkdir");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        TempDir(p)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The daemon, stopped (TERM, then KILL) on every exit path.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        // SAFETY: signalling the child we started.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The daemon on `conf` (pid file and dumps in `d`), and its log lines as they come.
fn start_daemon(d: &TempDir, conf: &std::path::Path) -> (Daemon, mpsc::Receiver<String>) {
    let child = Command::new(BIN)
        .args(["-n", "-l", "-D", "--no-control-socket", "-f"])
        .arg(conf)
        .arg("-p")
        .arg(d.path("k.pid"))
        .arg("--dump-dir")
        .arg(&d.0)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the daemon");
    let mut daemon = Daemon(child);
    let stderr = daemon.0.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    (daemon, rx)
}

/// A listener accepting (and closing) connections until `stop` is set; then it is gone
/// and connections are refused.
fn listener(stop: Arc<AtomicBool>) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        while !stop.load(Ordering::SeqCst) {
            if let Ok((c, _)) = l.accept() {
                drop(c);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        drop(l);
    });
    port
}

fn script(path: &PathBuf, body: &str) {
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Waits (bounded) for a log line containing `what`; `seen` keeps every line read.
fn wait_for(rx: &mpsc::Receiver<String>, seen: &mut Vec<String>, what: &str) {
    wait_after(rx, seen, 0, what);
}

/// Waits (bounded) for a line containing `what` at index `from` or later in `seen`;
/// returns its index.
fn wait_after(
    rx: &mpsc::Receiver<String>,
    seen: &mut Vec<String>,
    from: usize,
    what: &str,
) -> usize {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Some(k) = seen.iter().skip(from).position(|l| l.contains(what)) {
            return from + k;
        }
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(100)) {
            seen.push(l);
        }
    }
    panic!("no line with {what:?} in:\n{}", seen.join("\n"));
}

#[test]
fn tcp_and_misc_checkers_on_loopback() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        assert!(std::env::var_os("CI").is_none(), "CI runs as root");
        eprintln!("needs root (the daemon's pid file and scripts' identity): skipped");
        return;
    }
    let d = TempDir::new();
    let stop = Arc::new(AtomicBool::new(false));
    let port = listener(stop.clone());
    let misc = d.path("weight.sh");
    script(&misc, "exit 7");
    let notify = d.path("notify.sh");
    let out = d.path("notified");
    script(&notify, &format!("echo \"$@\" >> {}", out.display()));
    let conf = d.path("k.conf");
    std::fs::write(
        &conf,
        format!(
            "global_defs {{\n router_id krs-test\n script_user root\n enable_script_security\n}}\n\
             virtual_server 127.0.0.1 9 {{\n protocol TCP\n lvs_method NAT\n lvs_sched rr\n delay_loop 1\n\
             real_server 127.0.0.1 {port} {{\n  notify_down \"{} DOWN web1\"\n  TCP_CHECK {{\n   connect_timeout 1\n   retry 1\n   delay_before_retry 1\n   warmup 0\n  }}\n }}\n\
             real_server 127.0.0.2 {port} {{\n  MISC_CHECK {{\n   misc_path {}\n   misc_dynamic\n   warmup 0\n  }}\n }}\n}}\n",
            notify.display(),
            misc.display()
        ),
    )
    .unwrap();
    let (daemon, rx) = start_daemon(&d, &conf);
    let rs = format!("[127.0.0.1]:tcp:{port}");
    let mut seen = Vec::new();
    wait_for(&rx, &mut seen, "Activating healthchecker for service");
    wait_for(&rx, &mut seen, &format!("TCP connection to {rs} success."));
    wait_for(
        &rx,
        &mut seen,
        &format!("Changing weight from 1 to 5 for active service [127.0.0.2]:tcp:{port} of VS [127.0.0.1]:tcp:9"),
    );
    stop.store(true, Ordering::SeqCst);
    wait_for(
        &rx,
        &mut seen,
        &format!("TCP_CHECK on service {rs} failed after 1 retries."),
    );
    wait_for(
        &rx,
        &mut seen,
        &format!("Removing service {rs} from VS [127.0.0.1]:tcp:9"),
    );
    // notify_down ran with the configured arguments, once.
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let t = std::fs::read_to_string(&out).unwrap_or_default();
        if !t.is_empty() || Instant::now() > deadline {
            break t;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(text, "DOWN web1\n", "{}", seen.join("\n"));
    // SIGUSR1 writes keepalived's checker dump beside keepalived.data.
    // SAFETY: signalling the child we started.
    unsafe { libc::kill(daemon.0.id() as i32, libc::SIGUSR1) };
    let data = d.path("keepalived_check.data");
    let deadline = Instant::now() + Duration::from_secs(10);
    let dump = loop {
        let t = std::fs::read_to_string(&data).unwrap_or_default();
        if !t.is_empty() || Instant::now() > deadline {
            break t;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let head =
        format!(" [127.0.0.1]:tcp:9 -> {rs}\n   Enabled = yes\n   Up = no\n   Has run = yes\n");
    assert!(dump.contains(&head), "{dump}");
    assert!(
        dump.contains("   Keepalive method = MISC_CHECK\n"),
        "{dump}"
    );
    assert!(d.path("keepalived.data").exists());
    drop(daemon);
}

/// A free TCP port on 127.0.0.1 (bound then released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Python's http.server, stopped on every exit path.
struct PyServer(Child);

impl Drop for PyServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn http_get_against_python_http_server() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        assert!(std::env::var_os("CI").is_none(), "CI runs as root");
        eprintln!("needs root: skipped");
        return;
    }
    let d = TempDir::new_tagged("http");
    let www = d.path("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("index.html"), "hello").unwrap();
    let port = free_port();
    let py = Command::new("python3")
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--directory",
        ])
        .arg(&www)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 -m http.server");
    let py = PyServer(py);
    // md5("hello"): the digest genhash and md5sum give.
    let conf = d.path("k.conf");
    std::fs::write(
        &conf,
        format!(
            "global_defs {{\n router_id krs-test\n}}\n\
             virtual_server 127.0.0.1 9 {{\n protocol TCP\n lvs_method NAT\n lvs_sched rr\n delay_loop 1\n\
             real_server 127.0.0.1 {port} {{\n  HTTP_GET {{\n   url {{\n    path /index.html\n    digest 5d41402abc4b2a76b9719d911017c592\n   }}\n   url {{\n    path /missing\n   }}\n   retry 0\n   warmup 0\n   connect_timeout 2\n  }}\n }}\n}}\n"
        ),
    )
    .unwrap();
    // The server may take a moment to listen: the first check (1 s after start) is late
    // enough, and a refused first check would only delay the lines below by one loop.
    let (daemon, rx) = start_daemon(&d, &conf);
    let rs = format!("[127.0.0.1]:tcp:{port}");
    let mut seen = Vec::new();
    // /index.html passes (status and digest), /missing answers 404: down.
    wait_for(
        &rx,
        &mut seen,
        &format!("HTTP status code error to server {rs}."),
    );
    wait_for(
        &rx,
        &mut seen,
        &format!("HTTP_CHECK on service {rs} failed."),
    );
    wait_for(
        &rx,
        &mut seen,
        &format!("Removing service {rs} from VS [127.0.0.1]:tcp:9"),
    );
    // The missing page appears: every url passes again, one per loop, and it is up.
    let mark = seen.len();
    std::fs::write(www.join("missing"), "now here").unwrap();
    let k = wait_after(
        &rx,
        &mut seen,
        mark,
        &format!("HTTP status code success to {rs} url(/missing)"),
    );
    let k = wait_after(
        &rx,
        &mut seen,
        k,
        &format!("HTTP status code success to {rs} url(/index.html)"),
    );
    let k = wait_after(
        &rx,
        &mut seen,
        k,
        &format!("Remote Web server {rs} succeed on service."),
    );
    wait_after(
        &rx,
        &mut seen,
        k,
        &format!("Adding service {rs} to VS [127.0.0.1]:tcp:9"),
    );
    assert!(
        !seen.iter().any(|l| l.contains("MD5 digest error")),
        "{}",
        seen.join("\n")
    );
    drop(daemon);
    drop(py);
}

/// A TLS web server (Python's http.server wrapped in `ssl`, a self-signed certificate made
/// here by `openssl req`), stopped on every exit path.
fn tls_server(d: &TempDir, www: &std::path::Path, port: u16) -> PyServer {
    let (key, cert) = (d.path("key.pem"), d.path("cert.pem"));
    let ok = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl req");
    assert!(ok.success(), "openssl req failed");
    let prog = "import http.server, ssl, sys, functools\n\
                port, d, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]\n\
                h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=d)\n\
                s = http.server.ThreadingHTTPServer(('127.0.0.1', port), h)\n\
                c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n\
                c.load_cert_chain(cert, key)\n\
                s.socket = c.wrap_socket(s.socket, server_side=True)\n\
                s.serve_forever()\n";
    let child = Command::new("python3")
        .arg("-c")
        .arg(prog)
        .arg(port.to_string())
        .arg(www)
        .arg(&cert)
        .arg(&key)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 TLS server");
    PyServer(child)
}

/// SSL_GET against a TLS server and FILE_CHECK against a track_file, with the real daemon:
/// the page disappearing takes the TLS server down and its return brings it back up; the
/// file's value going to -254 takes the other server down, a value of 0 brings it up.
#[test]
fn ssl_get_and_file_check_on_loopback() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        assert!(std::env::var_os("CI").is_none(), "CI runs as root");
        eprintln!("needs root: skipped");
        return;
    }
    let d = TempDir::new_tagged("ssl");
    let www = d.path("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("index.html"), "hello").unwrap();
    let port = free_port();
    let _tls = tls_server(&d, &www, port);
    let value = d.path("value");
    std::fs::write(&value, "0\n").unwrap();
    let conf = d.path("k.conf");
    std::fs::write(
        &conf,
        format!(
            "global_defs {{\n router_id krs-test\n}}\n\
             track_file tf {{\n file {}\n}}\n\
             virtual_server 127.0.0.1 9 {{\n protocol TCP\n lvs_method NAT\n lvs_sched rr\n delay_loop 1\n\
             real_server 127.0.0.1 {port} {{\n  SSL_GET {{\n   url {{\n    path /index.html\n    digest 5d41402abc4b2a76b9719d911017c592\n   }}\n   retry 0\n   warmup 0\n   connect_timeout 2\n  }}\n }}\n\
             real_server 127.0.0.4 80 {{\n  FILE_CHECK {{\n   track_file tf\n  }}\n }}\n}}\n",
            value.display()
        ),
    )
    .unwrap();
    let (daemon, rx) = start_daemon(&d, &conf);
    let rs = format!("[127.0.0.1]:tcp:{port}");
    let file_rs = "[127.0.0.4]:tcp:80";
    let mut seen = Vec::new();
    // The page goes away: 404, down.
    std::thread::sleep(Duration::from_millis(2500));
    let mark = seen.len();
    std::fs::remove_file(www.join("index.html")).unwrap();
    let k = wait_after(
        &rx,
        &mut seen,
        mark,
        &format!("Removing service {rs} from VS [127.0.0.1]:tcp:9"),
    );
    // It comes back: up again.
    std::fs::write(www.join("index.html"), "hello").unwrap();
    let k = wait_after(
        &rx,
        &mut seen,
        k,
        &format!("Adding service {rs} to VS [127.0.0.1]:tcp:9"),
    );
    // FILE_CHECK: -254 is down, 0 is up again.
    std::fs::write(&value, "-254\n").unwrap();
    let k = wait_after(
        &rx,
        &mut seen,
        k,
        &format!("Removing service {file_rs} from VS [127.0.0.1]:tcp:9"),
    );
    std::fs::write(&value, "0\n").unwrap();
    wait_after(
        &rx,
        &mut seen,
        k,
        &format!("Adding service {file_rs} to VS [127.0.0.1]:tcp:9"),
    );
    drop(daemon);
}
