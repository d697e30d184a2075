//! The diagnostic sink of a build and the parsers of keepalived.conf value types
//! (integers with ranges, TIMERs, BOOLs, addresses, prefixes, script command lines), each
//! reporting a located diagnostic instead of failing.

use super::super::diag::{Diagnostic, Kind, Severity, Sink};
use super::super::tree::{Node, Word};
use super::super::Span;
use super::suggest;
use crate::config::model::ScriptCommand;
use std::net::IpAddr;
use std::time::Duration;

/// Collects diagnostics while building, and counts work for the progress hook.
#[derive(Default)]
pub struct Ctx<'p> {
    pub diags: Sink,
    /// The loader's progress hook, once the blocks are read (resolution, validation).
    pub(super) progress: Option<&'p mut dyn FnMut()>,
    pub(super) work: u32,
    /// Table, protocol, scope and realm names for routes and rules.
    pub rt_names: super::iproute::RtNames,
}

/// The shape a keyword takes in a block table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Shape {
    /// `keyword args...` without a block.
    Line,
    /// `keyword args... { ... }`.
    Block,
    /// Either form is accepted.
    Any,
}

/// Units of work (`Ctx::tick`) between two calls of the progress hook.
const TICKS_PER_PROGRESS: u32 = 128;

impl Ctx<'_> {
    /// Counts one unit of work (an instance or a virtual server checked, ...): the
    /// loader's progress hook is called every [`TICKS_PER_PROGRESS`] units, so a long
    /// pass over a large configuration never runs far without one.
    pub fn tick(&mut self) {
        self.work += 1;
        if self.work >= TICKS_PER_PROGRESS {
            self.work = 0;
            if let Some(p) = self.progress.as_mut() {
                p();
            }
        }
    }

    pub fn error(&mut self, span: &Span, message: String) {
        self.diags.push(Diagnostic::error(span.clone(), message));
    }

    pub fn warn(&mut self, span: &Span, message: String) {
        self.diags.push(Diagnostic::warning(span.clone(), message));
    }

    /// An interface that does not exist on this host (`-t` status 5).
    pub fn no_such_interface(&mut self, span: &Span, message: String) {
        self.diags
            .push(Diagnostic::no_such_interface(span.clone(), message));
    }

    /// A problem keepalived reports only when the daemon starts (a warning `-t` does not
    /// count).
    pub fn run_time_notice(&mut self, span: &Span, message: String) {
        self.diags
            .push(Diagnostic::run_time_notice(span.clone(), message));
    }

    /// Scripts that would run as root without `enable_script_security` (a warning, `-t`
    /// status 6).
    pub fn security_violation(&mut self, span: &Span, message: String) {
        self.diags
            .push(Diagnostic::security_violation(span.clone(), message));
    }

    /// Looks `node`'s keyword up in `table`, reporting an unknown keyword (with the nearest
    /// valid one) or a block where none belongs / a missing block. Returns true when the
    /// node should be handled.
    pub fn check_keyword(&mut self, node: &Node, table: &[(&'static str, Shape)]) -> bool {
        let kw = node.keyword.text.as_str();
        match table.iter().find(|(k, _)| *k == kw) {
            None => {
                let names: Vec<&str> = table.iter().map(|(k, _)| *k).collect();
                self.unknown_keyword(&node.keyword, &names);
                false
            }
            Some((_, Shape::Line)) => {
                if let Some(brace) = &node.open_brace {
                    self.error(brace, format!("{kw}: this keyword does not take a block"));
                    return false;
                }
                true
            }
            Some((_, Shape::Block)) => {
                if node.children.is_none() {
                    self.error(
                        &node.keyword.span,
                        format!("{kw}: expected a block ({kw} {{ ... }})"),
                    );
                    return false;
                }
                true
            }
            Some((_, Shape::Any)) => true,
        }
    }

    pub fn unknown_keyword(&mut self, word: &Word, candidates: &[&str]) {
        // Past the diagnostics cap, a file of garbage costs no suggestion search.
        if !self.diags.keeps(Severity::Error, Kind::Config) {
            self.diags
                .leave_out(Severity::Error, Kind::Config, &word.span);
            return;
        }
        let msg = match suggest::nearest(&word.text, candidates) {
            Some(s) => format!("{}: unknown keyword; did you mean {}?", word.text, s),
            None => match super::home_of(&word.text) {
                Some(home) => format!("{}: unknown keyword here; it belongs in {home}", word.text),
                None => format!("{}: unknown keyword", word.text),
            },
        };
        self.error(&word.span, msg);
    }

    /// The `i`th argument, or an error naming the missing value.
    pub fn arg<'a>(&mut self, node: &'a Node, i: usize, what: &str) -> Option<&'a Word> {
        let w = node.args.get(i);
        if w.is_none() {
            self.error(
                &node.keyword.span,
                format!("{}: missing {}", node.keyword.text, what),
            );
        }
        w
    }

    /// Reports arguments beyond the first `n`.
    pub fn no_extra(&mut self, node: &Node, n: usize) {
        if let Some(w) = node.args.get(n) {
            self.error(
                &w.span,
                format!("{}: unexpected argument '{}'", node.keyword.text, w.text),
            );
        }
    }

    /// A single integer argument in `[lo, hi]`.
    pub fn int_arg(&mut self, node: &Node, lo: i64, hi: i64) -> Option<i64> {
        let w = self.arg(node, 0, "number")?;
        let v = self.int_word(&node.keyword.text, w, lo, hi);
        self.no_extra(node, 1);
        v
    }

    pub fn int_word(&mut self, kw: &str, w: &Word, lo: i64, hi: i64) -> Option<i64> {
        match parse_int(&w.text) {
            Some(v) if v >= lo && v <= hi => Some(v),
            Some(v) => {
                self.error(&w.span, format!("{kw}: {v} is out of range [{lo}, {hi}]"));
                None
            }
            None => {
                let what = if parse_timer(w.text.trim_start_matches('-')).is_some() {
                    "a whole number"
                } else {
                    "a number"
                };
                self.error(&w.span, format!("{kw}: '{}' is not {what}", w.text));
                None
            }
        }
    }

    /// A single TIMER argument (seconds, µs resolution) in `[lo, hi]` seconds.
    pub fn timer_arg(&mut self, node: &Node, lo: f64, hi: f64) -> Option<Duration> {
        let w = self.arg(node, 0, "time in seconds")?;
        let v = self.timer_word(&node.keyword.text, w, lo, hi);
        self.no_extra(node, 1);
        v
    }

    pub fn timer_word(&mut self, kw: &str, w: &Word, lo: f64, hi: f64) -> Option<Duration> {
        match parse_timer(&w.text) {
            Some(d) => {
                let secs = d.as_secs_f64();
                if secs + 1e-9 < lo || secs - 1e-9 > hi {
                    self.error(
                        &w.span,
                        format!(
                            "{kw}: {} is out of range [{}, {}] seconds",
                            w.text,
                            fmt_num(lo),
                            fmt_num(hi)
                        ),
                    );
                    None
                } else {
                    Some(d)
                }
            }
            None => {
                self.error(
                    &w.span,
                    format!("{kw}: '{}' is not a time in seconds", w.text),
                );
                None
            }
        }
    }

    /// An optional BOOL argument: no argument means true.
    pub fn opt_bool(&mut self, node: &Node) -> bool {
        let r = match node.args.first() {
            None => true,
            Some(w) => match parse_bool(&w.text) {
                Some(b) => b,
                None => {
                    self.error(
                        &w.span,
                        format!(
                            "{}: '{}' is not a boolean (on|off|true|false|yes|no)",
                            node.keyword.text, w.text
                        ),
                    );
                    true
                }
            },
        };
        self.no_extra(node, 1);
        r
    }

    /// A keyword that takes no argument.
    pub fn flag(&mut self, node: &Node) -> bool {
        self.no_extra(node, 0);
        true
    }

    pub fn string_arg(&mut self, node: &Node) -> Option<String> {
        let w = self.arg(node, 0, "value")?;
        let s = w.text.clone();
        self.no_extra(node, 1);
        Some(s)
    }

    pub fn ip_word(&mut self, kw: &str, w: &Word) -> Option<IpAddr> {
        match w.text.parse::<IpAddr>() {
            Ok(a) => Some(a),
            Err(_) => {
                self.error(&w.span, format!("{kw}: '{}' is not an IP address", w.text));
                None
            }
        }
    }

    pub fn ip_arg(&mut self, node: &Node) -> Option<IpAddr> {
        let w = self.arg(node, 0, "IP address")?;
        let a = self.ip_word(&node.keyword.text, w);
        self.no_extra(node, 1);
        a
    }

    /// For keywords keepalived takes once per block: true the first time; a repeat is
    /// reported ("already given") and should be ignored by the caller.
    pub fn first_time(&mut self, seen: &mut Vec<String>, node: &Node) -> bool {
        let kw = &node.keyword.text;
        if seen.iter().any(|s| s == kw) {
            self.warn(
                &node.keyword.span,
                format!("{kw}: already given in this block; this one is ignored"),
            );
            false
        } else {
            seen.push(kw.clone());
            true
        }
    }

    /// A script keyword that may be given once: a repeat is reported and ignored, as
    /// keepalived does ("script already specified").
    pub fn set_script(&mut self, slot: &mut Option<ScriptCommand>, node: &Node) {
        if slot.is_some() {
            self.warn(
                &node.keyword.span,
                format!(
                    "{}: already given in this block; this one is ignored",
                    node.keyword.text
                ),
            );
            return;
        }
        *slot = self.script_arg(node);
    }

    /// [`Ctx::set_script`] for the notify scripts, which are boxed: most instances have
    /// none, and eight inline commands would be most of an instance's memory.
    pub fn set_notify(&mut self, slot: &mut Option<Box<ScriptCommand>>, node: &Node) {
        let mut one = slot.take().map(|b| *b);
        self.set_script(&mut one, node);
        *slot = one.map(Box::new);
    }

    /// `SCRIPT [USER [GROUP]]` as used by notify scripts: the first word is the command
    /// line (quoted when it has arguments).
    pub fn script_arg(&mut self, node: &Node) -> Option<ScriptCommand> {
        let w = self.arg(node, 0, "script")?;
        let argv = split_command(&w.text);
        if argv.is_empty() {
            self.error(&w.span, format!("{}: empty script", node.keyword.text));
            return None;
        }
        let user = node.args.get(1).map(|w| w.text.clone());
        let group = node.args.get(2).map(|w| w.text.clone());
        self.no_extra(node, 3);
        Some(ScriptCommand {
            argv,
            user,
            group,
            run_as: None,
        })
    }
}

