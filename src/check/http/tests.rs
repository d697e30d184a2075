//! Dialogue tests on byte streams: every protocol version's request, every framing with
//! reads of every size, status / digest / regex verdicts with keepalived's log lines, and
//! hostile input.

use super::*;
use crate::config::model::UrlCheck;

const SERVER: &str = "[127.0.0.1]:tcp:8081";
/// MD5 of "hello world".
const HELLO_MD5: &str = "5eb63bbbe01eeed093cb22bb8f5acdc3";
/// MD5 of the chunked wire bytes `5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n` (what keepalived's
/// genhash prints for that answer).
const CHUNKED_WIRE_MD5: &str = "fc3946cc674492e3e09d9e45c4c09023";
const CHUNKED: &[u8] =
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";

fn url(path: &str) -> UrlCheck {
    UrlCheck {
        path: path.into(),
        digest: None,
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

fn target() -> HttpTarget<'static> {
    HttpTarget {
        server: SERVER,
        connect: "127.0.0.1:8081".parse().unwrap(),
        vs_virtualhost: None,
        rs_virtualhost: None,
    }
}

fn plan_of(check: HttpCheck) -> HttpCheckPlan {
    HttpCheckPlan::new(&CheckerKind::Http(check), &target()).unwrap()
}

fn plan(u: UrlCheck) -> HttpCheckPlan {
    plan_of(HttpCheck {
        urls: vec![u],
        ..HttpCheck::default()
    })
}

fn down(what: &str) -> Verdict {
    Verdict::Down(format!("{what} {SERVER}."))
}

/// Runs url 0 against `response` delivered in reads of `step` bytes; `close`: the server
/// closes after sending. Returns the verdict (`None`: still waiting).
fn run_with(p: &HttpCheckPlan, response: &[u8], step: usize, close: bool) -> Option<Verdict> {
    let mut d = p.dialogue(0).unwrap();
    assert!(matches!(d.connected(), Step::Send(_)));
    for piece in response.chunks(step.max(1)) {
        match d.data(piece) {
            Step::Done(v) => return Some(v),
            Step::Wait => {}
            Step::Send(b) => panic!("sent again: {b:?}"),
        }
    }
    close.then(|| d.closed())
}

/// The verdict, asserted equal for reads of every size from 1 byte to the whole answer.
fn verdict(p: &HttpCheckPlan, response: &[u8], close: bool) -> Option<Verdict> {
    let whole = run_with(p, response, response.len(), close);
    for step in 1..response.len() {
        assert_eq!(run_with(p, response, step, close), whole, "step {step}");
    }
    whole
}

fn request_of(p: &HttpCheckPlan, i: usize) -> String {
    let mut d = p.dialogue(i).unwrap();
    match d.connected() {
        Step::Send(b) => String::from_utf8(b).unwrap(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn requests_per_protocol_and_virtualhost_precedence() {
    let mut u_vh = url("/e");
    u_vh.virtualhost = Some("urlvh.example".into());
    let mk = |proto: Option<&str>, vh: Option<&str>| HttpCheck {
        http_protocol: proto.map(str::to_string),
        virtualhost: vh.map(str::to_string),
        urls: vec![url("/a"), u_vh.clone()],
        ..HttpCheck::default()
    };
    let p = plan_of(mk(None, None));
    assert_eq!(
        request_of(&p, 0),
        "GET /a HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 127.0.0.1:8081\r\n\r\n"
    );
    assert_eq!(
        request_of(&p, 1),
        "GET /e HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: urlvh.example\r\n\r\n"
    );
    let p = plan_of(mk(Some("1.0C"), None));
    assert_eq!(
        request_of(&p, 0),
        "GET /a HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: 127.0.0.1:8081\r\n\r\n"
    );
    let p = plan_of(mk(Some("1.1"), Some("vh.example")));
    assert_eq!(
        request_of(&p, 0),
        "GET /a HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: vh.example\r\n\r\n"
    );
    assert!(request_of(&p, 1).contains("\r\nHost: urlvh.example\r\n"));
    assert!(p.dialogue(2).is_none());
    assert_eq!(p.url_count(), 2);

    // Real server over virtual server; connect_ip/connect_port make the default Host.
    let t = HttpTarget {
        server: "[127.0.0.1]:tcp:9999",
        connect: "[::1]:8155".parse().unwrap(),
        vs_virtualhost: Some("vs.example"),
        rs_virtualhost: Some("rs.example"),
    };
    let check = HttpCheck {
        urls: vec![url("/x")],
        ..HttpCheck::default()
    };
    let p = HttpCheckPlan::new(&CheckerKind::Http(check.clone()), &t).unwrap();
    assert!(request_of(&p, 0).contains("\r\nHost: rs.example\r\n"));
    let t2 = HttpTarget {
        rs_virtualhost: None,
        ..t.clone()
    };
    let p = HttpCheckPlan::new(&CheckerKind::Http(check.clone()), &t2).unwrap();
    assert!(request_of(&p, 0).contains("\r\nHost: vs.example\r\n"));
    let t3 = HttpTarget {
        vs_virtualhost: None,
        ..t2
    };
    let p = HttpCheckPlan::new(&CheckerKind::Http(check), &t3).unwrap();
    assert!(request_of(&p, 0).contains("\r\nHost: [::1]:8155\r\n"));
    assert_eq!(p.dialogue(0).unwrap().transport(), Transport::Tcp);
}

/// SNI as keepalived 2.2.7 sends it (captured with an `ssl` server's sni_callback).
#[test]
fn ssl_transport_and_sni() {
    let mut u_vh = url("/urlvh");
    u_vh.virtualhost = Some("url.example".into());
    let t = HttpTarget {
        vs_virtualhost: Some("vs.example"),
        rs_virtualhost: Some("rs.example"),
        ..target()
    };
    let sni = |enable: bool, ck_vh: Option<&str>, t: &HttpTarget| -> Vec<Transport> {
        let check = HttpCheck {
            enable_sni: enable,
            virtualhost: ck_vh.map(str::to_string),
            urls: vec![u_vh.clone(), url("/ck")],
            ..HttpCheck::default()
        };
        let p = HttpCheckPlan::new(&CheckerKind::Ssl(check), t).unwrap();
        (0..2).map(|i| p.dialogue(i).unwrap().transport()).collect()
    };
    let tls = |s: Option<&str>| Transport::Tls {
        sni: s.map(str::to_string),
    };
    assert_eq!(
        sni(true, Some("ck.example"), &t),
        vec![tls(Some("url.example")), tls(Some("ck.example"))]
    );
    // The real server's virtualhost is the Host header but not the SNI.
    assert_eq!(
        sni(true, None, &t),
        vec![tls(Some("url.example")), tls(Some("vs.example"))]
    );
    let bare = HttpTarget {
        vs_virtualhost: None,
        ..t.clone()
    };
    assert_eq!(
        sni(true, None, &bare),
        vec![tls(Some("url.example")), tls(None)]
    );
    assert_eq!(
        sni(false, Some("ck.example"), &t),
        vec![tls(None), tls(None)]
    );
    assert!(HttpCheckPlan::new(&CheckerKind::Tcp, &t).is_err());
}

#[test]
fn status_codes() {
    let ok = b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    assert_eq!(verdict(&plan(url("/")), ok, false), Some(Verdict::Up));
    let e500 = b"HTTP/1.0 500 Oops\r\nContent-Length: 5\r\n\r\nhello";
    // Decided at the head, before the body.
    let head_len = e500.len() - 5;
    assert_eq!(
        run_with(&plan(url("/")), &e500[..head_len], head_len, false),
        Some(down("HTTP status code error to server"))
    );
    let mut u = url("/");
    u.status_codes = vec![(200, 200), (404, 404), (500, 503)];
    let p = plan(u);
    for (code, up) in [
        (200, true),
        (201, false),
        (404, true),
        (502, true),
        (504, false),
    ] {
        let r = format!("HTTP/1.1 {code} X\r\nContent-Length: 0\r\n\r\n");
        let want = if up {
            Verdict::Up
        } else {
            down("HTTP status code error to server")
        };
        assert_eq!(verdict(&p, r.as_bytes(), false), Some(want), "{code}");
    }
    // No reason phrase; an HTTP/1.1 answer to a 1.0 request.
    assert_eq!(
        verdict(&plan(url("/")), b"HTTP/1.1 204\r\n\r\n", true),
        Some(Verdict::Up)
    );
}

#[test]
fn content_length_body_decides_without_the_close() {
    let mut u = url("/");
    u.digest = Some(HELLO_MD5.into());
    let p = plan(u);
    let r = b"HTTP/1.0 200 OK\r\nContent-Length: 11\r\n\r\nhello world";
    assert_eq!(verdict(&p, r, false), Some(Verdict::Up));
    // Bytes beyond Content-Length are not hashed (keepalived's genhash and checker agree).
    let r = b"HTTP/1.0 200 OK\r\nContent-Length: 11\r\n\r\nhello worldTRAILING";
    assert_eq!(verdict(&p, r, false), Some(Verdict::Up));
    let r = b"HTTP/1.0 200 OK\r\nContent-Length: 11\r\n\r\nhello world";
    let mut u = url("/");
    u.digest = Some("00000000000000000000000000000001".into());
    assert_eq!(
        verdict(&plan(u), r, false),
        Some(down("MD5 digest error to server"))
    );
}

#[test]
fn close_delimited_body() {
    let mut u = url("/");
    u.digest = Some(HELLO_MD5.into());
    let p = plan(u);
    let r = b"HTTP/1.0 200 OK\r\nServer: t\r\n\r\nhello world";
    assert_eq!(verdict(&p, r, false), None, "waits for the close");
    assert_eq!(verdict(&p, r, true), Some(Verdict::Up));
    let r = b"HTTP/1.0 200 OK\r\n\r\nhello worl";
    assert_eq!(
        verdict(&p, r, true),
        Some(down("MD5 digest error to server"))
    );
    // Bare LF line ends are accepted (keepalived 2.2.7 reads them as "no data").
    let r = b"HTTP/1.0 200 OK\n\nhello world";
    assert_eq!(verdict(&p, r, true), Some(Verdict::Up));
}

#[test]
fn chunked_digest_matches_keepalived_or_md5sum() {
    for digest in [HELLO_MD5, CHUNKED_WIRE_MD5] {
        let mut u = url("/");
        u.digest = Some(digest.into());
        assert_eq!(
            verdict(&plan(u), CHUNKED, false),
            Some(Verdict::Up),
            "{digest}"
        );
    }
    let mut u = url("/");
    u.digest = Some("00000000000000000000000000000001".into());
    assert_eq!(
        verdict(&plan(u), CHUNKED, false),
        Some(down("MD5 digest error to server"))
    );
}

#[test]
fn chunked_with_odd_boundaries_and_extensions() {
    let body: Vec<u8> = (0..3000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    let mut at = 0;
    for (k, size) in [1usize, 2, 3, 0x10, 0x1ff, 7, 1000, 1]
        .iter()
        .cycle()
        .enumerate()
    {
        if at >= body.len() {
            break;
        }
        let n = (*size).min(body.len() - at);
        if k % 3 == 0 {
            wire.extend_from_slice(format!("{n:X};ext=\"v\"\r\n").as_bytes());
        } else {
            wire.extend_from_slice(format!("{n:x}\r\n").as_bytes());
        }
        wire.extend_from_slice(&body[at..at + n]);
        wire.extend_from_slice(b"\r\n");
        at += n;
    }
    wire.extend_from_slice(b"0\r\nX-Trailer: yes\r\n\r\n");
    let mut u = url("/");
    u.digest = Some(Md5::hex(&body));
    let p = plan(u);
    // Every read size (the whole response is ~3.2 kB: 1..len reads of each size).
    assert_eq!(verdict(&p, &wire, false), Some(Verdict::Up));
}

#[test]
fn broken_chunks_and_garbage_are_down() {
    let p = plan(url("/"));
    let r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n";
    assert_eq!(verdict(&p, r, true), Some(down("Read error with server")));
    let r = b"XYZ garbage\r\n\r\nstuff";
    assert_eq!(
        verdict(&p, r, true),
        Some(down("HTTP status code error to server"))
    );
    assert_eq!(
        verdict(&p, b"HTTP/1.0 200 OK\r\nContent-Le", true),
        Some(down("Read, no data received from  server"))
    );
    assert_eq!(
        run_with(&p, b"", 1, true),
        Some(down("Read, no data received from  server"))
    );
    let mut big = b"HTTP/1.0 200 OK\r\n".to_vec();
    big.resize(200_000, b'h');
    assert_eq!(
        run_with(&p, &big, 8192, false),
        Some(down("HTTP status code error to server"))
    );
}

#[test]
fn regex_verdicts() {
    let resp = b"HTTP/1.0 200 OK\r\nContent-Length: 11\r\n\r\nhello world";
    /// regex, regex_no_match, regex_options, min and max offsets, up.
    type Case<'a> = (&'a str, bool, &'a [&'a str], Option<u32>, Option<u32>, bool);
    let cases: &[Case] = &[
        ("wor.d", false, &[], None, None, true),
        ("xyz", false, &[], None, None, false),
        ("wor.d", true, &[], None, None, false),
        ("xyz", true, &[], None, None, true),
        ("HELLO", false, &["caseless"], None, None, true),
        ("world", false, &[], None, Some(44), false),
        ("world", false, &[], Some(45), Some(45), true),
        ("hello", false, &[], Some(40), None, false),
    ];
    for &(re, no_match, opts, min, max, up) in cases {
        let mut u = url("/");
        u.regex = Some(re.into());
        u.regex_no_match = no_match;
        u.regex_options = opts.iter().map(|s| s.to_string()).collect();
        u.regex_min_offset = min;
        u.regex_max_offset = max;
        let want = if up {
            Verdict::Up
        } else {
            down("Regex match failed server")
        };
        assert_eq!(verdict(&plan(u), resp, false), Some(want), "{re}");
    }
}

#[test]
fn connection_outcomes_use_keepalived_wording() {
    let p = plan(url("/"));
    let mut d = p.dialogue(0).unwrap();
    assert_eq!(d.timed_out(), down("Timeout connecting server"));
    let mut d = p.dialogue(0).unwrap();
    d.connected();
    assert_eq!(d.timed_out(), down("Timeout HTTP read server"));
    let mut d = p.dialogue(0).unwrap();
    assert_eq!(
        d.failed(&ConnError::Refused),
        down("Connection failed server")
    );
    let mut d = p.dialogue(0).unwrap();
    d.connected();
    assert_eq!(d.failed(&ConnError::Reset), down("Read error with server"));
    let mut d = p.dialogue(0).unwrap();
    assert_eq!(
        d.failed(&ConnError::Tls("handshake".into())),
        down("SSL handshake/communication error connecting to server")
    );
    // Decided once: later events repeat the verdict.
    let mut d = p.dialogue(0).unwrap();
    d.connected();
    assert_eq!(
        d.data(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"),
        Step::Done(Verdict::Up)
    );
    assert_eq!(d.data(b"more"), Step::Done(Verdict::Up));
    assert_eq!(d.closed(), Verdict::Up);
    assert_eq!(d.timed_out(), Verdict::Up);
}

#[test]
fn hostile_input_never_panics() {
    let mut u = url("/");
    u.digest = Some(HELLO_MD5.into());
    u.regex = Some("a+b".into());
    let p = plan(u);
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let prefixes: [&[u8]; 4] = [
        b"",
        b"HTTP/1.1 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
    ];
    for round in 0..400 {
        let mut data = prefixes[round % 4].to_vec();
        let n = (next() % 3000) as usize;
        let alphabet = b"0123456789abcdefABCDEF\r\n;: HTTP/1.\x00\xff";
        data.extend((0..n).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]));
        let step = 1 + (next() % 97) as usize;
        let v = run_with(&p, &data, step, true);
        assert!(v.is_some());
        fuzz_http_response(&data[..data.len().min(600)]);
    }
}

#[test]
fn fuzz_entry_point_accepts_anything() {
    fuzz_http_response(b"");
    fuzz_http_response(b"HTTP/1.0 200 OK\r\n\r\nhello world");
    fuzz_http_response(CHUNKED);
    fuzz_http_response(&[0xff; 100]);
}
