//! `keepalived-rs -T/--genhash` (and a `genhash` symlink): fetch a page over HTTP or HTTPS
//! (`-S`, with SNI from `-I -V host`) and print the MD5 digest of its body, the value
//! `HTTP_GET`/`SSL_GET { url { digest ... } }` expects.
//!
//! A command-line tool, not part of the daemon: it uses a blocking connection with a
//! timeout, and native-tls for `-S` (certificates are not verified: the digest is about
//! content, as keepalived's checker). The request, the response reader and MD5 are the
//! HTTP checker's (`check::http`, `check::md5`), so genhash prints what the checker
//! computes: as keepalived 2.2.7's genhash, the digest of the bytes after the header as
//! they came on the wire (for a chunked answer the chunk framing is included; `-v` also
//! shows the decoded body's digest, which the checker accepts too).

use crate::check::http::request::{self, HttpVersion};
use crate::check::http::response::{Piece, ResponseReader};
use crate::check::md5::{to_hex, Md5};
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::Duration;

#[derive(Clone, Debug, PartialEq)]
pub struct Args {
    pub server: IpAddr,
    pub port: u16,
    pub url: String,
    pub virtualhost: Option<String>,
    pub protocol: HttpVersion,
    /// `-S`: HTTPS.
    pub ssl: bool,
    /// `-I`: send the virtualhost (`-V`) as SNI.
    pub sni: bool,
    pub timeout: Duration,
    pub verbose: bool,
    /// `-m/--fwmark`: SO_MARK of the connection (needs CAP_NET_ADMIN).
    pub fwmark: Option<u32>,
}

const USAGE: &str = "Usage: keepalived-rs --genhash COMMAND [OPTIONS]
Commands:
   -s server-address -p port -u url
   -h

Options:
Either long or short options are allowed.
   --use-ssl         -S       Use SSL connection to remote server.
   --use-sni         -I       Use SNI during SSL handshake (the -V virtualhost).
   --server          -s       Use the specified remote server address.
   --port            -p       Use the specified remote server port.
   --url             -u       Use the specified remote server url.
   --use-virtualhost -V       Use the specified virtualhost in GET query.
   --verbose         -v       Use verbose mode output.
   --help            -h       Display this short inlined help screen.
   --fwmark          -m       Use the specified FW mark.
   --protocol        -P       Use the specified HTTP protocol - '1.0', 1.0c', '1.1'.
                                1.0c means 1.0 with 'Connection: close'
   --timeout         -t       Timeout in seconds
";

/// Parse result: run with these arguments, or print the help.
#[derive(Debug, PartialEq)]
pub enum Parsed {
    Run(Args),
    Help,
}

pub fn parse(args: &[String]) -> Result<Parsed, String> {
    let mut o = getopts::Options::new();
    o.optflag("S", "use-ssl", "");
    o.optflag("I", "use-sni", "");
    o.optopt("s", "server", "", "");
    o.optopt("p", "port", "", "");
    o.optopt("u", "url", "", "");
    o.optopt("V", "use-virtualhost", "", "");
    o.optflag("v", "verbose", "");
    o.optflag("h", "help", "");
    o.optopt("m", "fwmark", "", "");
    o.optopt("P", "protocol", "", "");
    o.optopt("t", "timeout", "", "");
    let m = o.parse(args).map_err(|e| e.to_string())?;
    if m.opt_present("h") {
        return Ok(Parsed::Help);
    }
    let fwmark = match m.opt_str("m") {
        Some(v) => Some(parse_mark(&v).ok_or(format!("invalid fwmark '{v}'"))?),
        None => None,
    };
    let server = m.opt_str("s").ok_or("a server address is needed (-s)")?;
    let server: IpAddr = server
        .parse()
        .map_err(|_| format!("invalid server address '{server}'"))?;
    let port = match m.opt_str("p") {
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or(format!("invalid port '{p}'"))?,
        None => return Err("a port is needed (-p)".into()),
    };
    let url = m.opt_str("u").ok_or("a url is needed (-u)")?;
    if !url.starts_with('/') || url.bytes().any(|b| b.is_ascii_whitespace() || b < 0x20) {
        return Err(format!("invalid url '{url}': a path starting with '/'"));
    }
    let protocol = match m.opt_str("P").as_deref() {
        None | Some("1.0") => HttpVersion::Http10,
        Some("1.0c") | Some("1.0C") => HttpVersion::Http10Close,
        Some("1.1") => HttpVersion::Http11,
        Some(p) => return Err(format!("invalid protocol '{p}': 1.0, 1.0c or 1.1")),
    };
    let timeout = match m.opt_str("t") {
        Some(t) => {
            let d = crate::cli::parse_seconds(&t)
                .filter(|d| !d.is_zero())
                .ok_or(format!("invalid timeout '{t}'"))?;
            d
        }
        None => Duration::from_secs(5),
    };
    Ok(Parsed::Run(Args {
        server,
        port,
        url,
        virtualhost: m.opt_str("V"),
        protocol,
        ssl: m.opt_present("S"),
        sni: m.opt_present("I"),
        timeout,
        verbose: m.opt_present("v"),
        fwmark,
    }))
}

