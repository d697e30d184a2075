//! The timer formulas of RFC 3768 / RFC 5798 / RFC 9568 §6.1 (reference §3.1), in exact
//! nanoseconds: Skew_Time separates priorities by 1/256 of an interval and is never rounded.

use crate::config::model::VrrpVersion;
use std::time::Duration;

pub(crate) const NS_PER_CS: u64 = 10_000_000;
const NS_PER_S: u64 = 1_000_000_000;

/// Skew_Time in nanoseconds: v2 `(256 − p)/256` s whatever the interval; v3
/// `(256 − p) × interval / 256` (reference §3.1). Exact: 256 divides 10^7 · 2^…
pub fn skew_time(version: VrrpVersion, priority: u8, interval_cs: u16) -> Duration {
    let weight = 256 - u64::from(priority);
    let ns = match version {
        VrrpVersion::V2 => weight * NS_PER_S / 256,
        VrrpVersion::V3 => weight * u64::from(interval_cs) * NS_PER_CS / 256,
    };
    Duration::from_nanos(ns)
}

/// Master_Down_Interval: `adverts × interval + Skew_Time` (`down_timer_adverts`, default 3).
pub fn master_down_interval(
    version: VrrpVersion,
    priority: u8,
    interval_cs: u16,
    adverts: u32,
) -> Duration {
    Duration::from_nanos(u64::from(adverts) * u64::from(interval_cs) * NS_PER_CS)
        + skew_time(version, priority, interval_cs)
}

/// An advertisement interval in centiseconds (1..=4095), as carried in adverts.
pub fn interval_cs(d: Duration) -> u16 {
    let cs = d.as_millis() / 10;
    cs.clamp(1, 4095) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(d: Duration) -> u128 {
        d.as_nanos()
    }

    #[test]
    fn reference_table_of_skew_and_down_interval() {
        // reference §3.1: (priority, skew ns, down ns) at 1 s / 100 cs.
        let table: [(u8, u128, u128); 6] = [
            (254, 7_812_500, 3_007_812_500),
            (200, 218_750_000, 3_218_750_000),
            (150, 414_062_500, 3_414_062_500),
            (100, 609_375_000, 3_609_375_000),
            (50, 804_687_500, 3_804_687_500),
            (1, 996_093_750, 3_996_093_750),
        ];
        for (p, skew, down) in table {
            for v in [VrrpVersion::V2, VrrpVersion::V3] {
                assert_eq!(ns(skew_time(v, p, 100)), skew, "skew p{p} {v:?}");
                assert_eq!(
                    ns(master_down_interval(v, p, 100, 3)),
                    down,
                    "down p{p} {v:?}"
                );
            }
        }
    }

    #[test]
    fn v2_skew_ignores_interval_v3_scales() {
        // scenario 18: v2 3 s p100 -> 9.609375 (a v3 skew would scale with the interval).
        assert_eq!(
            ns(master_down_interval(VrrpVersion::V2, 100, 300, 3)),
            9_609_375_000
        );
        assert_eq!(
            ns(master_down_interval(VrrpVersion::V3, 100, 300, 3)),
            10_828_125_000
        );
        // scenario 14: 50 cs -> 1.8046875.
        assert_eq!(
            ns(master_down_interval(VrrpVersion::V3, 100, 50, 3)),
            1_804_687_500
        );
        // down_timer_adverts replaces the 3.
        assert_eq!(
            ns(master_down_interval(VrrpVersion::V3, 100, 100, 1)),
            1_609_375_000
        );
    }

    #[test]
    fn interval_cs_rounds_and_clamps() {
        assert_eq!(interval_cs(Duration::from_secs(1)), 100);
        assert_eq!(interval_cs(Duration::from_millis(500)), 50);
        assert_eq!(interval_cs(Duration::ZERO), 1);
        assert_eq!(interval_cs(Duration::from_secs(100)), 4095);
    }
}
