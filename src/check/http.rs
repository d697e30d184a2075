//! HTTP_GET and SSL_GET as a pure protocol: one [`HttpDialogue`] per `url`, built from a
//! [`HttpCheckPlan`] (made once per checker: request bytes, compiled regexes).
//!
//! A dialogue sends keepalived's request ([`request`]), reads the response incrementally
//! ([`response`], with the chunked decoder in [`chunked`]) and judges it:
//! 1. `status_code` (ranges; default 200-299) — decided as soon as the head arrives;
//! 2. `digest`: the MD5 of the body. keepalived 2.2.7 (checker and genhash) hashes the
//!    bytes after the header as they were on the wire, chunk framing included; `md5sum`
//!    of the file gives the decoded body's. A chunked answer passes if either matches, so
//!    digests made by keepalived's genhash, ours, or md5sum all work;
//! 3. `regex` ([`pattern`]): searched in the response from its status line on.
//!
//! The body ends by its framing (`Content-Length`, last chunk) or the close. keepalived
//! reads to the close in every case (a server that keeps the connection open after a
//! complete body times out there); this dialogue decides when the body is complete.
//!
//! `Verdict::Down` reasons are keepalived's log lines, with the server named as the
//! runtime names it (`[127.0.0.1]:tcp:8081`), observed from keepalived 2.2.7:
//!
//! ```text
//! HTTP status code error to server [127.0.0.1]:tcp:8091.
//! MD5 digest error to server [127.0.0.1]:tcp:8092.
//! Regex match failed server [127.0.0.1]:tcp:8094.
//! Read, no data received from  server [127.0.0.1]:tcp:8097.      (two spaces: sic)
//! Read error with server [127.0.0.1]:tcp:8151.                   (reset while reading)
//! Connection failed server [127.0.0.1]:tcp:8154.                 (refused)
//! Timeout connecting server [10.99.0.2]:tcp:80.
//! Timeout HTTP read server [127.0.0.1]:tcp:8122.
//! SSL handshake/communication error connecting to server [127.0.0.1]:tcp:8144.
//! ```
//!
//! # For the checker runtime (keepalived 2.2.7, observed with 3 urls, `delay_loop 3`)
//!
//! - **One url per `delay_loop`**: keepalived does not fetch every url each loop. While the
//!   server is up it checks the next url, round robin (`/u1`, then `/u2` a loop later...);
//!   a url that fails (after `retry`) takes the server down.
//! - **Down, without `fast_recovery`** (also the start with `alpha`): still one url per
//!   `delay_loop`; the server comes up once every url has passed since the last failure
//!   (a failing url is retried, not skipped; after it passes, the others are checked again
//!   one per loop). 20 urls at `delay_loop 3` take a minute to bring a server up.
//! - **Down, with `fast_recovery`**: at start-up and on recovery, after one url passes all
//!   urls are checked back to back from the first, with no delay; the server comes up when
//!   they all pass. Once up, it is one url per loop again.
//! - Lines that are the runtime's: `HTTP_CHECK on service [127.0.0.1]:tcp:8081 failed.`
//!   (retry 0) / `... failed after 1 retries.`, `Remote Web server [127.0.0.1]:tcp:8081
//!   succeed on service.`, and while down, per url that passes: `HTTP status code success
//!   to [127.0.0.1]:tcp:8161 url(/u1)`. The Down reasons above are logged with
//!   `log_all_failures`, or when the failure changes the server's state.
//! - SSL_GET: give `Transport::Tls { sni }` from [`Dialogue::transport`] to the connector
//!   (native-tls: `use_sni(sni.is_some())`, certificates and host names not verified).

pub mod chunked;
pub mod pattern;
pub mod request;
pub mod response;

use crate::check::dialogue::{Dialogue, Step, Verdict};
use crate::check::md5::Md5;
use crate::config::model::{CheckerKind, HttpCheck};
use crate::event::{ConnError, Transport};
use pattern::{Matcher, Pattern};
use request::HttpVersion;
use response::{Piece, ReadError, ResponseReader};
use std::net::SocketAddr;
use std::rc::Rc;