/// Decimal, `0x` hex or leading-`0` octal integers, with a sign.
pub fn parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if body.is_empty() {
        return None;
    }
    let v = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()?
    } else if body.len() > 1 && body.starts_with('0') {
        i64::from_str_radix(&body[1..], 8).ok()?
    } else {
        if !body.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        body.parse::<i64>().ok()?
    };
    Some(if neg { -v } else { v })
}

/// A non-negative decimal number of seconds with at most microsecond resolution (extra
/// digits are rounded).
pub fn parse_timer(s: &str) -> Option<Duration> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if int.len() > 12 {
        return None;
    }
    let secs: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut micros: u64 = 0;
    let mut digits = frac.bytes();
    for _ in 0..6 {
        micros = micros * 10 + digits.next().map(|b| u64::from(b - b'0')).unwrap_or(0);
    }
    if let Some(b) = digits.next() {
        if b >= b'5' {
            micros += 1;
        }
    }
    Some(Duration::from_secs(secs) + Duration::from_micros(micros))
}

pub fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" => Some(true),
        "off" | "false" | "no" => Some(false),
        _ => None,
    }
}

/// `IP[/LEN]` with the default length of the family.
pub fn parse_prefix(s: &str) -> Result<(IpAddr, u8), String> {
    let (a, l) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let addr: IpAddr = a
        .parse()
        .map_err(|_| format!("'{s}' is not an IP address"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = match l {
        None => max,
        Some(l) => match l.parse::<u8>() {
            Ok(n) if n <= max => n,
            _ => return Err(format!("'{s}' has an invalid prefix length")),
        },
    };
    Ok((addr, len))
}

/// Splits a script command line as keepalived does: whitespace separates arguments,
/// single or double quotes group them.
pub fn split_command(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut have = false;
    let mut quote: Option<char> = None;
    for c in s.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                have = true;
            }
            None if c.is_whitespace() => {
                if have {
                    out.push(std::mem::take(&mut cur));
                    have = false;
                }
            }
            None => {
                cur.push(c);
                have = true;
            }
        }
    }
    if have {
        out.push(cur);
    }
    out
}

