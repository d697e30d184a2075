//! `~SEQ(var, [start,] [step,] end)`, `~SEQx(...)` (hexadecimal) and `~LST(var, v1, ...)` /
//! `~LST({a,b}, {1,2}, ...)`: from the text between the parentheses to the variable
//! assignments of each repetition of the rest of the line, made one at a time (a million
//! repetitions cost no list). Pure: errors are returned as messages (ending in "; line
//! ignored") for the caller to locate.

use super::lang_line::valid_name;

/// Most values one `~SEQ`/`~LST` may produce.
pub(super) const MAX_REPEAT: i64 = 1_000_000;

/// One repetition: the variables to set and their values.
pub(super) type Assignments = Vec<(String, String)>;

/// The repetitions of one `~SEQ`/`~SEQx`/`~LST`, checked; [`Repeat::get`] makes each.
pub(super) enum Repeat<'h> {
    Seq {
        var: &'h str,
        start: i64,
        step: i64,
        count: u64,
        hex: bool,
    },
    Lst {
        vars: Vec<&'h str>,
        /// The arguments after the variables, one per repetition.
        rows: Vec<&'h str>,
    },
}

impl Repeat<'_> {
    pub(super) fn len(&self) -> u64 {
        match self {
            Repeat::Seq { count, .. } => *count,
            Repeat::Lst { rows, .. } => rows.len() as u64,
        }
    }

    /// The assignments of repetition `i` (< [`Repeat::len`]).
    pub(super) fn get(&self, i: u64) -> Assignments {
        match self {
            Repeat::Seq {
                var,
                start,
                step,
                hex,
                ..
            } => {
                let v = i64::try_from(i128::from(*start) + i128::from(i) * i128::from(*step))
                    .unwrap_or(if *step > 0 { i64::MAX } else { i64::MIN });
                let s = match (*hex, v < 0) {
                    (true, true) => format!("-{:x}", v.unsigned_abs()),
                    (true, false) => format!("{v:x}"),
                    (false, _) => v.to_string(),
                };
                vec![(var.to_string(), s)]
            }
            Repeat::Lst { vars, rows } => {
                let a = rows.get(i as usize).copied().unwrap_or("");
                vars.iter()
                    .zip(row_values(vars, a))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            }
        }
    }
}

/// The repetitions of `kind` (`~SEQ`, `~SEQx` or `~LST`) for the arguments `header`.
pub(super) fn repeat<'h>(kind: &str, header: &'h str) -> Result<Repeat<'h>, String> {
    let args = split_args(header);
    if kind == "~LST" {
        lst_values(args)
    } else {
        seq_values(kind, &args)
    }
}

/// Every repetition at once (for tests).
#[cfg(test)]
pub(super) fn values(kind: &str, header: &str) -> Result<Vec<Assignments>, String> {
    let r = repeat(kind, header)?;
    Ok((0..r.len()).map(|i| r.get(i)).collect())
}

/// Parses an integer of a `~SEQ`: decimal or `0x` hex, optionally signed.
fn parse_int(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, body) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let v = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()?
    } else {
        body.parse::<i64>().ok()?
    };
    Some(if neg { -v } else { v })
}

