//! The bounds of reading a configuration (issue 7): every limit a hostile or broken file
//! can hit gives a located error and the load completes — a 10 MB token, 100 000 nested
//! braces, words beyond 16 KiB, ~SEQ/~LST and `$NAME` expansion that would grow without
//! end, more than 32 MiB of text, floods of diagnostics. Also: the progress hook, and the
//! `-t` status decided by diagnostic kinds rather than by message text.
//!
//! No timing is asserted here (figures live in scripts/bench-config-limits.sh); each test
//! checks the error and that loading finished.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

use keepalived_rs::config::{
    self, model, Diagnostic, Kind, LoadOptions, Loaded, Severity, Span, MAX_DIAGNOSTICS,
};
use std::path::{Path, PathBuf};

/// A scratch directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("krs-limits-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("mkdir");
        TempDir(p)
    }

    fn write(&self, name: &str, text: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).expect("write");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn opts() -> LoadOptions {
    LoadOptions {
        config_id: Some("test".into()),
        ..LoadOptions::default()
    }
}

/// Diagnostics as `line:col: severity: message` (messages cut to 120 characters).
fn diags(l: &Loaded) -> Vec<String> {
    l.diagnostics
        .iter()
        .map(|d| {
            let s = d.to_string();
            let s = s.split_once(": ").map(|(_, r)| r).unwrap_or(&s).to_string();
            format!(
                "{}:{}: {}",
                d.span.line,
                d.span.col,
                s.chars().take(120).collect::<String>()
            )
        })
        .collect()
}

fn load_text(text: &str) -> Loaded {
    config::load_str(text, Path::new("t.conf"), &opts())
}

#[test]
fn ten_megabyte_token_is_one_located_error() {
    let d = TempDir::new("token");
    let mut text = b"global_defs {\n router_id r1\n}\n".to_vec();
    text.extend(std::iter::repeat(b'a').take(10_000_000));
    text.extend_from_slice(b"\nvrrp_instance V {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n");
    let p = d.write("token.conf", &text);
    let l = config::load(&p, &opts());
    assert_eq!(
        diags(&l),
        ["4:1: error: line of 10000000 bytes is longer than the limit of 1048576; line ignored"]
    );
    // The rest of the file is read as usual.
    assert_eq!(l.config.global.router_id.as_deref(), Some("r1"));
    assert_eq!(l.config.instances.len(), 1);
    assert_eq!(config::config_test_status(&l), 5);
    // The same text in memory takes the same path.
    let s = String::from_utf8(text).expect("ascii");
    assert_eq!(diags(&load_text(&s)), diags(&l));
}

#[test]
fn long_words_are_refused_and_braces_stay_balanced() {
    let word = "w".repeat(100_000);
    let refused = |n: usize| {
        format!("error: word of {n} bytes is longer than the limit of 16384; the words of this line are ignored")
    };
    for (text, want) in [
        (
            format!("global_defs {{\n router_id {word}\n}}\n"),
            format!("2:12: {}", refused(100_000)),
        ),
        (
            format!("global_defs {{\n router_id \"{word}\"\n}}\n"),
            format!("2:12: {}", refused(100_000)),
        ),
        // A word made by substitution is located where its first part was written.
        (
            format!("$X=v\nglobal_defs {{\n router_id ${{X}}{word}\n}}\n"),
            format!("1:4: {}", refused(100_001)),
        ),
    ] {
        let l = load_text(&text);
        assert_eq!(diags(&l), [want]);
        assert_eq!(l.config.global.router_id, None);
    }
    // On one line with the braces: the words go, the braces stay (the block is read
    // without its keyword, and reported so), and what follows is read as usual.
    let l = load_text(&format!(
        "global_defs {{ router_id {word} }}\nglobal_defs {{\n router_id r2\n}}\n"
    ));
    assert_eq!(
        diags(&l),
        [
            "1:13: error: '{' without a keyword to open; its block is ignored".to_string(),
            format!("1:25: {}", refused(100_000))
        ]
    );
    assert_eq!(l.config.global.router_id.as_deref(), Some("r2"));
    // At the limit a word is fine.
    let ok = "v".repeat(16 << 10);
    let l = load_text(&format!("global_defs {{\n router_id {ok}\n}}\n"));
    assert!(l.diagnostics.is_empty(), "{:?}", diags(&l));
    assert_eq!(l.config.global.router_id.as_deref(), Some(ok.as_str()));
}