/// The request genhash sends (the HTTP checker's, byte for byte).
pub fn request(a: &Args) -> Vec<u8> {
    let host = match &a.virtualhost {
        Some(v) => v.clone(),
        None => request::host_of(SocketAddr::new(a.server, a.port)),
    };
    request::build(&a.url, &host, a.protocol)
}

/// A response read to its end: status, header text, decoded body, and the digests.
#[derive(Debug, PartialEq)]
pub struct Response {
    pub status: u16,
    pub header: String,
    pub body: Vec<u8>,
    /// MD5 of the body as on the wire (keepalived's digest).
    pub digest: String,
    /// MD5 of the decoded body, when it was chunked.
    pub decoded_digest: Option<String>,
}

/// Reads a response from `r` up to the end of its body (by its framing, or EOF), keeping
/// at most [`MAX_RESPONSE`] bytes of body.
pub fn read_response(r: &mut dyn Read) -> Result<Response, String> {
    let mut reader = ResponseReader::new();
    let mut header = Vec::new();
    let mut body = Vec::new();
    let mut wire = Md5::new();
    let mut decoded = Md5::new();
    let mut chunked = false;
    let too_big = std::cell::Cell::new(false);
    let mut buf = [0u8; 16384];
    let mut sink = |p: Piece<'_>| match p {
        Piece::Head(h, raw) => {
            chunked = h.chunked;
            header.extend_from_slice(raw);
        }
        Piece::Wire(b) => wire.update(b),
        Piece::Body(b) => {
            decoded.update(b);
            if body.len() + b.len() > MAX_RESPONSE {
                too_big.set(true);
            } else {
                body.extend_from_slice(b);
            }
        }
    };
    loop {
        let n = match r.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            // A TLS peer that closes without close_notify: the end of the stream.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => 0,
            Err(e) => return Err(format!("read: {e}")),
        };
        if n == 0 {
            reader.close().map_err(|e| e.to_string())?;
            break;
        }
        let done = reader
            .feed(&buf[..n], &mut sink)
            .map_err(|e| e.to_string())?;
        if too_big.get() {
            return Err(format!("response body larger than {MAX_RESPONSE} bytes"));
        }
        if done {
            break;
        }
    }
    let status = reader.head().map(|h| h.status).ok_or("no HTTP header")?;
    Ok(Response {
        status,
        header: String::from_utf8_lossy(&header).into_owned(),
        body,
        digest: to_hex(&wire.finish()),
        decoded_digest: chunked.then(|| to_hex(&decoded.finish())),
    })
}

/// Upper bound on the body kept for `-v` (a misbehaving server cannot make us allocate
/// without limit).
const MAX_RESPONSE: usize = 64 << 20;

/// A fwmark: decimal or 0x hexadecimal.
fn parse_mark(s: &str) -> Option<u32> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u32::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Connects to `addr` within `timeout`, with SO_MARK set first when `mark` is given.
fn connect(addr: SocketAddr, mark: Option<u32>, timeout: Duration) -> Result<TcpStream, String> {
    use nix::errno::Errno;
    use nix::sys::socket::{self, sockopt, AddressFamily, SockFlag, SockType, SockaddrStorage};
    use std::os::fd::AsRawFd;

    let Some(mark) = mark else {
        return TcpStream::connect_timeout(&addr, timeout)
            .map_err(|e| format!("connect to {addr}: {e}"));
    };
    let family = if addr.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    let fd = socket::socket(
        family,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
        None,
    )
    .map_err(|e| format!("socket: {e}"))?;
    socket::setsockopt(&fd, sockopt::Mark, &mark).map_err(|e| format!("fwmark {mark}: {e}"))?;
    match socket::connect(fd.as_raw_fd(), &SockaddrStorage::from(addr)) {
        Ok(()) => {}
        Err(Errno::EINPROGRESS) => {
            let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
            let mut pfd = libc::pollfd {
                fd: fd.as_raw_fd(),
                events: libc::POLLOUT,
                revents: 0,
            };
            // SAFETY: one valid pollfd for the duration of the call.
            let n = unsafe { libc::poll(&mut pfd, 1, ms) };
            if n < 0 {
                return Err(format!(
                    "connect to {addr}: {}",
                    std::io::Error::last_os_error()
                ));
            }
            if n == 0 {
                return Err(format!("connect to {addr}: timed out"));
            }
            let err = socket::getsockopt(&fd, sockopt::SocketError)
                .map_err(|e| format!("connect to {addr}: {e}"))?;
            if err != 0 {
                return Err(format!(
                    "connect to {addr}: {}",
                    std::io::Error::from_raw_os_error(err)
                ));
            }
        }
        Err(e) => return Err(format!("connect to {addr}: {e}")),
    }
    let s = TcpStream::from(fd);
    s.set_nonblocking(false).map_err(|e| e.to_string())?;
    Ok(s)
}

