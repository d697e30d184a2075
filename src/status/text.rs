//! Formatting shared by the dumps: wall-clock times and dates as keepalived prints them,
//! virtual address lines, script command lines, durations, and cutting one instance's
//! block out of a dump.

use crate::config::model::{ScriptCommand, VirtualAddress};
use std::time::Duration;

/// A wall-clock time, to the microsecond (keepalived prints `struct timeval`s).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct WallTime {
    /// Seconds since the Unix epoch (negative before it).
    pub secs: i64,
    /// 0..=999_999
    pub micros: u32,
}

impl WallTime {
    pub fn from_unix_ns(ns: i128) -> WallTime {
        let us = ns.div_euclid(1000);
        WallTime {
            secs: us.div_euclid(1_000_000) as i64,
            micros: us.rem_euclid(1_000_000) as u32,
        }
    }

    /// `1795836777.064097`
    pub fn decimal(self) -> String {
        format!("{}.{:06}", self.secs, self.micros)
    }

    /// Seconds as a double (JSON `last_transition`).
    pub fn as_f64(self) -> f64 {
        self.secs as f64 + f64::from(self.micros) / 1e6
    }

    /// keepalived's `1795836777.064097 (Sat Nov 28 03:32:57.064097 2026)`, the date in the
    /// time zone `utc_offset_secs` east of UTC.
    pub fn stamp(self, utc_offset_secs: i64) -> String {
        format!("{} ({})", self.decimal(), self.ctime(utc_offset_secs))
    }

    /// `Sat Nov 28 03:32:57.064097 2026` (ctime with microseconds; the day padded with a
    /// space as `%e`).
    pub fn ctime(self, utc_offset_secs: i64) -> String {
        const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let local = self.secs + utc_offset_secs;
        let days = local.div_euclid(86_400);
        let sod = local.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        // 1970-01-01 was a Thursday.
        let wday = (days + 4).rem_euclid(7) as usize;
        format!(
            "{} {} {:>2} {:02}:{:02}:{:02}.{:06} {}",
            DAYS[wday],
            MONTHS[(m - 1) as usize],
            d,
            sod / 3600,
            sod % 3600 / 60,
            sod % 60,
            self.micros,
            y
        )
    }
}

impl WallTime {
    /// `Sat, 28 Nov 2026 15:24:07 +0000`: the RFC 5322 date of an e-mail's `Date:` header
    /// as keepalived writes it, in the time zone `utc_offset_secs` east of UTC.
    pub fn rfc5322(self, utc_offset_secs: i64) -> String {
        let ctime = self.ctime(utc_offset_secs);
        // ctime: `Sat Nov 28 03:32:57.064097 2026`
        let mut parts = ctime.split_whitespace();
        let (wday, mon, day, hms, year) = (
            parts.next().unwrap_or("Thu"),
            parts.next().unwrap_or("Jan"),
            parts.next().unwrap_or("1"),
            parts.next().unwrap_or("00:00:00"),
            parts.next().unwrap_or("1970"),
        );
        let hms = hms.split('.').next().unwrap_or(hms);
        let off = utc_offset_secs / 60;
        let sign = if off < 0 { '-' } else { '+' };
        format!(
            "{wday}, {:0>2} {mon} {year} {hms} {sign}{:02}{:02}",
            day,
            off.abs() / 60,
            off.abs() % 60
        )
    }
}