#[test]
fn unknown_long_words_get_no_suggestion() {
    let word = format!("priority{}", "x".repeat(5000));
    let l = load_text(&format!("vrrp_instance V {{\n {word} 10\n}}\n"));
    let want = format!("2:2: error: {word}: unknown keyword");
    assert!(
        diags(&l).iter().any(|d| want.starts_with(d.as_str())),
        "{:?}",
        diags(&l)
    );
    // A short misspelling still gets one.
    let l = load_text("vrrp_instance V {\n prority 10\n}\n");
    assert!(
        diags(&l)
            .contains(&"2:2: error: prority: unknown keyword; did you mean priority?".to_string()),
        "{:?}",
        diags(&l)
    );
}

#[test]
fn hundred_thousand_nested_braces() {
    let n = 100_000;
    // Balanced, then unclosed.
    let balanced = format!("global_defs {}\n{}\n", "{\n".repeat(n), "}\n".repeat(n));
    let l = load_text(&balanced);
    let d = diags(&l);
    assert!(
        d.contains(
            &"65:1: error: blocks nested more than 64 deep; this block is ignored".to_string()
        ),
        "{d:?}"
    );
    assert!(!d.iter().any(|x| x.contains("unexpected '}'")), "{d:?}");
    let unclosed = format!("vrrp_instance V {}", "{ ".repeat(n));
    let l = load_text(&unclosed);
    let d = diags(&l);
    assert!(
        d.iter()
            .any(|x| x.contains("blocks nested more than 64 deep")),
        "{d:?}"
    );
    assert!(
        d.iter().any(
            |x| x.contains("unclosed '{' (ignored, too deep): missing '}' before end of input")
        ),
        "{d:?}"
    );
    // Reports for the blocks kept (at most 64 deep), not one per brace.
    assert!(d.len() < 3 * 64, "{} diagnostics", d.len());
}

#[test]
fn one_block_holds_a_bounded_number_of_words() {
    // Five million statements in one block: the first 200 000 words are kept, the rest
    // of the block is dropped (its braces still matched) and the next block is read.
    let text = format!(
        "global_defs {{\n{}}}\nvrrp_instance V {{\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {{\n  10.0.0.1\n }}\n}}\n",
        "x {\n}\n".repeat(5_000_000 / 2)
    );
    let l = load_text(&text);
    let cut: Vec<&Diagnostic> = l
        .diagnostics
        .iter()
        .filter(|d| d.message.contains("words in one top-level block"))
        .collect();
    assert_eq!(cut.len(), 1);
    assert_eq!(
        cut[0].to_string(),
        "t.conf:400000:1: error: more than 200000 words in one top-level block; the rest of it is ignored"
    );
    assert_eq!(l.config.instances.len(), 1);
    assert!(
        l.diagnostics.len() <= MAX_DIAGNOSTICS + 2,
        "{}",
        l.diagnostics.len()
    );
}

