//! SMTP, the client side, pure: the reply reader (`reply`: multi-line replies, codes,
//! bounded lines and counts), one e-mail as keepalived writes it (`message`), and the
//! state machine that delivers one message over one connection (`client`). The alerter
//! (`crate::alert`) drives the client; SMTP_CHECK (`crate::check::smtp`) reuses the reader.
//! Nothing here does I/O or reads a clock.

pub mod client;
pub mod message;
pub mod reply;
