//! "Did you mean": the nearest valid keyword to a misspelt one, by optimal-string-alignment
//! (Damerau-Levenshtein with adjacent transpositions) distance.
//!
//! The work is bounded whatever the input: only words of at most [`MAX_SUGGEST_CHARS`]
//! characters get a suggestion, candidates whose length differs by more than the allowed
//! distance are skipped, and a comparison stops as soon as it cannot come within it.

/// Longest word a suggestion is looked for (keepalived's longest keyword has 34).
pub const MAX_SUGGEST_CHARS: usize = 64;

/// Edit distance counting insertions, deletions, substitutions and swaps of adjacent
/// characters, each as 1.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    distance_within(&a, &b, usize::MAX).unwrap_or(usize::MAX)
}

/// The distance between `a` and `b` when it is at most `limit`, else `None` (found out
/// early: three rows of the table, abandoned once a row's minimum exceeds `limit`).
fn distance_within(a: &[char], b: &[char], limit: usize) -> Option<usize> {
    let (n, m) = (a.len(), b.len());
    if n.abs_diff(m) > limit {
        return None;
    }
    // Rows i-2, i-1 and i of the table.
    let mut before: Vec<usize> = vec![0; m + 1];
    let mut prev: Vec<usize> = (0..=m).collect();
    let mut cur: Vec<usize> = vec![0; m + 1];
    for i in 1..=n {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(before[j - 2] + 1);
            }
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > limit {
            return None;
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[m];
    (d <= limit).then_some(d)
}

/// The closest candidate, if it is close enough to be a plausible typo: at most 1 edit for
/// words under 5 characters, 2 up to 9, 3 beyond; ties go to the first candidate listed.
/// Words longer than [`MAX_SUGGEST_CHARS`] get none.
pub fn nearest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    if word.len() > 4 * MAX_SUGGEST_CHARS {
        return None;
    }
    let lower: Vec<char> = word.to_ascii_lowercase().chars().collect();
    let len = lower.len();
    if len > MAX_SUGGEST_CHARS {
        return None;
    }
    let limit: usize = match len {
        0..=4 => 1,
        5..=9 => 2,
        _ => 3,
    };
    let mut best: Option<(usize, &'a str)> = None;
    for &c in candidates {
        // At least one edit per character of difference in length.
        if c.len().abs_diff(len) > limit && c.chars().count().abs_diff(len) > limit {
            continue;
        }
        // Case-only differences count as one edit (`http_get` -> `HTTP_GET`).
        let dist = if c.eq_ignore_ascii_case(word) {
            1
        } else {
            let upper = usize::from(c != c.to_ascii_lowercase());
            let cand: Vec<char> = c.to_ascii_lowercase().chars().collect();
            match distance_within(&lower, &cand, limit.saturating_sub(upper)) {
                Some(d) => d + upper,
                None => continue,
            }
        };
        if dist <= limit && best.map_or(true, |(b, _)| dist < b) {
            best = Some((dist, c));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transposition_is_one_edit() {
        assert_eq!(distance("preemtp_delay", "preempt_delay"), 1);
        assert_eq!(distance("abc", "abc"), 0);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
    }

    #[test]
    fn nearest_keyword() {
        let kws = ["preempt_delay", "priority", "nopreempt", "state"];
        assert_eq!(nearest("preemtp_delay", &kws), Some("preempt_delay"));
        assert_eq!(nearest("prority", &kws), Some("priority"));
        assert_eq!(nearest("VI_2", &kws), None);
        assert_eq!(nearest("sate", &kws), Some("state"));
        assert_eq!(
            nearest("http_get", &["HTTP_GET", "TCP_CHECK"]),
            Some("HTTP_GET")
        );
        assert_eq!(nearest("Priority", &kws), Some("priority"));
        assert_eq!(nearest("prioritx_delay", &kws), None);
    }

    #[test]
    fn bounded_distance_agrees_with_the_full_one() {
        let words = [
            "", "a", "ab", "ba", "abc", "kitten", "sitting", "preempt", "prempt", "xyzzy",
        ];
        for a in words {
            for b in words {
                let (ca, cb): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
                let d = distance(a, b);
                for limit in 0..5 {
                    let want = (d <= limit).then_some(d);
                    assert_eq!(distance_within(&ca, &cb, limit), want, "{a} {b} {limit}");
                }
            }
        }
    }

    #[test]
    fn long_words_get_no_suggestion() {
        let long = "a".repeat(MAX_SUGGEST_CHARS + 1);
        assert_eq!(nearest(&long, &[long.as_str()]), None);
        let huge = "priority".repeat(1 << 17);
        assert_eq!(nearest(&huge, &["priority"]), None);
    }
}