#[test]
fn seq_expansion_is_capped_by_lines_and_bytes() {
    // A million by a million repetitions: stopped at the line limit.
    let l = load_text("~SEQ(i, 1000000) ~SEQ(j, 1000000) garp_group ${i}\n");
    assert_eq!(
        diags(&l).first().map(String::as_str),
        Some("1:35: error: expansion produces more than 2000000 lines; the rest is ignored")
    );
    // Long lines: stopped at the byte limit.
    let text = format!("~SEQ(i, 100000) x_${{i}} {}\n", "y".repeat(1000));
    let l = load_text(&text);
    assert!(
        diags(&l).contains(
            &"1:17: error: expansion produces more than 33554432 bytes; the rest is ignored"
                .to_string()
        ),
        "{:?}",
        diags(&l).first()
    );
    // Too many values for one ~SEQ is refused before anything is expanded.
    let l = load_text("~SEQ(i, 2000000) x\n");
    assert_eq!(
        diags(&l),
        ["1:1: error: ~SEQ: 2000000 values is more than the limit of 1000000; line ignored"]
    );
}

/// `$L0=x`, `$L1=${L0}${L0}` ... `$Ln=...`: `router_id ${Ln}`.
fn doubling(n: usize) -> String {
    let mut s = String::from("$L0=x\n");
    for i in 1..=n {
        s.push_str(&format!("$L{i}=${{L{}}}${{L{}}}\n", i - 1, i - 1));
    }
    s.push_str(&format!("global_defs {{\n router_id ${{L{n}}}\n}}\n"));
    s
}

#[test]
fn doubling_chain_is_not_a_self_reference() {
    // Deeper than the self-reference depth (32) but small: fine.
    let mut s = String::from("$C0=c\n");
    for i in 1..=40 {
        s.push_str(&format!("$C{i}=${{C{}}}\n", i - 1));
    }
    s.push_str("global_defs {\n router_id ${C40}\n}\n");
    let l = load_text(&s);
    assert!(l.diagnostics.is_empty(), "{:?}", diags(&l));
    assert_eq!(l.config.global.router_id.as_deref(), Some("c"));
    // Doubling 10 times: 1024 characters.
    let l = load_text(&doubling(10));
    assert!(l.diagnostics.is_empty(), "{:?}", diags(&l));
    assert_eq!(
        l.config.global.router_id.as_deref(),
        Some("x".repeat(1024).as_str())
    );
    // Doubling 40 times would be a terabyte: the line is refused for its size, and
    // nothing is called "defined in terms of itself".
    let l = load_text(&doubling(40));
    let d = diags(&l);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(d[0].contains("makes the line too large"), "{d:?}");
    assert!(d[0].ends_with("; line ignored"), "{d:?}");
    assert_eq!(l.config.global.router_id, None);
    // A real self-reference is still reported as one (tests/config_lang.rs has the full
    // expectation).
    let l = load_text("$LOOP=${LOOP}z\nf ${LOOP}\n");
    assert!(
        diags(&l)[0].contains("'LOOP' is defined in terms of itself"),
        "{:?}",
        diags(&l)
    );
}

#[test]
fn substitution_work_is_bounded_across_lines() {
    // Each line is just under the per-line limit, but together they copy far more than
    // the total budget: stopped with one error, the rest of the file still read.
    let mut s = doubling(19);
    for _ in 0..2000 {
        s.push_str("garp_group ${L19}\n");
    }
    s.push_str("global_defs {\n router_id end\n}\n");
    let l = load_text(&s);
    let budget: Vec<String> = diags(&l)
        .into_iter()
        .filter(|d| d.contains("substitutions have copied more than 268435456 bytes"))
        .collect();
    assert_eq!(budget.len(), 1, "{:?}", diags(&l).first());
    assert_eq!(l.config.global.router_id.as_deref(), Some("end"));
}

#[test]
fn definitions_are_capped() {
    let mut s = String::new();
    for i in 0..100_010 {
        s.push_str(&format!("$V{i}=x\n"));
    }
    // Redefining an existing name is still allowed; a new multi-line one is read and
    // dropped.
    s.push_str("$V5=five\n$NEW=a \\\n b\nglobal_defs {\n router_id ${V5}\n}\n");
    let l = load_text(&s);
    let d = diags(&l);
    assert_eq!(d.len(), 11, "{:?}", &d[..3.min(d.len())]);
    assert_eq!(
        d[0],
        "100001:1: error: more than 100000 names defined; 'V100000' is not defined"
    );
    assert_eq!(
        d[10],
        "100012:1: error: more than 100000 names defined; 'NEW' is not defined"
    );
    assert_eq!(l.config.global.router_id.as_deref(), Some("five"));
}

