//! FILE_CHECK: the value of a `track_file` decides the checker, as keepalived.conf(5)
//! describes it. The multiplier is the checker's `weight` (else the `track_file`'s, else
//! 1), negated with `reverse`:
//!
//! - multiplier 0: the checker is down while the value is non-zero (with `reverse`, while
//!   it is zero);
//! - otherwise the product value × multiplier is computed; a product of −254 or less is
//!   down (the `track_file` rule of VRRP), anything else up, and with `dynamic` the
//!   product is added to the real server's weight;
//! - an unreadable file (no number) is down.
//!
//! No timer: the world reports each change (`Event::TrackFileValue`).

use super::{Ctx, Kind, Runtime};

/// (up, weight delta) for `value` under the checker's settings.
pub fn evaluate(value: Option<i64>, weight: i64, reverse: bool, dynamic: bool) -> (bool, i32) {
    let Some(v) = value else {
        return (false, 0);
    };
    if weight == 0 {
        return ((v == 0) != reverse, 0);
    }
    let sign = if reverse { -1 } else { 1 };
    let product = v.saturating_mul(weight).saturating_mul(sign);
    let up = product > -254;
    let delta = if dynamic {
        product.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
    } else {
        0
    };
    (up, delta)
}

impl Runtime {
    /// The value of `track_file` `name` changed.
    pub fn file_value(&mut self, ctx: &mut Ctx<'_>, name: &str, value: Option<i64>) {
        if !self.started || self.stopped {
            return;
        }
        let ids: Vec<u64> = self
            .checks
            .iter()
            .filter(|(_, c)| matches!(&c.kind, Kind::File(f) if f.track_file == name))
            .filter(|(_, c)| !self.suspended.contains(&self.servers[c.server].vsi))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.file_check(ctx, id, value);
        }
    }

    /// Applies `value` to FILE_CHECK `id`.
    pub(super) fn file_check(&mut self, ctx: &mut Ctx<'_>, id: u64, value: Option<i64>) {
        let Some(c) = self.checks.get_mut(&id) else {
            return;
        };
        let Kind::File(f) = &c.kind else {
            return;
        };
        let (weight, reverse) = match f.weight {
            Some(w) => (w, f.reverse),
            None => self
                .track_files
                .get(&f.track_file)
                .map_or((1, f.reverse), |&(w, r)| (i64::from(w), r || f.reverse)),
        };
        let (up, delta) = evaluate(value, weight, reverse, f.dynamic);
        let name = f.track_file.clone();
        c.checks += 1;
        c.last_ran = Some(ctx.now);
        let s = c.server;
        if delta != c.delta {
            c.delta = delta;
            self.reassess(ctx, s, "FILE_CHECK", None);
        }
        let Some(c) = self.checks.get_mut(&id) else {
            return;
        };
        let was = (c.retry.up, c.retry.has_run);
        c.retry.has_run = true;
        c.retry.up = up;
        if !up {
            c.failures += 1;
            c.last_failure = Some(match value {
                Some(v) => format!("track_file {name} value {v}"),
                None => format!("track_file {name} unreadable"),
            });
        }
        if was.0 != up || !was.1 {
            let srv = &self.servers[s];
            log::info!(
                "{}File check of {} VS {} with track_file {name}: {}",
                ctx.prefix,
                srv.name,
                srv.vs,
                if up { "up" } else { "down" }
            );
        }
        if was.0 != up {
            let why = (!up).then(|| format!("track_file {name}"));
            self.reassess(ctx, s, "FILE_CHECK", why);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::evaluate;

    #[test]
    fn weight_zero_and_reverse() {
        assert_eq!(evaluate(Some(0), 0, false, false), (true, 0));
        assert_eq!(evaluate(Some(3), 0, false, false), (false, 0));
        assert_eq!(evaluate(Some(0), 0, true, false), (false, 0));
        assert_eq!(evaluate(None, 5, false, true), (false, 0));
    }

    #[test]
    fn products_and_dynamic() {
        assert_eq!(evaluate(Some(4), 5, false, true), (true, 20));
        assert_eq!(evaluate(Some(4), 5, false, false), (true, 0));
        assert_eq!(evaluate(Some(100), 5, true, true), (false, -500));
        assert_eq!(evaluate(Some(-253), 1, false, false), (true, 0));
        assert_eq!(evaluate(Some(-254), 1, false, false), (false, 0));
    }
}