/// Formats seconds without trailing zeros (`1`, `0.5`, `40.95`).
pub fn fmt_num(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// Formats a duration as keepalived TIMER seconds (`1`, `0.02`, `5.000001`).
pub fn fmt_duration(d: Duration) -> String {
    let micros = d.subsec_micros();
    if micros == 0 {
        format!("{}", d.as_secs())
    } else {
        let f = format!("{:06}", micros);
        format!("{}.{}", d.as_secs(), f.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints() {
        assert_eq!(parse_int("10"), Some(10));
        assert_eq!(parse_int("-253"), Some(-253));
        assert_eq!(parse_int("0x1f"), Some(31));
        assert_eq!(parse_int("010"), Some(8));
        assert_eq!(parse_int("1a"), None);
        assert_eq!(parse_int(""), None);
        assert_eq!(parse_int("-"), None);
    }

    #[test]
    fn timers() {
        assert_eq!(parse_timer("1"), Some(Duration::from_secs(1)));
        assert_eq!(parse_timer("0.015"), Some(Duration::from_millis(15)));
        assert_eq!(parse_timer(".5"), Some(Duration::from_millis(500)));
        assert_eq!(
            parse_timer("2.0000015"),
            Some(Duration::from_micros(2_000_002))
        );
        assert_eq!(parse_timer("-1"), None);
        assert_eq!(parse_timer("abc"), None);
        assert_eq!(parse_timer("."), None);
        assert_eq!(fmt_duration(Duration::from_millis(20)), "0.02");
        assert_eq!(fmt_duration(Duration::from_secs(5)), "5");
    }

    #[test]
    fn prefixes() {
        assert_eq!(
            parse_prefix("10.0.0.1/24"),
            Ok(("10.0.0.1".parse().unwrap(), 24))
        );
        assert_eq!(
            parse_prefix("fe80::1"),
            Ok(("fe80::1".parse().unwrap(), 128))
        );
        assert!(parse_prefix("192.168.100./24").is_err());
        assert!(parse_prefix("10.0.0.1/33").is_err());
    }

    #[test]
    fn commands() {
        assert_eq!(
            split_command("/bin/x a 'b c' \"d\""),
            vec!["/bin/x", "a", "b c", "d"]
        );
        assert_eq!(split_command("''"), vec![""]);
    }
}
