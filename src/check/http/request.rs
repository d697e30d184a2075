//! The request HTTP_GET / SSL_GET (and genhash) send, byte for byte as keepalived 2.2.7
//! sends it (captured from its checker and its genhash):
//!
//! ```text
//! http_protocol 1.0 (default):  GET /a HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 127.0.0.1:8081\r\n\r\n
//! http_protocol 1.0C:           GET /b HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: 127.0.0.1:8082\r\n\r\n
//! http_protocol 1.1:            GET /c HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: 127.0.0.1:8083\r\n\r\n
//! ```
//!
//! `Host` is the virtualhost when one applies, else the address and port the checker
//! connects to (`connect_ip` / `connect_port` when given), IPv6 in brackets: `[::1]:8099`.

use std::net::{IpAddr, SocketAddr};

/// `http_protocol` (and genhash `-P`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HttpVersion {
    /// `1.0`: no `Connection` header.
    #[default]
    Http10,
    /// `1.0C`: 1.0 with `Connection: close`.
    Http10Close,
    /// `1.1`: with `Connection: close`.
    Http11,
}

impl HttpVersion {
    /// From the configuration's `http_protocol` (`1.0`, `1.0C`/`1.0c`, `1.1`); anything
    /// else (the parser refuses it) and `None` are 1.0.
    pub fn from_config(s: Option<&str>) -> HttpVersion {
        match s {
            Some("1.1") => HttpVersion::Http11,
            Some(v) if v.eq_ignore_ascii_case("1.0c") => HttpVersion::Http10Close,
            _ => HttpVersion::Http10,
        }
    }
}

/// The default `Host` value: `ip:port`, `[ipv6]:port`.
pub fn host_of(addr: SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V4(ip) => format!("{ip}:{}", addr.port()),
        IpAddr::V6(ip) => format!("[{ip}]:{}", addr.port()),
    }
}

/// The request bytes for `path` on `host`.
pub fn build(path: &str, host: &str, version: HttpVersion) -> Vec<u8> {
    let (ver, connection) = match version {
        HttpVersion::Http10 => ("1.0", ""),
        HttpVersion::Http10Close => ("1.0", "Connection: close\r\n"),
        HttpVersion::Http11 => ("1.1", "Connection: close\r\n"),
    };
    format!(
        "GET {path} HTTP/{ver}\r\nUser-Agent: KeepAliveClient\r\n{connection}Host: {host}\r\n\r\n"
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytes keepalived 2.2.7 sent to a netcat-style listener (see the module doc).
    #[test]
    fn requests_as_keepalived_sends_them() {
        let h = host_of("127.0.0.1:8081".parse().unwrap());
        assert_eq!(
            build("/a", &h, HttpVersion::from_config(None)),
            b"GET /a HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 127.0.0.1:8081\r\n\r\n"
        );
        assert_eq!(
            build("/b", "127.0.0.1:8082", HttpVersion::from_config(Some("1.0C"))),
            b"GET /b HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: 127.0.0.1:8082\r\n\r\n"
        );
        assert_eq!(
            build("/d", "vh.example", HttpVersion::from_config(Some("1.1"))),
            b"GET /d HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: vh.example\r\n\r\n"
        );
        assert_eq!(
            HttpVersion::from_config(Some("1.0c")),
            HttpVersion::Http10Close
        );
        assert_eq!(HttpVersion::from_config(Some("1.0")), HttpVersion::Http10);
        assert_eq!(host_of("[::1]:8099".parse().unwrap()), "[::1]:8099");
    }
}
