//! Tracking weights (keepalived.conf(5), reference keepalived.md §3.4): track_interface,
//! track_script (`vrrp_script` with rise/fall), track_file and track_process, and how
//! their states combine into an instance's effective priority or FAULT.
//!
//! The model, shared by every kind of tracked object: weight 0 means "FAULT while failed";
//! a positive weight is added while OK; a negative weight is added (subtracted) while
//! failed; `reverse` negates the adjustment (and for weight 0, FAULT while *OK*). The
//! effective priority is clamped to 1..=254; an owner (255) never changes.

use crate::config::model::VrrpScript;
use crate::event::{ScriptOutcome, ScriptRunId};
use crate::sched::TimerHandle;

/// What one tracked object does to an instance.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Effect {
    pub fault: bool,
    pub delta: i32,
}

/// Effect of an object that is either OK or failed (interface, script, process).
pub fn status_effect(weight: i32, reverse: bool, ok: bool) -> Effect {
    if weight == 0 {
        return Effect {
            fault: ok == reverse,
            delta: 0,
        };
    }
    let delta = if weight > 0 && ok || weight < 0 && !ok {
        weight
    } else {
        0
    };
    Effect {
        fault: false,
        delta: if reverse { -delta } else { delta },
    }
}

/// Effect of a `track_file` holding `value` (unreadable counts as 0): weight 0 means any
/// non-zero value is a failure; otherwise value × weight (negated by `reverse`), and a
/// result below −253 is FAULT.
pub fn file_effect(weight: i32, reverse: bool, value: i64) -> Effect {
    if weight == 0 {
        return Effect {
            fault: (value != 0) != reverse,
            delta: 0,
        };
    }
    let mut d = value.saturating_mul(i64::from(weight));
    if reverse {
        d = d.saturating_neg();
    }
    if d < -253 {
        return Effect {
            fault: true,
            delta: 0,
        };
    }
    Effect {
        fault: false,
        delta: d.clamp(-253, 253) as i32,
    }
}

/// Combines effects into (FAULT, effective priority) for an instance of priority `base`.
pub fn combine(base: u8, effects: &[Effect]) -> (bool, u8) {
    let fault = effects.iter().any(|e| e.fault);
    if base == 255 {
        return (fault, 255);
    }
    let sum: i64 = effects.iter().map(|e| i64::from(e.delta)).sum();
    let p = (i64::from(base) + sum).clamp(1, 254);
    (fault, p as u8)
}

/// Did a script run succeed? Only exit status 0 does; a timeout is a failure.
pub fn script_succeeded(outcome: &ScriptOutcome) -> bool {
    matches!(outcome, ScriptOutcome::Exited(0))
}

/// The run state of one `vrrp_script`.
#[derive(Clone, Debug)]
pub struct ScriptState {
    pub cfg: VrrpScript,
    /// Current status (OK = succeeding).
    pub ok: bool,
    successes: u32,
    failures: u32,
    /// The run in progress, if any.
    pub running: Option<ScriptRunId>,
    pub timer: Option<TimerHandle>,
}

impl ScriptState {
    /// Starts OK (keepalived's initial state) unless `init_fail`.
    pub fn new(cfg: VrrpScript) -> ScriptState {
        ScriptState {
            ok: !cfg.init_fail,
            cfg,
            successes: 0,
            failures: 0,
            running: None,
            timer: None,
        }
    }

    /// Reload: keeps the status, counters and run in progress of the same-named script.
    pub fn carry_from(&mut self, old: &ScriptState) {
        self.ok = old.ok;
        self.successes = old.successes;
        self.failures = old.failures;
        self.running = old.running;
    }

    /// Records one result; returns true when the status flipped (after `rise` consecutive
    /// successes or `fall` consecutive failures).
    pub fn record(&mut self, success: bool) -> bool {
        if success {
            self.failures = 0;
            self.successes = self.successes.saturating_add(1);
            if !self.ok && self.successes >= self.cfg.rise.max(1) {
                self.ok = true;
                return true;
            }
        } else {
            self.successes = 0;
            self.failures = self.failures.saturating_add(1);
            if self.ok && self.failures >= self.cfg.fall.max(1) {
                self.ok = false;
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::ScriptCommand;
    use crate::config::Span;
    use std::time::Duration;

    fn script(rise: u32, fall: u32, init_fail: bool) -> ScriptState {
        ScriptState::new(VrrpScript {
            name: "chk".into(),
            span: Span::default(),
            script: ScriptCommand::from_argv(&["/bin/true"]),
            interval: Duration::from_secs(1),
            timeout: None,
            weight: 0,
            reverse: false,
            rise,
            fall,
            init_fail,
        })
    }

    #[test]
    fn weight_semantics() {
        assert_eq!(
            status_effect(0, false, false),
            Effect {
                fault: true,
                delta: 0
            }
        );
        assert_eq!(
            status_effect(0, false, true),
            Effect {
                fault: false,
                delta: 0
            }
        );
        assert_eq!(
            status_effect(0, true, true),
            Effect {
                fault: true,
                delta: 0
            }
        );
        assert_eq!(status_effect(10, false, true).delta, 10);
        assert_eq!(status_effect(10, false, false).delta, 0);
        assert_eq!(status_effect(-10, false, false).delta, -10);
        assert_eq!(status_effect(-10, false, true).delta, 0);
        assert_eq!(status_effect(10, true, true).delta, -10);
        assert_eq!(status_effect(-10, true, false).delta, 10);
    }

    #[test]
    fn file_values() {
        assert!(file_effect(0, false, 1).fault);
        assert!(!file_effect(0, false, 0).fault);
        assert!(file_effect(0, true, 0).fault);
        assert_eq!(file_effect(5, false, -3).delta, -15);
        assert_eq!(file_effect(-2, true, 4).delta, 8);
        assert!(file_effect(254, false, -1).fault);
        assert!(!file_effect(253, false, -1).fault);
    }

    #[test]
    fn combine_clamps_and_owner_is_fixed() {
        let e = |d| Effect {
            fault: false,
            delta: d,
        };
        assert_eq!(combine(100, &[e(50), e(-20)]), (false, 130));
        assert_eq!(combine(100, &[e(-200)]), (false, 1));
        assert_eq!(combine(200, &[e(100)]), (false, 254));
        assert_eq!(combine(255, &[e(-100)]), (false, 255));
        assert_eq!(
            combine(
                100,
                &[Effect {
                    fault: true,
                    delta: 0
                }]
            ),
            (true, 100)
        );
    }

    #[test]
    fn rise_and_fall() {
        let mut s = script(2, 3, false);
        assert!(s.ok);
        assert!(!s.record(false));
        assert!(!s.record(false));
        assert!(s.record(false));
        assert!(!s.ok);
        assert!(!s.record(true));
        assert!(!s.record(false));
        assert!(!s.record(true));
        assert!(s.record(true));
        assert!(s.ok);
        let mut s = script(1, 1, true);
        assert!(!s.ok);
        assert!(s.record(true));
    }

    #[test]
    fn outcomes() {
        assert!(script_succeeded(&ScriptOutcome::Exited(0)));
        assert!(!script_succeeded(&ScriptOutcome::Exited(1)));
        assert!(!script_succeeded(&ScriptOutcome::TimedOut));
        assert!(!script_succeeded(&ScriptOutcome::Signaled(9)));
        assert!(!script_succeeded(&ScriptOutcome::SpawnFailed("x".into())));
    }
}
