//! One e-mail as keepalived 2.2.7 writes it after `DATA` (observed on the wire):
//!
//! ```text
//! Date: Sat, 28 Nov 2026 15:24:07 +0000
//! From: kad@example.com
//! Subject: [RID1] VRRP Instance VI_1 - Entering MASTER state
//! X-Mailer: Keepalived
//! To: ops@example.com, second@example.com
//!
//! => VRRP Instance is now owning VRRP VIPs <=
//!
//! .
//! ```
//!
//! Every line ends with CRLF; a line of the body starting with `.` gets a second one
//! (RFC 5321 §4.5.2 transparency); header values never contain a line end (CR and LF are
//! replaced by spaces, so a name cannot inject a header).

/// The content of one alert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The `Date:` value (RFC 5322 date, stamped when the alert was raised).
    pub date: String,
    /// `notification_email_from`.
    pub from: String,
    /// `notification_email`, in configuration order.
    pub to: Vec<String>,
    pub subject: String,
    /// The body; lines separated by `\n` (written as CRLF).
    pub body: String,
}

/// A header value on one line.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
        .collect()
}

impl Message {
    /// The bytes sent after the server's `354`: headers, blank line, body, blank line and
    /// the terminating `.` line.
    pub fn data(&self) -> Vec<u8> {
        let mut out = String::new();
        out.push_str(&format!("Date: {}\r\n", one_line(&self.date)));
        out.push_str(&format!("From: {}\r\n", one_line(&self.from)));
        out.push_str(&format!("Subject: {}\r\n", one_line(&self.subject)));
        out.push_str("X-Mailer: Keepalived\r\n");
        out.push_str(&format!("To: {}\r\n", one_line(&self.to.join(", "))));
        out.push_str("\r\n");
        for line in self.body.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.starts_with('.') {
                out.push('.');
            }
            out.push_str(line);
            out.push_str("\r\n");
        }
        out.push_str("\r\n.\r\n");
        out.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(body: &str) -> Message {
        Message {
            date: "Sat, 28 Nov 2026 15:24:07 +0000".into(),
            from: "kad@example.com".into(),
            to: vec!["ops@example.com".into(), "second@example.com".into()],
            subject: "[RID1] VRRP Instance VI_1 - Entering MASTER state".into(),
            body: body.into(),
        }
    }

    #[test]
    fn keepalived_layout() {
        let m = msg("=> VRRP Instance is now owning VRRP VIPs <=");
        assert_eq!(
            String::from_utf8(m.data()).unwrap(),
            "Date: Sat, 28 Nov 2026 15:24:07 +0000\r\n\
             From: kad@example.com\r\n\
             Subject: [RID1] VRRP Instance VI_1 - Entering MASTER state\r\n\
             X-Mailer: Keepalived\r\n\
             To: ops@example.com, second@example.com\r\n\
             \r\n\
             => VRRP Instance is now owning VRRP VIPs <=\r\n\
             \r\n\
             .\r\n"
        );
    }

    #[test]
    fn dots_are_stuffed_and_headers_stay_on_one_line() {
        let mut m = msg(".hidden\n..two\nplain\n.");
        m.subject = "evil\r\nBcc: x@y".into();
        let text = String::from_utf8(m.data()).unwrap();
        assert!(text.contains("\r\n\r\n..hidden\r\n...two\r\nplain\r\n..\r\n\r\n.\r\n"));
        assert!(text.contains("Subject: evil  Bcc: x@y\r\n"));
        assert_eq!(text.matches("\r\n.\r\n").count(), 1, "one terminator");
    }
}