/// Where an HTTP checker's requests go, as the runtime resolves it.
#[derive(Clone, Debug)]
pub struct HttpTarget<'a> {
    /// keepalived's name of the real server in its log lines: `[ip]:tcp:port` of the
    /// `real_server` (not of `connect_ip`/`connect_port`).
    pub server: &'a str,
    /// Where the connection goes (`connect_ip` / `connect_port`, else the real server):
    /// the `Host` header when no virtualhost applies.
    pub connect: SocketAddr,
    /// `virtualhost` of the `virtual_server`.
    pub vs_virtualhost: Option<&'a str>,
    /// `virtualhost` of the `real_server`.
    pub rs_virtualhost: Option<&'a str>,
}

/// What one `url` needs, shared by all its dialogues.
#[derive(Debug)]
struct UrlPlan {
    request: Vec<u8>,
    transport: Transport,
    status_codes: Vec<(u16, u16)>,
    digest: Option<[u8; 16]>,
    pattern: Option<Pattern>,
}

/// One HTTP_GET / SSL_GET checker's urls, ready to run.
#[derive(Clone, Debug)]
pub struct HttpCheckPlan {
    server: Rc<str>,
    urls: Vec<Rc<UrlPlan>>,
}

impl HttpCheckPlan {
    /// The plan of an `HTTP_GET` or `SSL_GET` checker. Errors: `kind` is another checker,
    /// or a regex the engine cannot compile (the configuration check refuses those first).
    ///
    /// `virtualhost` applies url > checker > real server > virtual server for `Host`; the
    /// SNI of `enable_sni` is url > checker > virtual server (keepalived 2.2.7 does not send
    /// the real server's as SNI), none when no virtualhost applies.
    pub fn new(kind: &CheckerKind, target: &HttpTarget<'_>) -> Result<HttpCheckPlan, String> {
        let (check, tls): (&HttpCheck, bool) = match kind {
            CheckerKind::Http(h) => (h, false),
            CheckerKind::Ssl(h) => (h, true),
            other => return Err(format!("{} is not an HTTP checker", other.keyword())),
        };
        let version = HttpVersion::from_config(check.http_protocol.as_deref());
        let default_host = request::host_of(target.connect);
        let mut urls = Vec::with_capacity(check.urls.len());
        for u in &check.urls {
            let host = u
                .virtualhost
                .as_deref()
                .or(check.virtualhost.as_deref())
                .or(target.rs_virtualhost)
                .or(target.vs_virtualhost)
                .unwrap_or(&default_host);
            let transport = if tls {
                let sni = check.enable_sni.then(|| {
                    u.virtualhost
                        .as_deref()
                        .or(check.virtualhost.as_deref())
                        .or(target.vs_virtualhost)
                        .map(str::to_string)
                });
                Transport::Tls { sni: sni.flatten() }
            } else {
                Transport::Tcp
            };
            let digest = match &u.digest {
                Some(hex) => Some(
                    parse_digest(hex)
                        .ok_or_else(|| format!("digest '{hex}' is not 32 hex digits"))?,
                ),
                None => None,
            };
            let pattern = match &u.regex {
                Some(re) => Some(
                    Pattern::compile(
                        re,
                        &u.regex_options,
                        u.regex_no_match,
                        u.regex_min_offset,
                        u.regex_max_offset,
                    )?
                    .pattern,
                ),
                None => None,
            };
            let status_codes = if u.status_codes.is_empty() {
                vec![(200, 299)]
            } else {
                u.status_codes.clone()
            };
            urls.push(Rc::new(UrlPlan {
                request: request::build(&u.path, host, version),
                transport,
                status_codes,
                digest,
                pattern,
            }));
        }
        Ok(HttpCheckPlan {
            server: Rc::from(target.server),
            urls,
        })
    }

