//! Which [`Service`] a simulated server of each kind runs: [`factory`] reads a `server`
//! declaration's protocol options and returns how to make one service instance per
//! connection (or per datagram exchange). The scenario parser calls it too, so a bad
//! option, or a kind whose service does not exist, is an error located at its line.
//!
//! Options by kind (one per indented line under the `server` line):
//! - `http` / `https`: `status N` and `body TEXT` (the answer to every path; default
//!   `200` and `ok`), `page PATH STATUS BODY` (the answer to one path, query included),
//!   `wrong STATUS BODY` (the `wrong` mode's answer; default `500` and `wrong <body>`),
//!   `framing length|close|chunked N`.
//! - `tcp`: none (a listener that accepts and says nothing).
//! - `smtp`: `hostname NAME` (the name in its greeting; default the server's name): a mail
//!   sink (`sim::smtp_service`); `wrong` mode answers 5xx.
//! - `udp`: none; echoes each datagram (`sim::udp_service`); `wrong` mode answers garbage.
//! - `dns`: `name NAME` (repeatable; default: every name) answered with one record of the
//!   queried type, other names NXDOMAIN (`sim::dns_service`); `wrong` mode: NXDOMAIN.
//! - `icmp`: none; answers ping with the payload (`sim::icmp_service`); `wrong`: altered.

use super::http_service::{HttpFraming, HttpService};
use super::scenario::{ServerDecl, ServerKind, ServerOpt};
use super::service::{Answer, Service};
use crate::check::md5::Md5;

/// Makes the service of one connection.
pub type ServiceFactory = Box<dyn Fn() -> Box<dyn Service>>;

/// A server's service, ready to instantiate, and a note for the trace (what it serves).
pub struct Built {
    pub make: ServiceFactory,
    pub note: String,
}

/// An error at a line of the scenario file.
pub type OptError = (usize, String);

/// The service of `decl`, from its kind and protocol options.
///
/// This is the one place a new kind of simulated server is wired in: add an arm that
/// reads the kind's options and returns its factory.
pub fn factory(decl: &ServerDecl) -> Result<Built, OptError> {
    match decl.kind {
        ServerKind::Tcp => {
            no_options(decl)?;
            Ok(Built {
                make: Box::new(|| Box::new(Listener)),
                note: "accepts and says nothing".into(),
            })
        }
        ServerKind::Http | ServerKind::Https => http(decl),
        ServerKind::Smtp => smtp(decl),
        ServerKind::Udp => {
            no_options(decl)?;
            Ok(Built {
                make: Box::new(|| Box::new(super::udp_service::UdpEcho)),
                note: "udp echo (wrong: garbage)".into(),
            })
        }
        ServerKind::Icmp => {
            no_options(decl)?;
            Ok(Built {
                make: Box::new(|| Box::new(super::icmp_service::IcmpEcho)),
                note: "answers ping (wrong: altered payload)".into(),
            })
        }
        ServerKind::Dns => dns(decl),
    }
}

fn dns(decl: &ServerDecl) -> Result<Built, OptError> {
    let mut names = Vec::new();
    for o in &decl.opts {
        match o.key.as_str() {
            "name" => {
                arity(o, 1, "NAME")?;
                names.push(arg(o, 0, "a domain name")?.to_string());
            }
            other => return Err((o.line, format!("unknown dns server option `{other}`"))),
        }
    }
    let note = if names.is_empty() {
        "dns: every name".to_string()
    } else {
        format!("dns: {} (others NXDOMAIN)", names.join(" "))
    };
    let proto = super::dns_service::DnsService::new(names);
    Ok(Built {
        make: Box::new(move || Box::new(proto.clone())),
        note,
    })
}

fn no_options(decl: &ServerDecl) -> Result<(), OptError> {
    match decl.opts.first() {
        None => Ok(()),
        Some(o) => Err((
            o.line,
            format!(
                "a {} server takes no option (`{}`)",
                decl.kind.name(),
                o.key
            ),
        )),
    }
}

