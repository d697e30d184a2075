//! Include patterns: csh-style brace expansion (`{a,b}`, nested) and glob matching
//! (`*`, `?`, `[...]`, `[!...]`, `\` escapes) against the file system, written here
//! rather than taken from a crate or libc so the config module stays pure (only `std::fs`
//! reads). Results of one pattern are sorted by name, as glob(3) does.

use std::path::{Component, Path, PathBuf};

/// The most alternatives one brace pattern may produce (guards against `{a,b}{a,b}...`).
pub const MAX_ALTERNATIVES: usize = 4096;

/// Does `s` contain a glob wildcard (`*`, `?`, `[`)?
pub fn has_wildcard(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'*' | b'?' | b'[' => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

/// Finds the `}` matching the `{` at `open`, and the top-level commas between them.
fn brace_group(b: &[u8], open: usize) -> Option<(usize, Vec<usize>)> {
    let mut depth = 0usize;
    let mut commas = Vec::new();
    let mut i = open;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some((i, commas));
                }
            }
            b',' if depth == 1 => commas.push(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Expands csh brace expressions: `a{b,c{d,e}}f` gives `abf`, `acdf`, `acef`, in that
/// order. A `{` without a matching `}` (or `{}`) is literal. At most [`MAX_ALTERNATIVES`]
/// results; returns `None` when there would be more.
pub fn brace_expand(pat: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    expand_into(pat, &mut out, 0)?;
    Some(out)
}

/// The most brace groups one pattern may hold (bounds the recursion).
const MAX_GROUPS: u32 = 64;

fn expand_into(pat: &str, out: &mut Vec<String>, depth: u32) -> Option<()> {
    if depth > MAX_GROUPS {
        return None;
    }
    let b = pat.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'{' => {
                if let Some((close, commas)) = brace_group(b, i) {
                    if close == i + 1 {
                        // `{}` is literal, as in glob(3).
                        i += 1;
                        continue;
                    }
                    let prefix = &pat[..i];
                    let suffix = &pat[close + 1..];
                    let mut start = i + 1;
                    let mut ends = commas;
                    ends.push(close);
                    for end in ends {
                        let alt = &pat[start..end];
                        let joined = format!("{prefix}{alt}{suffix}");
                        expand_into(&joined, out, depth + 1)?;
                        if out.len() > MAX_ALTERNATIVES {
                            return None;
                        }
                        start = end + 1;
                    }
                    return Some(());
                }
            }
            _ => {}
        }
        i += 1;
    }
    out.push(pat.to_string());
    Some(())
}

