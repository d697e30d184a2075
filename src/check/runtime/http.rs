//! HTTP_GET / SSL_GET in the runtime: which url a check fetches, and when the results of
//! several urls make the checker up — keepalived 2.2.7's behaviour as `check::http`
//! documents it:
//!
//! - up: one url per check, round robin; a failing url is retried (`retry`,
//!   `delay_before_retry`) and its decisive failure takes the checker down;
//! - down: the checker comes up once every url has passed since the last failure. A
//!   failing url is checked again (not skipped); after one passes, the next url not yet
//!   passed is checked a `delay_loop` later — or at once with `fast_recovery`, so all
//!   urls are checked back to back.
//!
//! Lines: `HTTP status code success to [ip]:tcp:port url(/path)` for each url passing
//! while down, `Remote Web server [ip]:tcp:port succeed on service.` when the checker
//! comes up (and at its first check), `HTTP_CHECK on service ... failed[ after N
//! retries].` for a decisive failure that changes the state (or with
//! `log_all_failures`), preceded by the dialogue's reason.

use super::timing::Outcome;
use super::{failed_line, Ctx, Kind, Runtime};
use crate::check::dialogue::Verdict;
use crate::check::http::{HttpCheckPlan, HttpDialogue};
use std::time::Duration;

/// The url cursor of one HTTP checker.
pub(super) struct HttpState {
    plan: HttpCheckPlan,
    fast: bool,
    paths: Vec<String>,
    /// The url the next check fetches.
    cursor: usize,
    /// Urls that passed since the last failure (while down).
    passed: Vec<bool>,
}

impl HttpState {
    pub(super) fn new(plan: HttpCheckPlan, fast: bool, paths: Vec<String>) -> HttpState {
        let n = plan.url_count();
        HttpState {
            plan,
            fast,
            paths,
            cursor: 0,
            passed: vec![false; n],
        }
    }

    pub(super) fn dialogue(&self) -> Option<HttpDialogue> {
        self.plan.dialogue(self.cursor)
    }

    fn next_unpassed(&self, from: usize) -> usize {
        let n = self.passed.len().max(1);
        (0..n)
            .map(|k| (from + k) % n)
            .find(|&i| !self.passed.get(i).copied().unwrap_or(true))
            .unwrap_or(0)
    }
}

impl Runtime {
    /// An HTTP url check of `id` is decided.
    pub(super) fn http_result(&mut self, ctx: &mut Ctx<'_>, id: u64, ok: bool, v: Verdict) {
        let log_all = self.log_all;
        let Some(c) = self.checks.get_mut(&id) else {
            return;
        };
        let t = c.timing();
        let name = self.servers[c.server].name.clone();
        let was_up = c.retry.up;
        let kw = c.cfg.kind.keyword();
        let log_failures = log_all || c.cfg.log_all_failures;
        let Kind::Http(h) = &mut c.kind else {
            return;
        };
        let n = h.passed.len().max(1);
        let u = h.cursor;
        if !ok {
            h.passed.iter_mut().for_each(|p| *p = false);
            let o = c.retry.record(false, &t);
            if o.decided && (was_up || o.first || log_failures) {
                if let Verdict::Down(why) = &v {
                    log::info!("{}{why}", ctx.prefix);
                }
                log::info!("{}{}", ctx.prefix, failed_line(kw, &name, &t, &o));
            }
            self.after(ctx, id, &o, &v);
            return;
        }
        if was_up {
            h.cursor = (u + 1) % n;
            let o = c.retry.record(true, &t);
            if o.first {
                log::info!("{}Remote Web server {name} succeed on service.", ctx.prefix);
            }
            self.after(ctx, id, &o, &v);
            return;
        }
        let path = h.paths.get(u).cloned().unwrap_or_default();
        log::info!(
            "{}HTTP status code success to {name} url({path})",
            ctx.prefix
        );
        if let Some(p) = h.passed.get_mut(u) {
            *p = true;
        }
        c.retry.retry_it = 0;
        if h.passed.iter().all(|p| *p) {
            h.passed.iter_mut().for_each(|p| *p = false);
            h.cursor = (u + 1) % n;
            let o: Outcome = c.retry.record(true, &t);
            log::info!("{}Remote Web server {name} succeed on service.", ctx.prefix);
            self.after(ctx, id, &o, &v);
            return;
        }
        let (next, delay) = if h.fast {
            (h.next_unpassed(0), Duration::ZERO)
        } else {
            (h.next_unpassed(u + 1), t.delay_loop)
        };
        h.cursor = next;
        c.retry.has_run = true;
        self.arm(ctx, id, delay);
    }
}
