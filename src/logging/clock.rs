//! Local wall-clock time for log lines: keepalived's console prefix
//! (`Sat Nov 21 23:52:51 2026`) and the RFC 3164 syslog timestamp (`Nov 21 23:52:51`).
//! Only the logging sinks read the wall clock; the engine never does.

/// Broken-down local time, as much of it as log lines need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalTime {
    pub year: i32,
    /// 0 = January
    pub month: u8,
    pub day: u8,
    /// 0 = Sunday
    pub weekday: u8,
    pub hour: u8,
    pub min: u8,
    pub sec: u8,
}

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl LocalTime {
    /// The current local time (libc localtime_r, so TZ is honoured); None if the C
    /// library cannot convert it.
    pub fn now() -> Option<LocalTime> {
        // SAFETY: time(NULL) has no preconditions; localtime_r writes only into `tm`,
        // which is a plain C struct for which all-zero bytes are a valid value.
        unsafe {
            let t = libc::time(std::ptr::null_mut());
            let mut tm: libc::tm = std::mem::zeroed();
            if libc::localtime_r(&t, &mut tm).is_null() {
                return None;
            }
            Some(LocalTime {
                year: tm.tm_year + 1900,
                month: u8::try_from(tm.tm_mon).ok()?,
                day: u8::try_from(tm.tm_mday).ok()?,
                weekday: u8::try_from(tm.tm_wday).ok()?,
                hour: u8::try_from(tm.tm_hour).ok()?,
                min: u8::try_from(tm.tm_min).ok()?,
                sec: u8::try_from(tm.tm_sec).ok()?,
            })
        }
    }

    fn month_name(&self) -> &'static str {
        MONTHS
            .get(usize::from(self.month))
            .copied()
            .unwrap_or("???")
    }

    /// `Sat Nov 21 23:52:51 2026` (ctime without the newline), keepalived's console prefix.
    pub fn ctime(&self) -> String {
        format!(
            "{} {} {:2} {:02}:{:02}:{:02} {}",
            DAYS.get(usize::from(self.weekday))
                .copied()
                .unwrap_or("???"),
            self.month_name(),
            self.day,
            self.hour,
            self.min,
            self.sec,
            self.year
        )
    }

    /// `Nov  1 03:04:05`: the RFC 3164 TIMESTAMP (day space-padded).
    pub fn rfc3164(&self) -> String {
        format!(
            "{} {:2} {:02}:{:02}:{:02}",
            self.month_name(),
            self.day,
            self.hour,
            self.min,
            self.sec
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: LocalTime = LocalTime {
        year: 2026,
        month: 10,
        day: 1,
        weekday: 0,
        hour: 3,
        min: 4,
        sec: 5,
    };

    #[test]
    fn formats() {
        assert_eq!(T.ctime(), "Sun Nov  1 03:04:05 2026");
        assert_eq!(T.rfc3164(), "Nov  1 03:04:05");
        let t = LocalTime { day: 21, ..T };
        assert_eq!(t.rfc3164(), "Nov 21 03:04:05");
    }

    #[test]
    fn now_is_sane() {
        let t = LocalTime::now().expect("localtime");
        assert!(t.year >= 2000 && t.month < 12 && (1..=31).contains(&t.day));
        assert!(t.hour < 24 && t.min < 60 && t.sec <= 60 && t.weekday < 7);
    }
}
