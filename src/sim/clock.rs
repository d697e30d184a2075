//! Simulated time: the clock of a run (it only ever jumps forward, to the next deadline)
//! and exact parsing of the durations the scenario language writes (`13.609375s`,
//! `500ms`, `100cs`): decimal text to nanoseconds with no floating point on the way.

use crate::sched::Instant;
use std::time::Duration;

/// The simulated clock: `now` moves only forward, set by the run loop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimClock {
    now: Instant,
}

impl SimClock {
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Jumps to `t`; a `t` in the past (an overdue deadline) leaves the clock where it is.
    pub fn advance_to(&mut self, t: Instant) {
        if t > self.now {
            self.now = t;
        }
    }
}

/// Parses `<decimal><unit>` with unit one of `h m s ms cs us ns` into nanoseconds, exactly.
/// Returns `None` for anything else, or for a value that is not a whole number of ns.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (num, unit) = text.split_at(split);
    let scale: u128 = match unit {
        "h" => 3_600_000_000_000,
        "m" | "min" => 60_000_000_000,
        "s" => 1_000_000_000,
        "ms" => 1_000_000,
        "cs" => 10_000_000,
        "us" => 1_000,
        "ns" => 1,
        _ => return None,
    };
    let (int_part, frac_part) = match num.split_once('.') {
        Some((i, f)) => (i, f),
        None => (num, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if !int_part.chars().all(|c| c.is_ascii_digit())
        || !frac_part.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let int: u128 = if int_part.is_empty() {
        0
    } else {
        int_part.parse().ok()?
    };
    let mut total = int.checked_mul(scale)?;
    let mut place = scale;
    for d in frac_part.bytes() {
        let digit = u128::from(d - b'0');
        if place % 10 != 0 {
            // Finer than a nanosecond: only zeros are allowed.
            if digit != 0 {
                return None;
            }
            continue;
        }
        place /= 10;
        total = total.checked_add(digit * place)?;
    }
    let ns = u64::try_from(total).ok()?;
    Some(Duration::from_nanos(ns))
}

/// Parses an instant written as a duration since the start of the simulation.
pub fn parse_instant(text: &str) -> Option<Instant> {
    parse_duration(text).map(|d| Instant::ZERO + d)
}

/// Formats a duration as the trace does (`0.5s`, `3.609375s`).
pub fn fmt_duration(d: Duration) -> String {
    (Instant::ZERO + d).to_string()
}

/// Parses a percentage (`30%`, `0.5%`) into parts per million.
pub fn parse_percent(text: &str) -> Option<u32> {
    let num = text.strip_suffix('%')?;
    let d = parse_duration(&format!("{num}us"))?;
    // `num` µs as ns = num * 1000; percent -> ppm is * 10_000: ns * 10.
    let ppm = d.as_nanos().checked_mul(10)?;
    if ppm > 1_000_000 {
        return None;
    }
    u32::try_from(ppm).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_decimal_durations() {
        assert_eq!(
            parse_duration("13.609375s"),
            Some(Duration::from_nanos(13_609_375_000))
        );
        assert_eq!(parse_duration("0.5s"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("100cs"), Some(Duration::from_secs(1)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("24h"), Some(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("1.0000000001s"), None);
        assert_eq!(
            parse_duration("1.0000000000s"),
            Some(Duration::from_secs(1))
        );
        assert_eq!(parse_duration("3"), None);
        assert_eq!(parse_duration("s"), None);
        assert_eq!(parse_duration("1.2.3s"), None);
    }

    #[test]
    fn percent_to_ppm() {
        assert_eq!(parse_percent("30%"), Some(300_000));
        assert_eq!(parse_percent("0.5%"), Some(5_000));
        assert_eq!(parse_percent("100%"), Some(1_000_000));
        assert_eq!(parse_percent("101%"), None);
        assert_eq!(parse_percent("30"), None);
    }

    #[test]
    fn clock_never_goes_back() {
        let mut c = SimClock::default();
        c.advance_to(Instant::from_nanos(5));
        c.advance_to(Instant::from_nanos(3));
        assert_eq!(c.now(), Instant::from_nanos(5));
    }
}
