//! A simulated web server for HTTP_GET / SSL_GET scenarios: implements
//! [`Service`](super::service::Service). Once a complete request has arrived (up to the
//! blank line after its headers) it answers with the configured status and body and closes
//! the connection, as an HTTP/1.0 server does. In the scenario's `wrong` mode it answers
//! with the wrong status and body instead (default: `500` and a different body, so both a
//! status check and a digest fail).
//!
//! The simulator makes one instance per connection: build a prototype with
//! [`HttpService::new`] and the `with_*` options, and clone it for each connection.
//! TLS is the simulator's concern (it carries plaintext for `Transport::Tls`), so the same
//! service answers SSL_GET.

use super::service::{Answer, Service};
use std::collections::BTreeMap;

/// Longest request accepted (a client sending more gets `400` and the close).
const MAX_REQUEST: usize = 64 * 1024;

/// How the body is framed on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum HttpFraming {
    /// `Content-Length` (the default).
    #[default]
    Length,
    /// `Transfer-Encoding: chunked`, in chunks of this many bytes (at least 1).
    Chunked(usize),
    /// No length: the close ends the body.
    Close,
}

/// One page: status and body.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Page {
    status: u16,
    body: Vec<u8>,
}

/// A simulated HTTP server (one connection's worth).
#[derive(Clone, Debug)]
pub struct HttpService {
    /// The answer to any path without a page of its own.
    default: Page,
    /// Answers by request path.
    pages: BTreeMap<String, Page>,
    /// The answer in `wrong` mode, to every path.
    wrong: Page,
    framing: HttpFraming,
    /// The request bytes received so far (until its head is complete).
    request: Vec<u8>,
    answered: bool,
}

impl HttpService {
    /// A server answering every request with `status` and `body`; in `wrong` mode with
    /// `500` and `wrong <body>`.
    pub fn new(status: u16, body: Vec<u8>) -> HttpService {
        let mut wrong_body = b"wrong ".to_vec();
        wrong_body.extend_from_slice(&body);
        HttpService {
            default: Page { status, body },
            pages: BTreeMap::new(),
            wrong: Page {
                status: 500,
                body: wrong_body,
            },
            framing: HttpFraming::Length,
            request: Vec::new(),
            answered: false,
        }
    }

    /// Answers requests for `path` (exactly, query included) with `status` and `body`.
    pub fn with_page(mut self, path: &str, status: u16, body: Vec<u8>) -> HttpService {
        self.pages.insert(path.to_string(), Page { status, body });
        self
    }

    /// What `wrong` mode answers.
    pub fn with_wrong(mut self, status: u16, body: Vec<u8>) -> HttpService {
        self.wrong = Page { status, body };
        self
    }

    /// How bodies are framed.
    pub fn with_framing(mut self, framing: HttpFraming) -> HttpService {
        self.framing = framing;
        self
    }

    fn response(&self, page: &Page) -> Vec<u8> {
        let reason = match page.status {
            200 => "OK",
            404 => "Not Found",
            400 => "Bad Request",
            500 => "Internal Server Error",
            _ => "Status",
        };
        let mut out = format!(
            "HTTP/1.0 {} {reason}\r\nServer: keepalived-rs-sim\r\n",
            page.status
        )
        .into_bytes();
        match self.framing {
            HttpFraming::Length => {
                out.extend_from_slice(
                    format!("Content-Length: {}\r\n\r\n", page.body.len()).as_bytes(),
                );
                out.extend_from_slice(&page.body);
            }
            HttpFraming::Close => {
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(&page.body);
            }
            HttpFraming::Chunked(size) => {
                out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                for chunk in page.body.chunks(size.max(1)) {
                    out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                    out.extend_from_slice(chunk);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\n\r\n");
            }
        }
        out
    }
}

impl Service for HttpService {
    fn greeting(&mut self, _wrong: bool) -> Option<Answer> {
        None
    }