fn fetch(a: &Args) -> Result<Response, String> {
    let addr = SocketAddr::new(a.server, a.port);
    let s = connect(addr, a.fwmark, a.timeout)?;
    s.set_read_timeout(Some(a.timeout))
        .map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(a.timeout))
        .map_err(|e| e.to_string())?;
    let req = request(a);
    if !a.ssl {
        let mut s = s;
        s.write_all(&req)
            .map_err(|e| format!("send to {addr}: {e}"))?;
        return read_response(&mut s).map_err(|e| format!("{addr}: {e}"));
    }
    let sni = a.virtualhost.as_deref().filter(|_| a.sni);
    let connector = native_tls::TlsConnector::builder()
        .danger_accept_invalid_certs(true)
        .danger_accept_invalid_hostnames(true)
        .use_sni(sni.is_some())
        .build()
        .map_err(|e| format!("TLS: {e}"))?;
    let domain = sni.map_or_else(|| a.server.to_string(), str::to_string);
    let mut tls = connector
        .connect(&domain, s)
        .map_err(|e| format!("SSL handshake/communication error connecting to {addr}: {e}"))?;
    tls.write_all(&req)
        .map_err(|e| format!("send to {addr}: {e}"))?;
    read_response(&mut tls).map_err(|e| format!("{addr}: {e}"))
}

