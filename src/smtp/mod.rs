//! SMTP, the client side, pure: the reply reader (`reply`: multi-line replies, codes,
//! bounded lines and counts), one e-mail as keepalived writes it (`message`), and the
//! state machine that delivers one message over one connection (`client`). The alerter
//! (`crate::alert`) drives the client; SMTP_CHECK (`crate::check::smtp`) reuses the reader.
//! Nothing here does I/O or reads a clock.

pub mod client;
pub mod message;
pub mod reply;

/// Fuzz target `smtp` (`crate::fuzzing`): a server's bytes, cut into pieces at sizes the
/// first byte picks, fed to the reply reader, to the alert client (as answers to each
/// of its commands) and to SMTP_CHECK's dialogue; none may panic, and each ends or waits.
pub fn fuzz_server_bytes(data: &[u8]) {
    use crate::check::dialogue::Dialogue;
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let piece = usize::from(first % 61) + 1;
    let mut reader = reply::ReplyReader::new();
    let mut client = client::Client::new(client::Envelope {
        helo: "fuzz".into(),
        message: message::Message {
            date: "Thu, 01 Jan 1970 00:00:00 +0000".into(),
            from: "a@b".into(),
            to: vec!["c@d".into(), "e@f".into()],
            subject: "s".into(),
            body: ".\nbody".into(),
        },
    });
    client.connected();
    let mut check = crate::check::smtp::new("fuzz");
    check.connected();
    for chunk in rest.chunks(piece) {
        if reader.push(chunk).is_ok() {
            while reader.next_reply().is_some() {}
        }
        client.data(chunk);
        check.data(chunk);
    }
    client.closed();
    let _ = check.closed();
    let _ = client.outcome();
}
