//! "Did you mean": the nearest valid keyword to a misspelt one, by optimal-string-alignment
//! (Damerau-Levenshtein with adjacent transpositions) distance.

/// Edit distance counting insertions, deletions, substitutions and swaps of adjacent
/// characters, each as 1.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[n][m]
}

/// The closest candidate, if it is close enough to be a plausible typo: at most 1 edit for
/// words under 5 characters, 2 up to 9, 3 beyond; ties go to the first candidate listed.
pub fn nearest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let len = word.chars().count();
    let limit = match len {
        0..=4 => 1,
        5..=9 => 2,
        _ => 3,
    };
    let lower = word.to_ascii_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for &c in candidates {
        // Case-only differences count as one edit (`http_get` -> `HTTP_GET`).
        let dist = if c.eq_ignore_ascii_case(word) {
            1
        } else {
            distance(&lower, &c.to_ascii_lowercase()) + usize::from(c != c.to_ascii_lowercase())
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
    }
}