    /// How many urls (dialogues per full check).
    pub fn url_count(&self) -> usize {
        self.urls.len()
    }

    /// A fresh dialogue for url number `index` (in configuration order).
    pub fn dialogue(&self, index: usize) -> Option<HttpDialogue> {
        let url = self.urls.get(index)?.clone();
        let body_md5 = None;
        let matcher = url.pattern.as_ref().map(|_| Matcher::new());
        Some(HttpDialogue {
            url,
            server: self.server.clone(),
            reader: ResponseReader::new(),
            connected: false,
            wire_md5: Md5::new(),
            body_md5,
            matcher,
            verdict: None,
        })
    }
}

fn parse_digest(hex: &str) -> Option<[u8; 16]> {
    let b = hex.as_bytes();
    if b.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        let s = std::str::from_utf8(&b[2 * i..2 * i + 2]).ok()?;
        *o = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

/// One request and its response, judged.
#[derive(Debug)]
pub struct HttpDialogue {
    url: Rc<UrlPlan>,
    server: Rc<str>,
    reader: ResponseReader,
    connected: bool,
    /// MD5 of the body as on the wire (keepalived's digest).
    wire_md5: Md5,
    /// MD5 of the decoded body, for a chunked response.
    body_md5: Option<Md5>,
    matcher: Option<Matcher>,
    verdict: Option<Verdict>,
}

impl HttpDialogue {
    fn down(&self, what: &str) -> Verdict {
        Verdict::Down(format!("{what} {}.", self.server))
    }

    fn status_ok(&self, status: u16) -> bool {
        self.url
            .status_codes
            .iter()
            .any(|&(a, b)| (a..=b).contains(&status))
    }

    /// Decides once; later calls give the same verdict.
    fn decide(&mut self, v: Verdict) -> Verdict {
        self.verdict.get_or_insert(v).clone()
    }

    /// The response is complete (or truncated by the close): judge it.
    fn judge(&mut self) -> Verdict {
        let status = self.reader.head().map(|h| h.status);
        if !status.is_some_and(|s| self.status_ok(s)) {
            let v = self.down("HTTP status code error to server");
            return self.decide(v);
        }
        if let Some(want) = self.url.digest {
            let wire = std::mem::take(&mut self.wire_md5).finish();
            let body = self.body_md5.take().map(Md5::finish);
            if wire != want && body != Some(want) {
                let v = self.down("MD5 digest error to server");
                return self.decide(v);
            }
        }
        if let (Some(p), Some(m)) = (self.url.pattern.as_ref(), self.matcher.as_mut()) {
            if m.finish(p) == p.no_match() {
                let v = self.down("Regex match failed server");
                return self.decide(v);
            }
        }
        self.decide(Verdict::Up)
    }

    fn read_error(&mut self, e: &ReadError) -> Verdict {
        let v = match e {
            ReadError::NoHead => self.down("Read, no data received from  server"),
            ReadError::BadHead(_) | ReadError::HeadTooLarge => {
                self.down("HTTP status code error to server")
            }
            // The status was good (else the head decided); the body cannot be read.
            ReadError::Chunk(_) => self.down("Read error with server"),
        };
        self.decide(v)
    }
}

impl Dialogue for HttpDialogue {
    fn transport(&self) -> Transport {
        self.url.transport.clone()
    }

    fn connected(&mut self) -> Step {
        if let Some(v) = &self.verdict {
            return Step::Done(v.clone());
        }
        self.connected = true;
        Step::Send(self.url.request.clone())
    }

    fn data(&mut self, bytes: &[u8]) -> Step {
        if let Some(v) = &self.verdict {
            return Step::Done(v.clone());
        }
        let url = &self.url;
        let wire_md5 = &mut self.wire_md5;
        let body_md5 = &mut self.body_md5;
        let matcher = &mut self.matcher;
        let mut bad_status = false;
        let res = self.reader.feed(bytes, &mut |piece| match piece {
            Piece::Head(head, raw) => {
                bad_status = !url
                    .status_codes
                    .iter()
                    .any(|&(a, b)| (a..=b).contains(&head.status));
                if head.chunked && url.digest.is_some() {
                    *body_md5 = Some(Md5::new());
                }
                if let (Some(p), Some(m)) = (url.pattern.as_ref(), matcher.as_mut()) {
                    m.feed(p, raw);
                }
            }
            Piece::Wire(b) => {
                if url.digest.is_some() {
                    wire_md5.update(b);
                }
                if let (Some(p), Some(m)) = (url.pattern.as_ref(), matcher.as_mut()) {
                    m.feed(p, b);
                }
            }
            Piece::Body(b) => {
                if let Some(m) = body_md5.as_mut() {
                    m.update(b);
                }
            }
        });
        if bad_status {
            let v = self.down("HTTP status code error to server");
            return Step::Done(self.decide(v));
        }
        match res {
            Ok(true) => Step::Done(self.judge()),
            Ok(false) => Step::Wait,
            Err(e) => Step::Done(self.read_error(&e)),
        }
    }

    fn closed(&mut self) -> Verdict {
        if let Some(v) = &self.verdict {
            return v.clone();
        }
        match self.reader.close() {
            Ok(_) => self.judge(),
            Err(e) => self.read_error(&e),
        }
    }

    fn timed_out(&mut self) -> Verdict {
        if let Some(v) = &self.verdict {
            return v.clone();
        }
        let v = if self.connected {
            self.down("Timeout HTTP read server")
        } else {
            self.down("Timeout connecting server")
        };
        self.decide(v)
    }

    fn failed(&mut self, err: &ConnError) -> Verdict {
        if let Some(v) = &self.verdict {
            return v.clone();
        }
        let v = match err {
            ConnError::Tls(_) => {
                self.down("SSL handshake/communication error connecting to server")
            }
            _ if self.connected => self.down("Read error with server"),
            _ => self.down("Connection failed server"),
        };
        self.decide(v)
    }
}

/// Fuzzing entry point for the response side (register it with the fuzz harness): feeds
/// `data` as a server's answer to an HTTP_GET url that has a status range, a digest and a
/// regex, whole and in reads of several sizes, and checks that every way of splitting it
/// gives the same verdict. Never panics on any input (a panic is the finding).
pub fn fuzz_http_response(data: &[u8]) {
    use crate::config::model::UrlCheck;
    let url = UrlCheck {
        path: "/".into(),
        digest: Some("5eb63bbbe01eeed093cb22bb8f5acdc3".into()),
        status_codes: vec![(200, 299), (404, 404)],
        virtualhost: None,
        regex: Some("hel+o|wor(ld)?".into()),
        regex_no_match: false,
        regex_options: vec!["caseless".into()],
        regex_stack: None,
        regex_min_offset: Some(2),
        regex_max_offset: Some(60_000),
    };
    let kind = CheckerKind::Http(HttpCheck {
        urls: vec![url],
        ..HttpCheck::default()
    });
    let target = HttpTarget {
        server: "[127.0.0.1]:tcp:80",
        connect: SocketAddr::from(([127, 0, 0, 1], 80)),
        vs_virtualhost: None,
        rs_virtualhost: None,
    };
    let Ok(plan) = HttpCheckPlan::new(&kind, &target) else {
        return;
    };
    let run = |step: usize| -> Verdict {
        let Some(mut d) = plan.dialogue(0) else {
            return Verdict::Up;
        };
        let _ = d.connected();
        for piece in data.chunks(step.max(1)) {
            if let Step::Done(v) = d.data(piece) {
                return v;
            }
        }
        d.closed()
    };
    let whole = run(data.len());
    for step in [1, 3, 64] {
        assert_eq!(run(step), whole, "verdict depends on the read size {step}");
    }
}

#[cfg(test)]
mod tests;
