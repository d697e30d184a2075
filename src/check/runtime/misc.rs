//! MISC_CHECK: what a script's end means, and keepalived 2.2.7's lines for it (observed):
//!
//! ```text
//! Misc check for [[127.0.0.2]:tcp:9103 VS [127.0.0.1]:tcp:9001] by [/tmp/misc.sh] succeeded.
//! Misc check for [...] by [...] failed with retry disabled (exited with status 1).
//! Misc check for [...] by [...] timed out with retry disabled.
//! ```
//!
//! (`after N retries` instead of `with retry disabled` when `retry` is set.) Exit 0 is up
//! (weight unchanged); 1 is down; with `misc_dynamic` 2–255 is up and sets the real
//! server's weight to code − 2 (the checker adds code − 2 − configured weight); without
//! it any other code is down. A timeout (the world kills the script after `misc_timeout`,
//! default `delay_loop`) is a failure; a run the world skipped changes nothing.

use super::timing::Timing;
use super::{Ctx, Kind, Runtime};
use crate::check::dialogue::Verdict;
use crate::event::{ScriptOutcome, ScriptRunId};

/// What one run means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MiscResult {
    /// Up; with `misc_dynamic` and a code of 2–255, the weight it asks for.
    Up(Option<i32>),
    /// Down, with keepalived's words for why (`exited with status 1`, `timed out`).
    Down(String),
    /// No result (the world skipped the run).
    Nothing,
}

/// Judges one run.
pub fn judge(outcome: &ScriptOutcome, dynamic: bool) -> MiscResult {
    match outcome {
        ScriptOutcome::Exited(0) => MiscResult::Up(None),
        ScriptOutcome::Exited(c) if dynamic && (2..=255).contains(c) => MiscResult::Up(Some(c - 2)),
        ScriptOutcome::Exited(c) => MiscResult::Down(format!("exited with status {c}")),
        ScriptOutcome::Signaled(s) => MiscResult::Down(format!("killed by signal {s}")),
        ScriptOutcome::TimedOut => MiscResult::Down("timed out".into()),
        ScriptOutcome::SpawnFailed(m) => MiscResult::Down(format!("could not run: {m}")),
        ScriptOutcome::Skipped => MiscResult::Nothing,
    }
}

fn retry_words(t: &Timing, retries: u32) -> String {
    if t.retry == 0 {
        "with retry disabled".into()
    } else {
        format!("after {retries} retries")
    }
}

impl Runtime {
    /// A child process ended; true when it was a MISC_CHECK run of this runtime.
    pub fn script_exited(
        &mut self,
        ctx: &mut Ctx<'_>,
        run: ScriptRunId,
        outcome: &ScriptOutcome,
    ) -> bool {
        let Some(id) = self.runs.remove(&run) else {
            return false;
        };
        let Some(c) = self.checks.get_mut(&id) else {
            return true;
        };
        c.run = None;
        let Kind::Misc(m) = &c.kind else {
            return true;
        };
        let dynamic = m.dynamic;
        let script = m
            .path
            .run_as
            .as_ref()
            .map(|r| r.program.clone())
            .into_iter()
            .chain(m.path.argv.iter().skip(1).cloned())
            .collect::<Vec<_>>();
        let script = if script.is_empty() || m.path.run_as.is_none() {
            m.path.argv.join(" ")
        } else {
            script.join(" ")
        };
        if let ScriptOutcome::Exited(code) = outcome {
            c.last_status = Some(*code);
        }
        let s = c.server;
        let who = format!(
            "[{} VS {}] by [{script}]",
            self.servers[s].name, self.servers[s].vs
        );
        let result = judge(outcome, dynamic);
        let t = c.timing();
        match result {
            MiscResult::Nothing => {
                let next = c.cfg.delay_loop;
                self.arm(ctx, id, next);
            }
            MiscResult::Up(w) => {
                if let Some(w) = w {
                    let base = self.servers[s].cfg.weight;
                    c.delta = w.saturating_sub(base);
                    self.reassess(ctx, s, "MISC_CHECK", None);
                }
                let Some(c) = self.checks.get_mut(&id) else {
                    return true;
                };
                let o = c.retry.record(true, &t);
                if o.changed || o.first {
                    log::info!("{}Misc check for {who} succeeded.", ctx.prefix);
                }
                self.after(ctx, id, &o, &Verdict::Up);
            }
            MiscResult::Down(why) => {
                c.failures += 1;
                c.last_failure = Some(why.clone());
                let was_up = c.retry.up;
                let o = c.retry.record(false, &t);
                let log_all = self.log_all || c.cfg.log_all_failures;
                if o.decided && (was_up || o.first || log_all) {
                    let words = retry_words(&t, o.retries);
                    if *outcome == ScriptOutcome::TimedOut {
                        log::info!("{}Misc check for {who} timed out {words}.", ctx.prefix);
                    } else {
                        log::info!("{}Misc check for {who} failed {words} ({why}).", ctx.prefix);
                    }
                }
                self.after(ctx, id, &o, &Verdict::Down(why));
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        assert_eq!(judge(&ScriptOutcome::Exited(0), true), MiscResult::Up(None));
        assert!(matches!(
            judge(&ScriptOutcome::Exited(1), true),
            MiscResult::Down(_)
        ));
        assert_eq!(
            judge(&ScriptOutcome::Exited(2), true),
            MiscResult::Up(Some(0))
        );
        assert_eq!(
            judge(&ScriptOutcome::Exited(255), true),
            MiscResult::Up(Some(253))
        );
        assert!(matches!(
            judge(&ScriptOutcome::Exited(7), false),
            MiscResult::Down(_)
        ));
        assert!(matches!(
            judge(&ScriptOutcome::Exited(256), true),
            MiscResult::Down(_)
        ));
        assert_eq!(
            judge(&ScriptOutcome::TimedOut, true),
            MiscResult::Down("timed out".into())
        );
        assert_eq!(judge(&ScriptOutcome::Skipped, true), MiscResult::Nothing);
    }
}
