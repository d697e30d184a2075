//! Health checkers (TCP_CHECK, HTTP_GET, SSL_GET, SMTP_CHECK, MISC_CHECK, DNS_CHECK,
//! UDP_CHECK, PING_CHECK, FILE_CHECK) as non-blocking state machines of the engine. Their
//! configuration is parsed by `config`.
//!
//! The pieces: `dialogue` is the contract between the checker runtime (timing, retries,
//! real-server state) and each protocol (what to send, how to judge the answer); each
//! protocol module implements it and is tested on byte streams alone. `runtime` runs the
//! checkers (timing, retries, real-server state); `plan` picks each checker's dialogue;
//! `tcp` is TCP_CHECK, `dns` DNS_CHECK, `udp` UDP_CHECK, `ping` PING_CHECK.

pub mod dialogue;
pub mod dns;
pub mod http;
pub mod md5;
pub mod ping;
pub mod plan;
pub mod runtime;
pub mod smtp;
pub mod tcp;
pub mod udp;