#[test]
fn include_patterns_list_a_bounded_number_of_entries() {
    let d = TempDir::new("glob");
    let sub = d.0.join("many");
    std::fs::create_dir(&sub).expect("mkdir");
    for i in 0..2000 {
        std::fs::write(sub.join(format!("f{i}")), "").expect("write");
    }
    // 600 patterns over 2000 entries each: 1.2 million entries listed.
    let main = d.write("main.conf", "include many/*.conf\n".repeat(600).as_bytes());
    let l = config::load(&main, &opts());
    let budget: Vec<&Diagnostic> = l
        .diagnostics
        .iter()
        .filter(|x| x.message.contains("directory entries"))
        .collect();
    assert_eq!(budget.len(), 1);
    assert_eq!(
        budget[0].message,
        "include patterns have listed more than 1000000 directory entries; the rest are not matched"
    );
    assert_eq!(budget[0].span.line, 500);
}

#[test]
fn total_size_is_capped() {
    let d = TempDir::new("total");
    // A 1 MB file included 40 times.
    let line = format!("garp_group {}\n", "z".repeat(1000));
    let part = d.write("part.conf", line.repeat(1000).as_bytes());
    let mut main = String::new();
    for _ in 0..40 {
        main.push_str(&format!("include {}\n", part.display()));
    }
    main.push_str("global_defs {\n router_id r\n}\n");
    let p = d.write("main.conf", main.as_bytes());
    let l = config::load(&p, &opts());
    let over: Vec<&Diagnostic> = l
        .diagnostics
        .iter()
        .filter(|x| x.message.contains("larger than 33554432 bytes"))
        .collect();
    assert_eq!(over.len(), 1);
    assert_eq!(over[0].severity, Severity::Error);
    assert!(over[0].span.file.ends_with("part.conf"));
    assert_eq!(config::config_test_status(&l), 5);
}

#[test]
fn diagnostics_are_capped() {
    let text = "x\n".repeat(3 * MAX_DIAGNOSTICS);
    let l = load_text(&text);
    // The builder's cap, and the line saying how many were left out.
    assert_eq!(l.diagnostics.len(), MAX_DIAGNOSTICS + 1);
    let last = l
        .diagnostics
        .iter()
        .find(|d| {
            d.message
                .contains("more problems from here on are not shown")
        })
        .expect("summary");
    assert_eq!(
        last.message,
        format!(
            "{} more problems from here on are not shown (at most {MAX_DIAGNOSTICS} are kept)",
            2 * MAX_DIAGNOSTICS
        )
    );
    assert_eq!(config::config_test_status(&l), 5);
}

/// `n` unicast instances.
fn instances(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!(
            "vrrp_instance V{i} {{\n interface eth0\n virtual_router_id {}\n unicast_peer {{\n  10.1.{}.{}\n }}\n virtual_ipaddress {{\n  10.9.{}.{}\n }}\n}}\n",
            1 + i % 250,
            i / 250,
            1 + i % 250,
            i / 250,
            1 + i % 250
        ));
    }
    s
}