/// (year, month 1-12, day 1-31) of a count of days since 1970-01-01, in the proleptic
/// Gregorian calendar: the date is found within its 400-year era (146 097 days), counting
/// years from March so that the leap day ends the year.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468; // days since 0000-03-01
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of the March-based year
    let mp = (5 * doy + 2) / 153; // month from March, 0..=11
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `true` / `false`.
pub fn tf(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

/// `yes` / `no`.
pub fn yn(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// `enabled` / `disabled`.
pub fn ed(b: bool) -> &'static str {
    if b {
        "enabled"
    } else {
        "disabled"
    }
}

/// Whole seconds, as keepalived prints its timers (`Gratuitous ARP delay = 5`).
pub fn secs(d: Duration) -> u64 {
    d.as_secs()
}

/// A command line as keepalived prints it: each word in single quotes.
pub fn command(c: &ScriptCommand) -> String {
    c.argv
        .iter()
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// ` weight W[ reverse]`
pub fn weight(w: i32, reverse: bool) -> String {
    if reverse {
        format!("weight {w} reverse")
    } else {
        format!("weight {w}")
    }
}

/// One virtual address as keepalived lists it:
/// `10.1.1.100/24 brd 10.1.1.255 dev eth0 scope global label eth0:1 set` (no prefix
/// length for a host address; IPv6 with its preferred lifetime). `dev` is the address's
/// own `dev`, else `default_dev` (`VMAC@BASE` for a `use_vmac` instance).
pub fn vip(v: &VirtualAddress, default_dev: &str, set: bool) -> String {
    let host_len = if v.addr.is_ipv6() { 128 } else { 32 };
    let mut s = v.addr.to_string();
    if v.prefix_len != host_len {
        s.push_str(&format!("/{}", v.prefix_len));
    }
    if let Some(b) = v.brd {
        s.push_str(&format!(" brd {b}"));
    }
    if let Some(p) = v.peer {
        s.push_str(&format!(" peer {p}"));
    }
    s.push_str(" dev ");
    s.push_str(v.dev.as_deref().unwrap_or(default_dev));
    s.push_str(" scope ");
    s.push_str(v.scope.as_deref().unwrap_or("global"));
    if let Some(l) = &v.label {
        s.push_str(&format!(" label {l}"));
    }
    if v.addr.is_ipv6() {
        match v.preferred_lft {
            Some(n) if !v.options.preferred_forever => s.push_str(&format!(" preferred_lft {n}")),
            _ => s.push_str(" preferred_lft forever"),
        }
        if v.no_dad {
            s.push_str(" nodad");
        }
    }
    if set {
        s.push_str(" set");
    }
    s
}

/// The lines of `text` from the line `head` (which must start a line) to the last
/// following line for which `inside` holds.
pub fn block<'a>(text: &'a str, head: &str, inside: impl Fn(&str) -> bool) -> Option<&'a str> {
    let start = if text.starts_with(head) {
        0
    } else {
        text.find(&format!("\n{head}"))? + 1
    };
    let mut end = start + head.len();
    for line in text[end..].split_inclusive('\n') {
        if !inside(line) {
            break;
        }
        end += line.len();
    }
    Some(&text[start..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_keepalived_ctime() {
        let t = WallTime {
            secs: 1_795_836_777,
            micros: 64_097,
        };
        assert_eq!(
            t.stamp(0),
            "1795836777.064097 (Sat Nov 28 03:32:57.064097 2026)"
        );
        assert_eq!(t.ctime(3600), "Sat Nov 28 04:32:57.064097 2026");
        let epoch = WallTime::from_unix_ns(3_609_375_000);
        assert_eq!(epoch.stamp(0), "3.609375 (Thu Jan  1 00:00:03.609375 1970)");
        // Leap day, and a date before the epoch.
        let leap = WallTime::from_unix_ns(1_709_208_000 * 1_000_000_000);
        assert_eq!(leap.ctime(0), "Thu Feb 29 12:00:00.000000 2024");
        let before = WallTime::from_unix_ns(-1_000);
        assert_eq!(before.decimal(), "-1.999999");
        assert_eq!(before.ctime(0), "Wed Dec 31 23:59:59.999999 1969");
        assert_eq!(t.as_f64().to_string(), "1795836777.064097");
    }

    #[test]
    fn rfc5322_dates() {
        let t = WallTime {
            secs: 1_795_836_777,
            micros: 64_097,
        };
        assert_eq!(t.rfc5322(0), "Sat, 28 Nov 2026 03:32:57 +0000");
        assert_eq!(
            t.rfc5322(5 * 3600 + 1800),
            "Sat, 28 Nov 2026 09:02:57 +0530"
        );
        assert_eq!(t.rfc5322(-8 * 3600), "Fri, 27 Nov 2026 19:32:57 -0800");
        assert_eq!(
            WallTime::from_unix_ns(0).rfc5322(0),
            "Thu, 01 Jan 1970 00:00:00 +0000"
        );
    }

    #[test]
    fn blocks_end_where_the_indentation_does() {
        let text = "x\n A = 1\n   b\n   c\n A = 2\n   d\n";
        assert_eq!(
            block(text, " A = 1\n", |l| l.starts_with("   ")),
            Some(" A = 1\n   b\n   c\n")
        );
        assert_eq!(
            block(text, " A = 2\n", |l| l.starts_with("   ")),
            Some(" A = 2\n   d\n")
        );
        assert_eq!(block(text, " A = 3\n", |_| true), None);
    }
}