/// Matches one path component `name` against `pat` (no `/` in either). A leading `.` in
/// `name` must be matched by a literal `.`, as glob(3) does without GLOB_PERIOD.
pub fn component_matches(pat: &str, name: &str) -> bool {
    if name.starts_with('.') && !pat.starts_with('.') {
        return false;
    }
    let p: Vec<char> = pat.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0usize, 0usize);
    // Backtracking point: the pattern index after the last `*` and the name index it
    // currently stands for. One `*` at a time suffices (classic linear-ish wildcard match).
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        let step = match p.get(pi) {
            Some('*') => {
                star = Some((pi + 1, ni));
                pi += 1;
                continue;
            }
            Some('?') => Some(pi + 1),
            Some('[') => match class_match(&p, pi, n[ni]) {
                Some((true, next)) => Some(next),
                Some((false, _)) => None,
                // An unclosed `[` is a literal character.
                None => (n[ni] == '[').then_some(pi + 1),
            },
            Some('\\') if pi + 1 < p.len() => (p[pi + 1] == n[ni]).then_some(pi + 2),
            Some(&c) => (c == n[ni]).then_some(pi + 1),
            None => None,
        };
        match step {
            Some(next) => {
                pi = next;
                ni += 1;
            }
            None => match star {
                Some((sp, sn)) => {
                    pi = sp;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    while p.get(pi) == Some(&'*') {
        pi += 1;
    }
    pi == p.len()
}

/// Matches `c` against the bracket expression starting at `p[open] == '['`. Returns whether
/// it matched and the index after the closing `]`, or `None` when there is no `]`.
fn class_match(p: &[char], open: usize, c: char) -> Option<(bool, usize)> {
    let mut i = open + 1;
    let negate = matches!(p.get(i), Some('!') | Some('^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let lo = *p.get(i)?;
        if lo == ']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        let lo = if lo == '\\' {
            i += 1;
            *p.get(i)?
        } else {
            lo
        };
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|&h| h != ']') {
            let hi = *p.get(i + 2)?;
            if lo <= c && c <= hi {
                matched = true;
            }
            i += 3;
        } else {
            if lo == c {
                matched = true;
            }
            i += 1;
        }
    }
}

/// The paths matching the glob `pattern` (absolute, or relative to `base`), sorted per
/// directory level. A pattern without wildcards yields itself if it exists. `budget` is
/// the number of directory entries still allowed to be listed; once it is 0, directories
/// are no longer listed (the caller reports it).
pub fn glob(pattern: &str, base: &Path, budget: &mut u64) -> Vec<PathBuf> {
    let path = Path::new(pattern);
    let full = if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    };
    if !has_wildcard(pattern) {
        return if full.exists() {
            vec![full]
        } else {
            Vec::new()
        };
    }
    let mut current: Vec<PathBuf> = vec![PathBuf::new()];
    for comp in full.components() {
        let part = match comp {
            Component::Normal(s) => s.to_string_lossy().into_owned(),
            other => {
                for c in current.iter_mut() {
                    c.push(other.as_os_str());
                }
                continue;
            }
        };
        if !has_wildcard(&part) {
            let lit = unescape(&part);
            for c in current.iter_mut() {
                c.push(&lit);
            }
            continue;
        }
        let mut next = Vec::new();
        for dir in &current {
            let listing = if dir.as_os_str().is_empty() {
                std::fs::read_dir(".")
            } else {
                std::fs::read_dir(dir)
            };
            let Ok(entries) = listing else { continue };
            // Every entry listed costs one unit of the load's budget; none left, none
            // listed.
            let mut names: Vec<String> = entries
                .take_while(|_| {
                    let left = *budget > 0;
                    *budget = budget.saturating_sub(1);
                    left
                })
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| component_matches(&part, n))
                .collect();
            names.sort();
            next.extend(names.into_iter().map(|n| dir.join(n)));
        }
        current = next;
        if current.is_empty() {
            break;
        }
    }
    current.retain(|p| p.exists());
    current
}

/// Removes glob backslash escapes from a wildcard-free component.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut esc = false;
    for c in s.chars() {
        if c == '\\' && !esc {
            esc = true;
            continue;
        }
        esc = false;
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braces_expand_in_order_and_nest() {
        assert_eq!(
            brace_expand("{foo/{,cat,dog},bar}").unwrap(),
            ["foo/", "foo/cat", "foo/dog", "bar"]
        );
        assert_eq!(
            brace_expand("a{b,c}d{1,2}").unwrap(),
            ["abd1", "abd2", "acd1", "acd2"]
        );
        assert_eq!(brace_expand("x{y").unwrap(), ["x{y"]);
        assert_eq!(brace_expand("x{}").unwrap(), ["x{}"]);
        assert!(brace_expand(&"{a,b,c,d}".repeat(8)).is_none());
        assert!(brace_expand(&"{a}".repeat(100_000)).is_none());
    }

    #[test]
    fn wildcards() {
        assert!(component_matches("*.conf", "a.conf"));
        assert!(!component_matches("*.conf", ".a.conf"));
        assert!(component_matches(".*", ".hidden"));
        assert!(component_matches("a?c", "abc"));
        assert!(!component_matches("a?c", "ac"));
        assert!(component_matches("[a-c]x", "bx"));
        assert!(!component_matches("[!a-c]x", "bx"));
        assert!(component_matches("[]]", "]"));
        assert!(component_matches("*a*b*c", "xxaybbzc"));
        assert!(!component_matches("*a*b*c", "xxaybbzcd"));
        assert!(component_matches("\\*", "*"));
        assert!(!component_matches("\\*", "a"));
        assert!(component_matches("[ab", "[ab"));
        assert!(component_matches("", ""));
        assert!(!component_matches("", "a"));
    }
}
