//! genhash over HTTPS (`-T -S`) against a real TLS server: Python's `http.server` wrapped
//! in `ssl` with a self-signed certificate made by `openssl req` here. The digest equals
//! `md5sum` of the file served and what keepalived's own `genhash` prints (when installed;
//! CI installs it); `-I -V host` sends SNI, `-V` alone does not (as keepalived's genhash).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_keepalived-rs");

/// A scratch directory removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The server process, killed on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const SERVER_PY: &str = r#"
import http.server, ssl, sys, os, threading
os.chdir(sys.argv[1])
log = open(sys.argv[2], "a", buffering=1)
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass
def sni(sock, name, ctx):
    log.write("sni %r\n" % (name,))
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain("cert.pem", "key.pem")
ctx.sni_callback = sni
tls = http.server.HTTPServer(("127.0.0.1", 0), Quiet)
tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
plain = http.server.HTTPServer(("127.0.0.1", 0), Quiet)
threading.Thread(target=plain.serve_forever, daemon=True).start()
print(tls.server_address[1], plain.server_address[1], flush=True)
tls.serve_forever()
"#;

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn md5sum(path: &Path) -> String {
    let o = Command::new("md5sum").arg(path).output().expect("md5sum");
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// Runs a genhash-style command with a bound on its time.
fn genhash(program: &str, args: &[&str]) -> Output {
    let mut full = vec!["10", program];
    full.extend_from_slice(args);
    Command::new("timeout")
        .args(&full)
        .output()
        .expect("run genhash")
}

/// The SNI names the server has logged so far.
fn sni_log(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn genhash_over_tls_matches_md5sum_and_keepalived() {
    let tools = ["openssl", "python3", "md5sum", "timeout"];
    if let Some(missing) = tools.iter().find(|t| !have(t)) {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI installs {missing} (.ci/run)"
        );
        eprintln!("{missing} not installed: skipped");
        return;
    }
    let dir = TempDir(std::env::temp_dir().join(format!("hs-genhash-tls-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let gen = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-nodes",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .current_dir(&dir.0)
        .output()
        .unwrap();
    assert!(
        gen.status.success(),
        "{}",
        String::from_utf8_lossy(&gen.stderr)
    );
    // A page larger than one TLS record and one read, with every byte value.
    let page: Vec<u8> = (0..200_000u32).map(|i| (i * 131 % 251) as u8).collect();
    let file = dir.0.join("page.bin");
    std::fs::write(&file, &page).unwrap();
    let log = dir.0.join("sni.log");
    let mut child = Command::new("python3")
        .args(["-c", SERVER_PY])
        .arg(&dir.0)
        .arg(&log)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let server = Server(child);
    let mut line = String::new();
    BufReader::new(out).read_line(&mut line).unwrap();
    let ports: Vec<String> = line.split_whitespace().map(str::to_string).collect();
    assert_eq!(ports.len(), 2, "server said {line:?}");
    let (tls_port, plain_port) = (ports[0].as_str(), ports[1].as_str());

    let want = md5sum(&file);
    assert_eq!(want.len(), 32);
    let started = Instant::now();
    let o = genhash(
        BIN,
        &[
            "-T",
            "-S",
            "-s",
            "127.0.0.1",
            "-p",
            tls_port,
            "-u",
            "/page.bin",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(stdout(&o), want);
    assert!(started.elapsed() < Duration::from_secs(9));
    assert_eq!(sni_log(&log), vec!["sni None"], "no SNI without -I");

    // -I with -V: SNI is the virtualhost; -V alone: no SNI.
    let o = genhash(
        BIN,
        &[
            "-T",
            "-S",
            "-I",
            "-V",
            "sni.example",
            "-s",
            "127.0.0.1",
            "-p",
            tls_port,
            "-u",
            "/page.bin",
        ],
    );
    assert_eq!(stdout(&o), want, "{}", String::from_utf8_lossy(&o.stderr));
    let o = genhash(
        BIN,
        &[
            "-T",
            "-S",
            "-V",
            "nosni.example",
            "-s",
            "127.0.0.1",
            "-p",
            tls_port,
            "-u",
            "/page.bin",
        ],
    );
    assert_eq!(stdout(&o), want);
    assert_eq!(
        sni_log(&log),
        vec!["sni None", "sni 'sni.example'", "sni None"]
    );

    // Plain HTTP against the same files, and TLS to a plain port: a clear error.
    let o = genhash(
        BIN,
        &["-T", "-s", "127.0.0.1", "-p", plain_port, "-u", "/page.bin"],
    );
    assert_eq!(stdout(&o), want);
    let o = genhash(
        BIN,
        &[
            "-T",
            "-S",
            "-s",
            "127.0.0.1",
            "-p",
            plain_port,
            "-u",
            "/page.bin",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("SSL handshake/communication error"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    // keepalived's own genhash prints the same digests.
    if Path::new("/usr/bin/genhash").exists() {
        for (ssl, port) in [(true, tls_port), (false, plain_port)] {
            let mut args = vec!["-s", "127.0.0.1", "-p", port, "-u", "/page.bin"];
            if ssl {
                args.insert(0, "-S");
            }
            let theirs = genhash("/usr/bin/genhash", &args);
            assert_eq!(stdout(&theirs), want, "keepalived genhash, ssl {ssl}");
        }
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI installs keepalived (/usr/bin/genhash)"
        );
    }
    drop(server);
}