/// Runs genhash with the arguments after `-T`; returns the exit status (0 digest printed,
/// 1 usage or network error).
pub fn main(args: &[String]) -> i32 {
    let a = match parse(args) {
        Ok(Parsed::Help) => {
            print!("{USAGE}");
            return 0;
        }
        Ok(Parsed::Run(a)) => a,
        Err(e) => {
            eprintln!("genhash: {e}");
            eprint!("{USAGE}");
            return 1;
        }
    };
    let resp = match fetch(&a) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("genhash: {e}");
            return 1;
        }
    };
    if a.verbose {
        println!("-----------------------[ HTTP Header Ascii Buffer ]-----------------------");
        print!("{}", resp.header);
        println!("-----------------------[       HTML Buffer        ]-----------------------");
        println!("{}", String::from_utf8_lossy(&resp.body));
        if let Some(d) = &resp.decoded_digest {
            println!("-----------------------[ decoded (chunked) body's MD5 ]-------------------");
            println!("{d}");
        }
        println!("-----------------------[ HTML hash final resulting ]-----------------------");
    }
    // keepalived 2.2.7's genhash prints the digest alone.
    println!("{}", resp.digest);
    if !(200..300).contains(&resp.status) {
        eprintln!("genhash: note: HTTP status {}", resp.status);
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    fn args(a: &[&str]) -> Args {
        match parse(&sv(a)).unwrap() {
            Parsed::Run(a) => a,
            Parsed::Help => panic!("help"),
        }
    }

    #[test]
    fn parse_args() {
        let a = args(&[
            "-s",
            "127.0.0.1",
            "-p",
            "8080",
            "-u",
            "/x",
            "-P",
            "1.1",
            "-t",
            "2.5",
        ]);
        assert_eq!(a.port, 8080);
        assert_eq!(a.protocol, HttpVersion::Http11);
        assert_eq!(a.timeout, Duration::from_millis(2500));
        assert!(!a.ssl && !a.sni);
        assert_eq!(parse(&sv(&["-h"])).unwrap(), Parsed::Help);
        assert!(parse(&sv(&["-s", "host.example", "-p", "80", "-u", "/"])).is_err());
        assert!(parse(&sv(&["-s", "::1", "-p", "0", "-u", "/"])).is_err());
        assert!(parse(&sv(&["-s", "::1", "-p", "80", "-u", "x"])).is_err());
        let a = args(&[
            "-S",
            "-I",
            "-V",
            "h.example",
            "-s",
            "::1",
            "-p",
            "443",
            "-u",
            "/",
        ]);
        assert!(a.ssl && a.sni);
        assert_eq!(a.virtualhost.as_deref(), Some("h.example"));
        let a = args(&["-s", "::1", "-p", "80", "-u", "/", "-m", "0x10"]);
        assert_eq!(a.fwmark, Some(16));
        assert!(parse(&sv(&["-s", "::1", "-p", "80", "-u", "/", "-m", "x"])).is_err());
    }

    /// The bytes keepalived 2.2.7's genhash sent to a listener, for each -P.
    #[test]
    fn request_text_as_keepalived_genhash() {
        let base = ["-s", "127.0.0.1", "-p", "8171", "-u", "/g"];
        let with = |extra: &[&str]| {
            let mut v = base.to_vec();
            v.extend_from_slice(extra);
            String::from_utf8(request(&args(&v))).unwrap()
        };
        assert_eq!(
            with(&[]),
            "GET /g HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 127.0.0.1:8171\r\n\r\n"
        );
        assert_eq!(
            with(&["-P", "1.0c"]),
            "GET /g HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: 127.0.0.1:8171\r\n\r\n"
        );
        assert_eq!(
            with(&["-P", "1.1"]),
            "GET /g HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: 127.0.0.1:8171\r\n\r\n"
        );
        assert_eq!(
            with(&["-P", "1.1", "-V", "gv.example"]),
            "GET /g HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: gv.example\r\n\r\n"
        );
        let a = args(&["-s", "::1", "-p", "80", "-u", "/a?b"]);
        assert!(String::from_utf8(request(&a))
            .unwrap()
            .contains("\r\nHost: [::1]:80\r\n"));
    }

    fn read(raw: &[u8]) -> Result<Response, String> {
        read_response(&mut &raw[..])
    }

    /// Digests as keepalived 2.2.7's genhash printed them for the same answers.
    #[test]
    fn responses_and_digests() {
        let r = read(b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\nhello world").unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"hello world"[..]));
        assert_eq!(r.digest, "5eb63bbbe01eeed093cb22bb8f5acdc3");
        assert_eq!(r.header, "HTTP/1.0 200 OK\r\nServer: x\r\n\r\n");
        // Content-Length cuts the body (keepalived: md5 of "hel").
        let r = read(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nhello world").unwrap();
        assert_eq!(r.digest, "46356afe55fa3cea9cbe73ad442cad47");
        // Chunked: the wire bytes' digest (keepalived's), and the decoded one.
        let r = read(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(r.digest, "fc3946cc674492e3e09d9e45c4c09023");
        assert_eq!(
            r.decoded_digest.as_deref(),
            Some("5eb63bbbe01eeed093cb22bb8f5acdc3")
        );
        assert_eq!(r.body, b"hello world");
        // Truncated by the close: what arrived.
        let r = read(b"HTTP/1.1 404 NF\r\nContent-Length: 9\r\n\r\nab").unwrap();
        assert_eq!((r.status, r.digest), (404, Md5::hex(b"ab")));
        assert!(read(b"HTTP/1.1 200 OK\r\n").is_err());
        assert!(read(b"garbage\r\n\r\n").is_err());
        assert!(read(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err());
    }

    #[test]
    fn fwmark_is_set_on_the_connection() {
        use nix::sys::socket::{getsockopt, sockopt};
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            assert!(std::env::var_os("CI").is_none(), "CI runs as root");
            eprintln!("SO_MARK needs CAP_NET_ADMIN: skipped");
            return;
        }
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let s = connect(addr, Some(0x2a), Duration::from_secs(2)).unwrap();
        assert_eq!(getsockopt(&s, sockopt::Mark).unwrap(), 0x2a);
        let (_c, peer) = l.accept().unwrap();
        assert_eq!(peer, s.local_addr().unwrap());
        // Nothing listening: an error naming the address, not a hang.
        drop(l);
        let e = connect(addr, Some(1), Duration::from_secs(2)).unwrap_err();
        assert!(e.starts_with(&format!("connect to {addr}: ")), "{e}");
    }

    #[test]
    fn end_to_end_on_loopback() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let t = std::thread::spawn(move || {
            let (mut c, _) = l.accept().unwrap();
            let mut buf = [0u8; 1024];
            let n = c.read(&mut buf).unwrap();
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            // Keeps the connection open after a complete body: Content-Length ends it.
            c.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc")
                .unwrap();
            std::thread::sleep(Duration::from_millis(300));
            req
        });
        let a = args(&[
            "-s",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-u",
            "/index.html",
        ]);
        let r = fetch(&a).unwrap();
        assert_eq!(r.digest, "900150983cd24fb0d6963f7d28e17f72");
        let req = t.join().unwrap();
        assert!(req.starts_with("GET /index.html HTTP/1.0\r\n"), "{req}");
    }
}
