//! The control socket's protocol (an extension of keepalived-rs; `sys::control` does the
//! I/O): a client sends one line and gets one answer, then the daemon closes.
//!
//! Requests: `status`, `status json`, `status [json] INSTANCE...`, `metrics`,
//! `metrics openmetrics`. Answers: `OK` and a newline, then the body; or `ERR message` and
//! a newline. Pure: parsing and answering from a [`Snapshot`].

use super::live::{render_status_json, render_status_text, unknown_instances};
use super::metrics::{render_metrics, Format, WorldMetric};
use super::{HostFacts, Snapshot};

/// The longest request line accepted (bytes, newline included).
pub const MAX_REQUEST: usize = 4096;

/// A parsed request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// The live status of every instance, or of those named.
    Status { json: bool, only: Vec<String> },
    /// The metrics exposition.
    Metrics { format: Format },
}

impl Request {
    /// The request line a client sends for this request (with its newline).
    pub fn line(&self) -> String {
        match self {
            Request::Status { json, only } => {
                let mut words = vec!["status"];
                if *json {
                    words.push("json");
                }
                words.extend(only.iter().map(String::as_str));
                format!("{}\n", words.join(" "))
            }
            Request::Metrics {
                format: Format::Prometheus,
            } => "metrics\n".into(),
            Request::Metrics {
                format: Format::OpenMetrics,
            } => "metrics openmetrics\n".into(),
        }
    }
}

/// Parses one request line (without or with its line end).
pub fn parse_request(line: &str) -> Result<Request, String> {
    let mut words = line.split_ascii_whitespace();
    match words.next() {
        Some("status") => {
            let mut rest: Vec<String> = words.map(str::to_string).collect();
            let json = rest.first().is_some_and(|w| w == "json");
            if json {
                rest.remove(0);
            }
            Ok(Request::Status { json, only: rest })
        }
        Some("metrics") => match (words.next(), words.next()) {
            (None, _) => Ok(Request::Metrics {
                format: Format::Prometheus,
            }),
            (Some("openmetrics"), None) => Ok(Request::Metrics {
                format: Format::OpenMetrics,
            }),
            (Some(w), _) => Err(format!(
                "metrics: unexpected '{w}' (expected nothing or 'openmetrics')"
            )),
        },
        Some(w) => Err(format!(
            "unknown request '{w}': expected 'status [json] [INSTANCE...]' or 'metrics [openmetrics]'"
        )),
        None => Err("empty request: expected 'status' or 'metrics'".into()),
    }
}

/// The answer to `req`: its body, or an error message.
pub fn answer(
    req: &Request,
    snap: &Snapshot,
    facts: &HostFacts,
    world: &[WorldMetric],
) -> Result<String, String> {
    match req {
        Request::Status { json, only } => {
            let unknown = unknown_instances(snap, only);
            if !unknown.is_empty() {
                return Err(format!("no VRRP instance named {}", unknown.join(", ")));
            }
            Ok(if *json {
                render_status_json(snap, facts, only)
            } else {
                render_status_text(snap, facts, only)
            })
        }
        Request::Metrics { format } => Ok(render_metrics(snap, facts, world, *format)),
    }
}

/// An answer as the bytes sent on the socket.
pub fn encode_reply(reply: &Result<String, String>) -> Vec<u8> {
    match reply {
        Ok(body) => format!("OK\n{body}").into_bytes(),
        Err(msg) => format!("ERR {}\n", msg.replace('\n', " ")).into_bytes(),
    }
}

/// The client's side of [`encode_reply`]: the body, or the daemon's error message.
pub fn decode_reply(text: &str) -> Result<&str, String> {
    if let Some(body) = text.strip_prefix("OK\n") {
        Ok(body)
    } else if let Some(msg) = text.strip_prefix("ERR ") {
        Err(msg.trim_end().to_string())
    } else if text.is_empty() {
        Err("the daemon closed the connection without an answer".into())
    } else {
        Err(format!(
            "unexpected answer: {}",
            text.lines().next().unwrap_or_default()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_and_print_back() {
        let cases = [
            (
                "status\n",
                Request::Status {
                    json: false,
                    only: vec![],
                },
            ),
            (
                "status json\n",
                Request::Status {
                    json: true,
                    only: vec![],
                },
            ),
            (
                "status VI_1 VI_2\n",
                Request::Status {
                    json: false,
                    only: vec!["VI_1".into(), "VI_2".into()],
                },
            ),
            (
                "status json VI_1\n",
                Request::Status {
                    json: true,
                    only: vec!["VI_1".into()],
                },
            ),
            (
                "metrics\n",
                Request::Metrics {
                    format: Format::Prometheus,
                },
            ),
            (
                "metrics openmetrics\n",
                Request::Metrics {
                    format: Format::OpenMetrics,
                },
            ),
        ];
        for (line, want) in cases {
            assert_eq!(parse_request(line).as_ref(), Ok(&want), "{line}");
            assert_eq!(want.line(), line);
        }
        assert_eq!(
            parse_request("status  json\tVI_1\r\n"),
            Ok(Request::Status {
                json: true,
                only: vec!["VI_1".into()]
            })
        );
        assert!(parse_request("").unwrap_err().contains("empty"));
        assert!(parse_request("stats\n").unwrap_err().contains("'stats'"));
        assert!(parse_request("metrics json\n").is_err());
    }

    #[test]
    fn replies_round_trip() {
        let ok = encode_reply(&Ok("body\n".into()));
        assert_eq!(ok, b"OK\nbody\n");
        assert_eq!(decode_reply("OK\nbody\n"), Ok("body\n"));
        let err = encode_reply(&Err("no VRRP instance named X\nY".into()));
        assert_eq!(err, b"ERR no VRRP instance named X Y\n");
        assert_eq!(
            decode_reply(std::str::from_utf8(&err).unwrap()),
            Err("no VRRP instance named X Y".into())
        );
        assert!(decode_reply("").is_err());
        assert!(decode_reply("HTTP/1.1 400\r\n").is_err());
    }
}