    fn answer(&mut self, input: &[u8], wrong: bool) -> Option<Answer> {
        if self.answered {
            return None;
        }
        let room = MAX_REQUEST.saturating_sub(self.request.len());
        self.request
            .extend_from_slice(&input[..input.len().min(room)]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        let page = match req.parse(&self.request) {
            Ok(httparse::Status::Complete(_)) => {
                if wrong {
                    self.wrong.clone()
                } else {
                    let path = req.path.unwrap_or("");
                    self.pages.get(path).unwrap_or(&self.default).clone()
                }
            }
            Ok(httparse::Status::Partial) if self.request.len() < MAX_REQUEST => return None,
            _ => Page {
                status: 400,
                body: b"bad request".to_vec(),
            },
        };
        self.answered = true;
        Some(Answer {
            bytes: self.response(&page),
            close: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::dialogue::{Dialogue, Step, Verdict};
    use crate::check::http::{HttpCheckPlan, HttpTarget};
    use crate::check::md5::Md5;
    use crate::config::model::{CheckerKind, HttpCheck, UrlCheck};

    fn url(digest: Option<String>) -> UrlCheck {
        UrlCheck {
            path: "/index.html".into(),
            digest,
            status_codes: vec![(200, 299)],
            virtualhost: None,
            regex: None,
            regex_no_match: false,
            regex_options: Vec::new(),
            regex_stack: None,
            regex_min_offset: None,
            regex_max_offset: None,
        }
    }

    /// Runs the real HTTP_GET dialogue against the service, as the simulator wires them:
    /// the request in pieces of `step` bytes, the answer whole, then the close.
    fn check(service: &HttpService, u: UrlCheck, wrong: bool, step: usize) -> Verdict {
        let kind = CheckerKind::Http(HttpCheck {
            urls: vec![u],
            ..HttpCheck::default()
        });
        let target = HttpTarget {
            server: "[10.0.0.2]:tcp:80",
            connect: "10.0.0.2:80".parse().unwrap(),
            vs_virtualhost: None,
            rs_virtualhost: None,
        };
        let plan = HttpCheckPlan::new(&kind, &target).unwrap();
        let mut d = plan.dialogue(0).unwrap();
        let mut s = service.clone();
        assert_eq!(s.greeting(wrong), None);
        let Step::Send(req) = d.connected() else {
            panic!("no request")
        };
        let mut answer = None;
        for piece in req.chunks(step) {
            assert!(answer.is_none(), "answered before the request was complete");
            answer = s.answer(piece, wrong);
        }
        let a = answer.expect("an answer to a complete request");
        assert!(a.close);
        match d.data(&a.bytes) {
            Step::Done(v) => v,
            Step::Wait => d.closed(),
            Step::Send(_) => panic!("sent twice"),
        }
    }

    #[test]
    fn up_and_wrong_modes_with_every_framing() {
        let body = b"<html>hello</html>".to_vec();
        let digest = Some(Md5::hex(&body));
        for framing in [
            HttpFraming::Length,
            HttpFraming::Close,
            HttpFraming::Chunked(1),
            HttpFraming::Chunked(5),
        ] {
            let s = HttpService::new(200, body.clone()).with_framing(framing);
            for step in [1, 7, 1000] {
                assert_eq!(check(&s, url(digest.clone()), false, step), Verdict::Up);
                assert_eq!(
                    check(&s, url(None), true, step),
                    Verdict::Down("HTTP status code error to server [10.0.0.2]:tcp:80.".into()),
                    "{framing:?}"
                );
            }
            // Wrong with a good status: the digest catches it.
            let s = s.with_wrong(200, b"other".to_vec());
            assert_eq!(
                check(&s, url(digest.clone()), true, 1000),
                Verdict::Down("MD5 digest error to server [10.0.0.2]:tcp:80.".into())
            );
        }
    }

    #[test]
    fn pages_by_path_and_bad_requests() {
        let s = HttpService::new(200, b"x".to_vec()).with_page("/index.html", 404, b"nf".to_vec());
        assert_eq!(
            check(&s, url(None), false, 1000),
            Verdict::Down("HTTP status code error to server [10.0.0.2]:tcp:80.".into())
        );
        let mut s = HttpService::new(200, b"x".to_vec());
        let a = s.answer(b"NOT HTTP AT ALL\r\n\r\n", false).unwrap();
        assert!(a.bytes.starts_with(b"HTTP/1.0 400 "));
        assert_eq!(s.answer(b"more", false), None, "one answer per connection");
        let mut s = HttpService::new(200, b"x".to_vec());
        assert_eq!(s.answer(&vec![b'a'; MAX_REQUEST - 1], false), None);
        let a = s.answer(b"aaaa", false).unwrap();
        assert!(a.bytes.starts_with(b"HTTP/1.0 400 "));
    }
}
