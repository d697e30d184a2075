//! HTTP_GET response judging: MB/s of the pure dialogue (response reader, MD5, regex
//! window) on a 4 MB answer in 16 KiB reads, per framing ("status only" touches no body
//! byte: it shows the reader costs nothing without a digest or regex). `cargo bench --bench http`.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

use keepalived_rs::check::dialogue::{Dialogue, Step, Verdict};
use keepalived_rs::check::http::{HttpCheckPlan, HttpTarget};
use keepalived_rs::check::md5::Md5;
use keepalived_rs::config::model::{CheckerKind, HttpCheck, UrlCheck};
use std::time::Instant as Clock;

const BODY: usize = 4 << 20;
const ROUNDS: usize = 10;

fn plan(digest: Option<String>, regex: Option<&str>) -> HttpCheckPlan {
    let url = UrlCheck {
        path: "/".into(),
        digest,
        status_codes: vec![(200, 299)],
        virtualhost: None,
        regex: regex.map(str::to_string),
        regex_no_match: false,
        regex_options: Vec::new(),
        regex_stack: None,
        regex_min_offset: None,
        regex_max_offset: None,
    };
    let kind = CheckerKind::Http(HttpCheck {
        urls: vec![url],
        ..HttpCheck::default()
    });
    let target = HttpTarget {
        server: "[127.0.0.1]:tcp:80",
        connect: "127.0.0.1:80".parse().expect("address literal"),
        vs_virtualhost: None,
        rs_virtualhost: None,
    };
    HttpCheckPlan::new(&kind, &target).expect("plan")
}

fn run(name: &str, p: &HttpCheckPlan, response: &[u8]) {
    let start = Clock::now();
    for _ in 0..ROUNDS {
        let mut d = p.dialogue(0).expect("url 0");
        d.connected();
        let mut v = None;
        for piece in response.chunks(16384) {
            if let Step::Done(x) = d.data(piece) {
                v = Some(x);
                break;
            }
        }
        let v = v.unwrap_or_else(|| d.closed());
        assert_eq!(v, Verdict::Up, "{name}");
    }
    let secs = start.elapsed().as_secs_f64();
    let mb = (response.len() * ROUNDS) as f64 / 1e6;
    println!("{name:<44} {:>8.0} MB/s", mb / secs);
}

fn main() {
    let body: Vec<u8> = (0..BODY as u32).map(|i| b'a' + (i % 23) as u8).collect();
    let mut tail = body.clone();
    tail.extend_from_slice(b"needle");
    let md5 = Some(Md5::hex(&body));
    let length = [
        format!("HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes(),
        &body,
    ]
    .concat();
    let mut chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for c in body.chunks(4000) {
        chunked.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        chunked.extend_from_slice(c);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let close = [b"HTTP/1.0 200 OK\r\n\r\n".as_slice(), &tail].concat();
    run("status only, Content-Length", &plan(None, None), &length);
    run("digest, Content-Length", &plan(md5.clone(), None), &length);
    run(
        "digest, chunked (wire + decoded MD5)",
        &plan(md5, None),
        &chunked,
    );
    run(
        "regex at the end, close-delimited",
        &plan(None, Some("needle")),
        &close,
    );
}