#[test]
fn progress_hook_is_called_in_proportion_to_the_work() {
    let d = TempDir::new("progress");
    let mut counts = Vec::new();
    for n in [200, 2000, 20000] {
        let p = d.write(&format!("p{n}.conf"), instances(n).as_bytes());
        let mut calls = 0u64;
        let l = config::load_with(&p, &opts(), &mut || calls += 1);
        assert_eq!(l.config.instances.len(), n);
        counts.push(calls);
    }
    // Every ~512 lines (here ~10 per instance) and every 128 instances resolved.
    assert!(counts[0] >= 2, "{counts:?}");
    assert!(counts[1] >= 5 * counts[0], "{counts:?}");
    assert!(counts[2] >= 5 * counts[1], "{counts:?}");
    assert!(counts[2] >= 20000 * 10 / 512, "{counts:?}");
    // Long lines count by their bytes, not as one line each.
    let line = format!("x {}\n", "y ".repeat(100_000));
    let p = d.write("long.conf", line.repeat(10).as_bytes());
    let mut calls = 0u64;
    config::load_with(&p, &opts(), &mut || calls += 1);
    assert!(calls >= 10, "{calls}");
}

fn loaded_with(diagnostics: Vec<Diagnostic>) -> Loaded {
    Loaded {
        config: model::Config::default(),
        diagnostics,
        missing_files: Vec::new(),
        main_missing: false,
        all_config: false,
    }
}

#[test]
fn status_comes_from_kinds_not_text() {
    let at = Span::default;
    let status = |d: Diagnostic| config::config_test_status(&loaded_with(vec![d]));
    assert_eq!(status(Diagnostic::security_violation(at(), "x".into())), 6);
    assert_eq!(status(Diagnostic::no_such_interface(at(), "x".into())), 5);
    assert_eq!(status(Diagnostic::cannot_run(at(), "x".into())), 4);
    assert_eq!(
        status(Diagnostic::missing_file(
            Severity::Warning,
            at(),
            "x".into()
        )),
        0
    );
    assert_eq!(
        status(Diagnostic::missing_file(Severity::Error, at(), "x".into())),
        5
    );
    // Text that once decided the status no longer does.
    assert_eq!(
        status(Diagnostic::warning(at(), "SECURITY VIOLATION: x".into())),
        5
    );
    assert_eq!(
        status(Diagnostic::warning(at(), "config file missing: x".into())),
        5
    );
    // A missing interface wins over script security, as in keepalived.
    let both = loaded_with(vec![
        Diagnostic::security_violation(at(), "s".into()),
        Diagnostic::no_such_interface(at(), "i".into()),
    ]);
    assert_eq!(config::config_test_status(&both), 5);
    // Kinds survive the load: a missing interface and script security.
    let l = config::load_str(
        "vrrp_instance V {\n interface nope0\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n",
        Path::new("k.conf"),
        &LoadOptions {
            host_interfaces: Some(vec!["eth0".into()]),
            ..opts()
        },
    );
    assert_eq!(
        l.diagnostics.iter().map(|d| d.kind).collect::<Vec<_>>(),
        [Kind::NoSuchInterface]
    );
}

#[test]
fn interface_lo_is_refused() {
    let l = load_text(
        "vrrp_instance V {\n interface eth0\n interface lo\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n",
    );
    assert_eq!(
        diags(&l),
        ["3:12: error: vrrp_instance V: cannot use a loopback interface (lo) for vrrp - ignoring"]
    );
    // The interface given before stays (as keepalived).
    assert_eq!(l.config.instances[0].interface.as_deref(), Some("eth0"));
    assert_eq!(config::config_test_status(&l), 5);
    // Alone, it leaves the instance without an interface.
    let l = load_text(
        "vrrp_instance V {\n interface lo\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n",
    );
    assert_eq!(
        diags(&l),
        [
            "1:1: error: vrrp_instance V: interface is required unless unicast_peer is used",
            "2:12: error: vrrp_instance V: cannot use a loopback interface (lo) for vrrp - ignoring"
        ]
    );
    // Tracking lo or putting a VIP on it stays allowed (keepalived: 0).
    let l = load_text(
        "vrrp_instance V {\n interface eth0\n track_interface {\n  lo\n }\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1 dev lo\n }\n}\n",
    );
    assert!(l.diagnostics.is_empty(), "{:?}", diags(&l));
}
