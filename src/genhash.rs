//! `keepalived-rs -T/--genhash` (and a `genhash` symlink): fetch a page over plain HTTP and
//! print the MD5 digest of its body, the value `HTTP_GET { url { digest ... } }` expects.
//!
//! A command-line tool, not part of the daemon: it uses a blocking TCP connection with a
//! timeout. MD5 (RFC 1321) is `check::md5`, shared with the HTTP checker. SSL (`-S`) is not available in
//! this build and says so.

use crate::check::md5::Md5;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::Duration;

/// HTTP protocol variants of `-P`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Http10,
    /// 1.0 with `Connection: close`
    Http10Close,
    Http11,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Args {
    pub server: IpAddr,
    pub port: u16,
    pub url: String,
    pub virtualhost: Option<String>,
    pub protocol: Protocol,
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
   --use-ssl         -S       Use SSL connection to remote server (not in this build).
   --use-sni         -I       Use SNI during SSL handshake (not in this build).
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
    if m.opt_present("S") || m.opt_present("I") {
        return Err("SSL (-S/--use-ssl, -I/--use-sni) is not available in this build".into());
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
        None | Some("1.0") => Protocol::Http10,
        Some("1.0c") | Some("1.0C") => Protocol::Http10Close,
        Some("1.1") => Protocol::Http11,
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
        timeout,
        verbose: m.opt_present("v"),
        fwmark,
    }))
}

/// The request genhash sends.
pub fn request(a: &Args) -> String {
    let host = match &a.virtualhost {
        Some(v) => v.clone(),
        None => match a.server {
            IpAddr::V4(ip) => format!("{ip}:{}", a.port),
            IpAddr::V6(ip) => format!("[{ip}]:{}", a.port),
        },
    };
    let (ver, extra) = match a.protocol {
        Protocol::Http10 => ("1.0", ""),
        Protocol::Http10Close => ("1.0", "Connection: close\r\n"),
        Protocol::Http11 => ("1.1", "Connection: close\r\n"),
    };
    format!(
        "GET {} HTTP/{ver}\r\nUser-Agent: KeepAliveClient\r\nHost: {host}\r\n{extra}\r\n",
        a.url
    )
}

/// A parsed response: status, header block (text) and the body.
#[derive(Debug, PartialEq)]
pub struct Response {
    pub status: u16,
    pub header: String,
    pub body: Vec<u8>,
}