/// A TCP listener: accepts, reads, never answers.
#[derive(Clone, Copy, Debug)]
pub struct Listener;

impl Service for Listener {
    fn greeting(&mut self, _wrong: bool) -> Option<Answer> {
        None
    }
    fn answer(&mut self, _input: &[u8], _wrong: bool) -> Option<Answer> {
        None
    }
}

fn arg<'a>(o: &'a ServerOpt, n: usize, what: &str) -> Result<&'a str, OptError> {
    o.args
        .get(n)
        .map(String::as_str)
        .ok_or_else(|| (o.line, format!("`{}` needs {what}", o.key)))
}

fn status(o: &ServerOpt, n: usize) -> Result<u16, OptError> {
    let s = arg(o, n, "a status code")?;
    match s.parse::<u16>() {
        Ok(v) if (100..=999).contains(&v) => Ok(v),
        _ => Err((o.line, format!("`{s}` is not an HTTP status code"))),
    }
}

fn arity(o: &ServerOpt, n: usize, usage: &str) -> Result<(), OptError> {
    if o.args.len() == n {
        Ok(())
    } else {
        Err((o.line, format!("write `{} {usage}`", o.key)))
    }
}

fn smtp(decl: &ServerDecl) -> Result<Built, OptError> {
    let mut name = decl.name.clone();
    for o in &decl.opts {
        match o.key.as_str() {
            "hostname" => {
                arity(o, 1, "NAME")?;
                name = arg(o, 0, "a host name")?.to_string();
            }
            other => return Err((o.line, format!("unknown smtp server option `{other}`"))),
        }
    }
    let note = format!("mail sink {name} (220, 250, 354, 221; wrong: 5xx)");
    let proto = super::smtp_service::SmtpSink::new(&name);
    Ok(Built {
        make: Box::new(move || Box::new(proto.clone())),
        note,
    })
}

fn http(decl: &ServerDecl) -> Result<Built, OptError> {
    let mut code = 200;
    let mut body = b"ok".to_vec();
    let mut pages = Vec::new();
    let mut wrong = None;
    let mut framing = HttpFraming::Length;
    for o in &decl.opts {
        match o.key.as_str() {
            "status" => {
                arity(o, 1, "N")?;
                code = status(o, 0)?;
            }
            "body" => {
                arity(o, 1, "TEXT")?;
                body = arg(o, 0, "a body")?.as_bytes().to_vec();
            }
            "page" => {
                arity(o, 3, "PATH STATUS BODY")?;
                let path = arg(o, 0, "a path")?.to_string();
                pages.push((path, status(o, 1)?, o.args[2].as_bytes().to_vec()));
            }
            "wrong" => {
                arity(o, 2, "STATUS BODY")?;
                wrong = Some((status(o, 0)?, o.args[1].as_bytes().to_vec()));
            }
            "framing" => {
                framing = match (arg(o, 0, "length, close or chunked N")?, o.args.len()) {
                    ("length", 1) => HttpFraming::Length,
                    ("close", 1) => HttpFraming::Close,
                    ("chunked", 2) => match o.args[1].parse::<usize>() {
                        Ok(n) if n > 0 => HttpFraming::Chunked(n),
                        _ => return Err((o.line, "chunk size: a number above 0".into())),
                    },
                    _ => return Err((o.line, "write `framing length|close|chunked N`".into())),
                }
            }
            k => {
                return Err((
                    o.line,
                    format!(
                        "unknown {} option `{k}` (status, body, page, wrong, framing)",
                        decl.kind.name()
                    ),
                ))
            }
        }
    }
    let note = format!("status {code}, body md5 {}", Md5::hex(&body));
    let mut proto = HttpService::new(code, body).with_framing(framing);
    for (path, code, body) in pages {
        proto = proto.with_page(&path, code, body);
    }
    if let Some((code, body)) = wrong {
        proto = proto.with_wrong(code, body);
    }
    Ok(Built {
        make: Box::new(move || Box::new(proto.clone())),
        note,
    })
}