/// Splits `s` at top-level commas (not inside `{...}`), trimming each part.
fn split_args(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.bytes().enumerate() {
        match c {
            b'{' => depth += 1,
            b'}' => depth -= 1,
            b',' if depth == 0 => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(s[start..].trim());
    out
}

/// `{a, b}` → `["a", "b"]`; anything else → `[s]`.
fn braced_list(s: &str) -> Vec<&str> {
    match s.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
        Some(inner) => inner.split(',').map(str::trim).collect(),
        None => vec![s],
    }
}

/// `~SEQ`/`~SEQx`: `var, end` / `var, start, end` / `var, start, step, end`. A missing
/// start is 1 (or -1 when end is negative); a missing step is 1 or -1 towards end; the
/// sequence stops once past end.
fn seq_values<'h>(kind: &str, args: &[&'h str]) -> Result<Repeat<'h>, String> {
    if args.len() < 2 || args.len() > 4 {
        return Err(format!(
            "{kind}(var, [start,] [step,] end) takes 2 to 4 arguments, found {}; line ignored",
            args.len()
        ));
    }
    let var = args[0];
    if !valid_name(var) {
        return Err(format!(
            "{kind}: '{var}' is not a valid variable name; line ignored"
        ));
    }
    let mut nums = Vec::with_capacity(3);
    for a in &args[1..] {
        match parse_int(a) {
            Some(n) => nums.push(n),
            None => return Err(format!("{kind}: '{a}' is not an integer; line ignored")),
        }
    }
    let (start, step, end) = match nums[..] {
        [end] => (end.signum(), None, end),
        [start, end] => (start, None, end),
        [start, step, end] => (start, Some(step), end),
        _ => return Err(format!("{kind}: malformed arguments; line ignored")),
    };
    let step = step.unwrap_or(if end >= start { 1 } else { -1 });
    if step == 0 {
        return Err(format!("{kind}: step must not be 0; line ignored"));
    }
    let count = if (step > 0 && end < start) || (step < 0 && end > start) {
        0
    } else {
        (i128::from(end) - i128::from(start)) / i128::from(step) + 1
    };
    if count > i128::from(MAX_REPEAT) {
        return Err(format!(
            "{kind}: {count} values is more than the limit of {MAX_REPEAT}; line ignored"
        ));
    }
    Ok(Repeat::Seq {
        var,
        start,
        step,
        count: u64::try_from(count).unwrap_or(0),
        hex: kind == "~SEQx",
    })
}

/// `~LST(var, v1, v2, ...)` or `~LST({a, b}, {1, 2}, {3, 4}, ...)`.
fn lst_values(args: Vec<&str>) -> Result<Repeat<'_>, String> {
    if args.len() < 2 {
        return Err("~LST(var, value, ...) needs at least one value; line ignored".into());
    }
    let vars = braced_list(args[0]);
    if let Some(bad) = vars.iter().find(|v| !valid_name(v)) {
        return Err(format!(
            "~LST: '{bad}' is not a valid variable name; line ignored"
        ));
    }
    if i64::try_from(args.len() - 1).unwrap_or(i64::MAX) > MAX_REPEAT {
        return Err(format!("~LST: more than {MAX_REPEAT} values; line ignored"));
    }
    for a in &args[1..] {
        let n = row_values(&vars, a).len();
        if n != vars.len() {
            return Err(format!(
                "~LST: value '{a}' has {n} parts for {} variables; line ignored",
                vars.len()
            ));
        }
    }
    let rows = args[1..].to_vec();
    Ok(Repeat::Lst { vars, rows })
}

/// The values of one `~LST` argument: the argument itself for one variable, else its
/// braced parts.
fn row_values<'a>(vars: &[&str], a: &'a str) -> Vec<&'a str> {
    if vars.len() == 1 && !a.starts_with('{') {
        vec![a]
    } else {
        braced_list(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(kind: &str, h: &str) -> Vec<String> {
        values(kind, h)
            .expect("valid")
            .into_iter()
            .map(|a| a[0].1.clone())
            .collect()
    }

    #[test]
    fn seq_defaults_and_directions() {
        assert_eq!(seq("~SEQ", "X, 3"), ["1", "2", "3"]);
        assert_eq!(seq("~SEQ", "X, -2"), ["-1", "-2"]);
        assert_eq!(seq("~SEQ", "X, 5, 3"), ["5", "4", "3"]);
        assert_eq!(seq("~SEQ", "X, 0, 2, 5"), ["0", "2", "4"]);
        assert_eq!(seq("~SEQ", "X, 0, -1, 5"), Vec::<String>::new());
        assert_eq!(seq("~SEQx", "X, 0x0e, 0x10"), ["e", "f", "10"]);
        assert_eq!(seq("~SEQx", "X, 1, -1, -1"), ["1", "0", "-1"]);
    }

    #[test]
    fn lst_forms() {
        let v = values("~LST", "{A, B}, {1,2}, {3, 4}").expect("valid");
        assert_eq!(v[1], [("A".into(), "3".into()), ("B".into(), "4".into())]);
        assert!(values("~LST", "A").is_err());
        assert!(values("~SEQ", "A, x").is_err());
        assert!(values("~SEQ", "A, 1, 2, 3, 4").is_err());
    }
}
