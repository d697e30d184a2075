//! The man pages against the program: every command-line option is documented in
//! keepalived-rs(8) and listed by `--help`, and both pages pass `groff -man -ww -z`
//! without a warning (skipped with a notice when groff is missing, except under CI).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

use std::path::PathBuf;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_keepalived-rs");

fn page(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("man")
        .join(name)
}

/// The page's text with roff's escaped hyphen `\-` turned back into `-`.
fn source(name: &str) -> String {
    std::fs::read_to_string(page(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .replace("\\-", "-")
}

#[test]
fn every_long_option_is_in_the_man_page() {
    let src = source("keepalived-rs.8");
    let mut missing = Vec::new();
    for long in keepalived_rs::cli::long_options() {
        if !src.contains(&format!("-{long}")) {
            missing.push(long);
        }
    }
    assert!(missing.is_empty(), "not in keepalived-rs.8: {missing:?}");
}

#[test]
fn every_short_option_is_in_the_man_page() {
    let src = source("keepalived-rs.8");
    for short in keepalived_rs::cli::short_options() {
        assert!(
            src.contains(&format!(".BR -{short} \", \" -")),
            "-{short} has no .TP entry in keepalived-rs.8"
        );
    }
}

#[test]
fn help_lists_every_option() {
    let o = Command::new(BIN).arg("--help").output().expect("run");
    assert!(o.status.success());
    let help = String::from_utf8_lossy(&o.stdout);
    for long in keepalived_rs::cli::long_options() {
        assert!(
            help.contains(&format!("--{long}")),
            "--{long} not in --help"
        );
    }
}

fn groff_available() -> bool {
    Command::new("groff")
        .arg("-v")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[test]
fn pages_have_no_groff_warnings() {
    if !groff_available() {
        assert!(
            std::env::var_os("CI").is_none(),
            "groff is required under CI (install groff-base)"
        );
        eprintln!("groff not installed: man page lint skipped");
        return;
    }
    for name in ["keepalived-rs.8", "keepalived-rs.conf.5"] {
        let o = Command::new("groff")
            .args(["-man", "-ww", "-z"])
            .arg(page(name))
            .output()
            .expect("run groff");
        let out = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(o.status.success() && out.is_empty(), "{name}:\n{out}");
    }
}

#[test]
fn pages_name_their_sections() {
    let p8 = source("keepalived-rs.8");
    for s in [
        "NAME",
        "SYNOPSIS",
        "OPTIONS",
        "SIGNALS",
        "EXIT STATUS",
        "FILES",
        "SEE ALSO",
    ] {
        assert!(
            p8.contains(&format!(".SH {s}")),
            "keepalived-rs.8 lacks {s}"
        );
    }
    let p5 = source("keepalived-rs.conf.5");
    for s in [
        "GLOBAL_DEFS",
        "VRRP_INSTANCE",
        "VRRP_SCRIPT",
        "VRRP_SYNC_GROUP",
    ] {
        assert!(
            p5.contains(&format!(".SH {s}")),
            "keepalived-rs.conf.5 lacks {s}"
        );
    }
    for lang in ["include", "~SEQ", ".SS Definitions", "@^"] {
        assert!(
            p5.contains(lang),
            "keepalived-rs.conf.5 does not explain {lang}"
        );
    }
}

/// The keywords of one keyword table (`const NAME: &[(&str, ...)] = &[ ("kw", ...), ... ];`)
/// in a source file of the configuration builder. Reading the tables from the source keeps
/// this test in step with the builder without making its tables public.
fn keyword_table(file: &str, table: &str) -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let start = text
        .lines()
        .position(|l| l.contains(&format!("const {table}: &[(&str")))
        .unwrap_or_else(|| panic!("table {table} not found in {file}"));
    let mut out = Vec::new();
    for (n, line) in text.lines().skip(start).enumerate() {
        // The entries start after `= &[` on the first line (a one-line table ends there).
        let body = if n == 0 {
            line.split_once("= &[").map(|(_, b)| b).unwrap_or("")
        } else {
            line
        };
        let body = body.split("];").next().unwrap_or("");
        // Every entry on the line: ("keyword", ...)
        for part in body.split("(\"").skip(1) {
            if let Some(end) = part.find('"') {
                out.push(part[..end].to_string());
            }
        }
        if line.contains("];") {
            break;
        }
    }
    assert!(!out.is_empty(), "table {table} in {file} is empty");
    out
}

fn mentions(page: &str, word: &str) -> bool {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    page.match_indices(word).any(|(i, _)| {
        let before = page[..i].chars().next_back();
        let after = page[i + word.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    })
}

#[test]
fn every_keyword_of_the_builder_is_in_the_conf_page() {
    // Font changes (\fB, \fI, \fR, \fP) glued to a keyword would hide it.
    let page = ["\\fB", "\\fI", "\\fR", "\\fP"]
        .iter()
        .fold(source("keepalived-rs.conf.5"), |p, f| p.replace(f, ""));
    let tables = [
        ("src/config/build.rs", "ROOT"),
        ("src/config/build/global.rs", "TYPED"),
        ("src/config/build/global.rs", "OTHER"),
        ("src/config/build/vrrp.rs", "INSTANCE"),
        ("src/config/build/vrrp.rs", "SYNC_GROUP"),
        ("src/config/build/vrrp.rs", "AUTH"),
        ("src/config/build/misc.rs", "SCRIPT"),
        ("src/config/build/misc.rs", "TRACK_FILE"),
        ("src/config/build/misc.rs", "TRACK_PROCESS"),
    ];
    let mut missing = Vec::new();
    for (file, table) in tables {
        for kw in keyword_table(file, table) {
            if !mentions(&page, &kw) {
                missing.push(format!("{table}:{kw}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "not in keepalived-rs.conf.5: {missing:?}"
    );
}