/// Splits a complete response (read to EOF) into status, header and decoded body.
pub fn parse_response(raw: &[u8]) -> Result<Response, String> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut r = httparse::Response::new(&mut headers);
    let hlen = match r.parse(raw) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Err("incomplete HTTP header".into()),
        Err(e) => return Err(format!("bad HTTP response: {e}")),
    };
    let status = r.code.ok_or("no status code")?;
    let chunked = r.headers.iter().any(|h| {
        h.name.eq_ignore_ascii_case("transfer-encoding")
            && String::from_utf8_lossy(h.value)
                .to_ascii_lowercase()
                .contains("chunked")
    });
    let content_length = r
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .and_then(|h| std::str::from_utf8(h.value).ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    let rest = raw.get(hlen..).unwrap_or(&[]);
    let body = if chunked {
        dechunk(rest)?
    } else if let Some(n) = content_length {
        rest.get(..n)
            .ok_or(format!(
                "body shorter ({}) than Content-Length {n}",
                rest.len()
            ))?
            .to_vec()
    } else {
        rest.to_vec()
    };
    Ok(Response {
        status,
        header: String::from_utf8_lossy(raw.get(..hlen).unwrap_or(&[])).into_owned(),
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let eol = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("truncated chunk size line")?;
        let line = std::str::from_utf8(&data[..eol]).map_err(|_| "bad chunk size line")?;
        let size_str = line.split(';').next().unwrap_or("").trim();
        let size =
            usize::from_str_radix(size_str, 16).map_err(|_| format!("bad chunk size '{line}'"))?;
        data = &data[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = data.get(..size).ok_or("truncated chunk")?;
        out.extend_from_slice(chunk);
        data = data.get(size + 2..).ok_or("truncated chunk end")?;
    }
}

/// Upper bound on a response we are willing to hash (a misbehaving server cannot make us
/// allocate without limit).
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

fn fetch(a: &Args) -> Result<Vec<u8>, String> {
    let addr = SocketAddr::new(a.server, a.port);
    let mut s = connect(addr, a.fwmark, a.timeout)?;
    s.set_read_timeout(Some(a.timeout))
        .map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(a.timeout))
        .map_err(|e| e.to_string())?;
    s.write_all(request(a).as_bytes())
        .map_err(|e| format!("send to {addr}: {e}"))?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                raw.extend_from_slice(&buf[..n]);
                if raw.len() > MAX_RESPONSE {
                    return Err(format!("response larger than {MAX_RESPONSE} bytes"));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("read from {addr}: {e}")),
        }
    }
    Ok(raw)
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
    let raw = match fetch(&a) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("genhash: {e}");
            return 1;
        }
    };
    let resp = match parse_response(&raw) {
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
        println!("-----------------------[ HTML hash final resulting ]-----------------------");
    }
    println!("MD5SUM = {}", Md5::hex(&resp.body));
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

    #[test]
    fn parse_args() {
        let p = parse(&sv(&[
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
        ]))
        .unwrap();
        let Parsed::Run(a) = p else { panic!() };
        assert_eq!(a.port, 8080);
        assert_eq!(a.protocol, Protocol::Http11);
        assert_eq!(a.timeout, Duration::from_millis(2500));
        assert_eq!(parse(&sv(&["-h"])).unwrap(), Parsed::Help);
        assert!(parse(&sv(&["-s", "host.example", "-p", "80", "-u", "/"])).is_err());
        assert!(parse(&sv(&["-s", "::1", "-p", "0", "-u", "/"])).is_err());
        assert!(parse(&sv(&["-s", "::1", "-p", "80", "-u", "x"])).is_err());
        assert!(parse(&sv(&["-S", "-s", "::1", "-p", "80", "-u", "/"])).is_err());
        let Parsed::Run(a) =
            parse(&sv(&["-s", "::1", "-p", "80", "-u", "/", "-m", "0x10"])).unwrap()
        else {
            panic!()
        };
        assert_eq!(a.fwmark, Some(16));
        assert!(parse(&sv(&["-s", "::1", "-p", "80", "-u", "/", "-m", "x"])).is_err());
    }

    #[test]
    fn request_text() {
        let Parsed::Run(a) = parse(&sv(&["-s", "::1", "-p", "80", "-u", "/a?b"])).unwrap() else {
            panic!()
        };
        assert_eq!(
            request(&a),
            "GET /a?b HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: [::1]:80\r\n\r\n"
        );
    }

    #[test]
    fn responses() {
        let r = parse_response(b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\nhello").unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"hello"[..]));
        let r = parse_response(b"HTTP/1.1 404 NF\r\nContent-Length: 3\r\n\r\nabcdef").unwrap();
        assert_eq!((r.status, r.body.as_slice()), (404, &b"abc"[..]));
        let r = parse_response(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;x=y\r\n!\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(r.body, b"hello!");
        assert!(parse_response(b"HTTP/1.1 200 OK\r\n").is_err());
        assert!(parse_response(b"garbage\r\n\r\n").is_err());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab").is_err());
        assert!(
            parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err()
        );
        assert!(
            parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nff\r\nab")
                .is_err()
        );
    }

    #[test]
    fn fwmark_is_set_on_the_connection() {
        use nix::sys::socket::{getsockopt, sockopt};
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
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
            c.write_all(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nabc")
                .unwrap();
            req
        });
        let Parsed::Run(a) = parse(&sv(&[
            "-s",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-u",
            "/index.html",
        ]))
        .unwrap() else {
            panic!()
        };
        let raw = fetch(&a).unwrap();
        let r = parse_response(&raw).unwrap();
        assert_eq!(Md5::hex(&r.body), "900150983cd24fb0d6963f7d28e17f72");
        let req = t.join().unwrap();
        assert!(req.starts_with("GET /index.html HTTP/1.0\r\n"), "{req}");
    }
}
