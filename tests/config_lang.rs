//! The keepalived.conf language layer: comments, quotes, braces, includes, conditionals,
//! defines, ~SEQ/~LST, located diagnostics, and robustness against bad input.

use keepalived_rs::config::tree::{parse_file, parse_str, Node, Parsed};
use keepalived_rs::config::LoadOptions;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    // Relative to the crate root, so diagnostics print `tests/lang/...`.
    let p = PathBuf::from("tests/lang").join(name);
    assert!(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(&p).exists(),
        "fixture {name} missing"
    );
    p
}

fn opts() -> LoadOptions {
    LoadOptions {
        config_id: Some("main".into()),
        ..LoadOptions::default()
    }
}

fn parse_fixture(name: &str) -> Parsed {
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).expect("cd to the crate root");
    parse_file(&fixture(name), &opts())
}

fn diags(p: &Parsed) -> Vec<String> {
    p.diagnostics.iter().map(|d| d.to_string()).collect()
}

/// A compact rendering of the tree: `kw arg arg { child; child }`.
fn render(nodes: &[Node]) -> String {
    let mut out = Vec::new();
    for n in nodes {
        let mut s = n.keyword.text.clone();
        for a in &n.args {
            s.push(' ');
            s.push_str(&a.text);
        }
        if let Some(c) = &n.children {
            s.push_str(" { ");
            s.push_str(&render(c));
            s.push_str(" }");
        }
        out.push(s);
    }
    out.join("; ")
}

fn loc(w: &keepalived_rs::config::tree::Word) -> String {
    format!("{}:{}", w.span.line, w.span.col)
}

#[test]
fn plain_blocks_comments_quotes_and_braces_anywhere() {
    let p = parse_fixture("plain.conf");
    assert_eq!(diags(&p), Vec::<String>::new());
    assert_eq!(
        render(&p.nodes),
        "global_defs { router_id r 1; notification_email { a@b c@d } }; \
         vrrp_instance VI_1 { state MASTER; virtual_ipaddress { 10.0.0.1/24 dev eth0; 10.0.0.2/24 } }; \
         vrrp_instance VI_2 { priority 50 }"
    );
    let g = &p.nodes[0];
    assert_eq!(g.keyword.span.to_string(), "tests/lang/plain.conf:2:1");
    assert_eq!(g.open_brace.as_ref().map(|s| s.col), Some(13));
    let rid = &g.children.as_ref().unwrap()[0];
    assert!(rid.args[0].quoted);
    assert_eq!(loc(&rid.args[0]), "3:13");
    // `{` on its own line opens the block of the previous statement.
    let vi1 = &p.nodes[1];
    assert_eq!(
        vi1.open_brace.as_ref().map(|s| (s.line, s.col)),
        Some((7, 1))
    );
    // text after `}` starts a new statement on the same line.
    let vi2 = &p.nodes[2];
    assert_eq!(loc(&vi2.keyword), "11:3");
    assert_eq!(loc(&vi2.children.as_ref().unwrap()[0].args[0]), "11:33");
}

#[test]
fn unclosed_block_is_reported_at_its_opening_brace() {
    let p = parse_fixture("unclosed.conf");
    assert_eq!(
        diags(&p),
        ["tests/lang/unclosed.conf:4:20: error: unclosed '{' opened by 'vrrp_instance': missing '}' before end of input"]
    );
    // The tree is still complete.
    assert_eq!(
        render(&p.nodes),
        "global_defs { router_id x }; vrrp_instance VI_1 { virtual_ipaddress { 10.0.0.1 } }"
    );
}

#[test]
fn stray_close_brace_is_reported_where_it_is() {
    let p = parse_fixture("stray.conf");
    assert_eq!(
        diags(&p),
        ["tests/lang/stray.conf:3:1: error: unexpected '}' (no block is open)"]
    );
}

#[test]
fn unterminated_quote_is_reported_at_the_opening_quote() {
    let p = parse_fixture("unterminated.conf");
    assert_eq!(
        diags(&p),
        ["tests/lang/unterminated.conf:2:13: error: unterminated quoted string (missing closing \")"]
    );
    assert_eq!(render(&p.nodes), "global_defs { router_id abc }");
}

#[test]
fn parse_str_names_its_origin() {
    let p = parse_str("a {\n b c\n", Path::new("/x/inline.conf"), &opts());
    assert_eq!(
        diags(&p),
        ["/x/inline.conf:1:3: error: unclosed '{' opened by 'a': missing '}' before end of input"]
    );
}
