//! Scripts checked against this host when a file is loaded to run here (`-t`, start-up,
//! reload), as keepalived 2.2.7 checks them: each script's user and group are resolved
//! (its own `user`, else `script_user`, else `keepalived_script` when that user exists,
//! else the daemon's own), its program is found and must be executable by that user, and
//! under `enable_script_security` a script run as root must have a path no unprivileged
//! user can change (`script_check::unsafe_path`). A script that passes gets its
//! [`RunAs`]; one that fails is disabled: a `vrrp_script` is removed with its
//! `track_script` references (the instance tracks as if it were not there, as
//! keepalived's "track script not found, ignoring"), a notify script is dropped, a
//! MISC_CHECK is removed from its real server (disabled: it neither fails nor holds the
//! server down), and any other script keeps no `RunAs`, which `sys` never runs. Without
//! `enable_script_security`, a script that would run as root is keepalived's "SECURITY
//! VIOLATION" (`-t` status 6).
//!
//! keepalived reports some of these problems only when its VRRP process starts, and `-t`
//! does not count them in its status: they are diagnostics of kind
//! `Kind::RunTimeNotice`.

use super::super::model::*;
use super::super::script_check::{
    executable_by, find_program, unsafe_path, Account, Found, Host, Memo, DEFAULT_SCRIPT_USER,
};
use super::super::Span;
use super::values::Ctx;
use super::vrrp::Draft;
use std::collections::BTreeSet;

/// Prefix of the diagnostic keepalived's `-t` turns into exit status 6.
pub const SECURITY_VIOLATION: &str = "SECURITY VIOLATION";

// Starts of the messages keepalived 2.2.7 logs at run time only (its `-t` status ignores
// them: they are reported with `Ctx::run_time_notice`).
const NOT_EXECUTABLE: &str = "WARNING - script '";
const UNSAFE: &str = "Unsafe permissions found for script '";
const NO_SUCH_USER: &str = "Script user '";
const NO_SUCH_GROUP: &str = "Script group '";
const NO_DEFAULT_USER: &str = "Failed to set default user for script ";
const INACCESSIBLE: &str = "Script cannot be accessed: ";
const NOT_IN_PATH: &str = "Cannot find script ";

/// What a script is for: how its problems are reported and what disabling it means.
#[derive(Clone, Copy)]
enum Role<'a> {
    /// A `vrrp_script` (problems count for `-t`, as keepalived's "Disabling track script").
    Track(&'a str),
    /// Notify, checker and global scripts.
    Other,
}

/// The user a script without its own `user` runs as.
enum DefaultUser {
    /// `script_user`, or the `keepalived_script` user.
    Named(Account),
    /// Neither is set or exists: the daemon's own user.
    Own(Account),
    /// `script_user` names a user or group that does not exist.
    Invalid,
    /// `enable_script_security`, no `script_user` and no `keepalived_script` user.
    Missing,
}

struct Vetter<'h> {
    host: &'h dyn Host,
    security: bool,
    default: DefaultUser,
    /// "keepalived_script does not exist" was said.
    said_no_default: bool,
    /// The first script found that would run as root (for the SECURITY VIOLATION).
    root_script: Option<Span>,
}

fn strip_os_error(e: &str) -> &str {
    e.split(" (os error").next().unwrap_or(e)
}

impl Vetter<'_> {
    fn new<'h>(
        ctx: &mut Ctx,
        host: &'h dyn Host,
        g: &GlobalDefs,
        global_span: &Span,
    ) -> Vetter<'h> {
        let default = match &g.script_user {
            Some(u) => {
                let acct = host.user(u).and_then(|a| match &g.script_group {
                    None => Some(a),
                    Some(gr) => host.group(gr).map(|gid| Account { uid: a.uid, gid }),
                });
                match acct {
                    Some(a) => DefaultUser::Named(a),
                    None => {
                        let what = match host.user(u) {
                            None => format!("user '{u}'"),
                            Some(_) => {
                                format!("group '{}'", g.script_group.as_deref().unwrap_or_default())
                            }
                        };
                        ctx.warn(
                            global_span,
                            format!("script_user: script {what} does not exist; error setting global script uid/gid (scripts without their own user will not run)"),
                        );
                        DefaultUser::Invalid
                    }
                }
            }
            None => match host.user(DEFAULT_SCRIPT_USER) {
                Some(a) => DefaultUser::Named(a),
                None if g.enable_script_security => DefaultUser::Missing,
                None => DefaultUser::Own(host.own_ids()),
            },
        };
        Vetter {
            host,
            security: g.enable_script_security,
            default,
            said_no_default: false,
            root_script: None,
        }
    }

    /// Checks `cmd`; on success sets its [`RunAs`] and returns true.
    fn vet(&mut self, ctx: &mut Ctx, cmd: &mut ScriptCommand, span: &Span, role: Role) -> bool {
        ctx.tick();
        cmd.run_as = None;
        let Some(argv0) = cmd.argv.first().cloned() else {
            return false;
        };
        let report = |ctx: &mut Ctx, counted: String, notice: String| match role {
            Role::Track(name) => ctx.warn(span, format!("vrrp_script {name}: {counted}")),
            Role::Other => ctx.run_time_notice(span, notice),
        };
        let who = match &cmd.user {
            Some(u) => match self.host.user(u) {
                None => {
                    report(
                        ctx,
                        format!("script user '{u}' does not exist; unable to set uid/gid for script '{argv0}' - removing"),
                        format!("{NO_SUCH_USER}{u}' does not exist; invalid user/group for script {argv0} - ignoring"),
                    );
                    return false;
                }
                Some(a) => match &cmd.group {
                    None => a,
                    Some(g) => match self.host.group(g) {
                        Some(gid) => Account { uid: a.uid, gid },
                        None => {
                            report(
                                ctx,
                                format!("script group '{g}' does not exist; unable to set uid/gid for script '{argv0}' - removing"),
                                format!("{NO_SUCH_GROUP}{g}' does not exist; invalid user/group for script {argv0} - ignoring"),
                            );
                            return false;
                        }
                    },
                },
            },
            None => match self.default {
                DefaultUser::Named(a) => a,
                DefaultUser::Own(a) => {
                    if !self.said_no_default {
                        self.said_no_default = true;
                        ctx.run_time_notice(
                            span,
                            format!("{NO_SUCH_USER}{DEFAULT_SCRIPT_USER}' does not exist; scripts without a user run as uid {}", a.uid),
                        );
                    }
                    a
                }
                DefaultUser::Invalid => {
                    report(
                        ctx,
                        "unable to set default user (script_user is invalid) - removing".into(),
                        format!("{NO_DEFAULT_USER}{argv0} (script_user is invalid) - ignoring"),
                    );
                    return false;
                }
                DefaultUser::Missing => {
                    // Counted by keepalived's -t for every kind of script.
                    let what = match role {
                        Role::Track(name) => format!("vrrp script {name}"),
                        Role::Other => format!("script {argv0}"),
                    };
                    ctx.warn(
                        span,
                        format!("Unable to set default user {DEFAULT_SCRIPT_USER} for {what}: enable_script_security is set, script_user is not and user {DEFAULT_SCRIPT_USER} does not exist - removing"),
                    );
                    return false;
                }
            },
        };
        let program = match find_program(self.host, &argv0, who) {
            Found::At(p) => p,
            Found::Inaccessible(why) => {
                let why = strip_os_error(&why);
                report(
                    ctx,
                    format!("script '{argv0}' cannot be accessed ({why}) - disabling track script since not found/accessible"),
                    format!("{INACCESSIBLE}{argv0} - {why}"),
                );
                return false;
            }
            Found::NotInPath => {
                report(
                    ctx,
                    format!("cannot find script {argv0} in path - disabling track script since not found/accessible"),
                    format!("{NOT_IN_PATH}{argv0} in path - disabling"),
                );
                return false;
            }
        };
        let shown = program.display().to_string();
        if who.uid == 0 && !self.security && self.root_script.is_none() {
            self.root_script = Some(span.clone());
        }
        if !executable_by(self.host, &program, who) {
            let name = match role {
                Role::Track(n) => format!(" (vrrp_script {n})"),
                Role::Other => String::new(),
            };
            ctx.run_time_notice(
                span,
                format!(
                    "{NOT_EXECUTABLE}{shown}' is not executable for uid:gid {}:{} - disabling{name}",
                    who.uid, who.gid
                ),
            );
            return false;
        }
        let check_path = self.security && who.uid == 0;
        if check_path {
            if let Some(why) = unsafe_path(self.host, &program) {
                report(
                    ctx,
                    format!("Unsafe permissions found for script '{shown}' ({why}) - disabling track script due to insecure"),
                    format!("{UNSAFE}{shown}' ({why}) - disabling"),
                );
                return false;
            }
        }
        cmd.run_as = Some(RunAs {
            uid: who.uid,
            gid: who.gid,
            program: shown,
            check_path,
        });
        true
    }

    /// Vets an optional notify-like script; a refused one is dropped.
    fn vet_slot(&mut self, ctx: &mut Ctx, slot: &mut Option<ScriptCommand>, span: &Span) {
        if let Some(cmd) = slot {
            if cmd.argv.is_empty() {
                return; // `notify_deleted` without a script: a flag, nothing to run
            }
            if !self.vet(ctx, cmd, span, Role::Other) {
                *slot = None;
            }
        }
    }

    fn vet_notify(&mut self, ctx: &mut Ctx, n: &mut NotifyScripts, span: &Span) {
        for slot in [
            &mut n.master,
            &mut n.backup,
            &mut n.fault,
            &mut n.stop,
            &mut n.deleted,
            &mut n.any,
            &mut n.master_rx_lower_pri,
            &mut n.conflict,
        ] {
            let mut one = slot.take().map(|b| *b);
            self.vet_slot(ctx, &mut one, span);
            *slot = one.map(Box::new);
        }
    }
}

/// Checks every script of `config` against `host` (see the module documentation).
pub fn vet(
    ctx: &mut Ctx,
    config: &mut Config,
    drafts: &mut [Draft],
    global_span: &Option<Span>,
    host: &dyn Host,
) {
    let gspan = global_span.clone().unwrap_or_default();
    let memo = Memo::new(host);
    let host: &dyn Host = &memo;
    let mut v = Vetter::new(ctx, host, &config.global, &gspan);
    // With any vrrp_instance, keepalived checks every vrrp_script, tracked or not.
    let vrrp_runs = !drafts.is_empty();
    let mut disabled = BTreeSet::new();
    for s in &mut config.vrrp_scripts {
        let before = v.root_script.clone();
        if !v.vet(ctx, &mut s.script, &s.span, Role::Track(&s.name)) {
            disabled.insert(s.name.clone());
        }
        if !vrrp_runs {
            v.root_script = before;
        }
    }
    config.vrrp_scripts.retain(|s| !disabled.contains(&s.name));
    for d in drafts.iter_mut() {
        d.inst.track_scripts.retain(|r| !disabled.contains(&r.name));
        let span = d.inst.span.clone();
        v.vet_notify(ctx, &mut d.inst.notify, &span);
    }
    for g in &mut config.sync_groups {
        g.track_scripts.retain(|r| !disabled.contains(&r.name));
        let span = g.span.clone();
        v.vet_notify(ctx, &mut g.notify, &span);
    }
    for vs in &mut config.virtual_servers {
        let span = vs.span.clone();
        v.vet_slot(ctx, &mut vs.quorum_up, &span);
        v.vet_slot(ctx, &mut vs.quorum_down, &span);
        for rs in &mut vs.real_servers {
            let span = rs.span.clone();
            v.vet_slot(ctx, &mut rs.notify_up, &span);
            v.vet_slot(ctx, &mut rs.notify_down, &span);
            // A MISC_CHECK whose script is refused is disabled, as keepalived disables
            // it: the checker takes no part (it neither fails nor holds the server down).
            rs.checkers.retain_mut(|ch| match &mut ch.kind {
                CheckerKind::Misc(m) => {
                    let ok = v.vet(ctx, &mut m.path, &ch.span, Role::Other);
                    if !ok {
                        ctx.run_time_notice(
                            &ch.span,
                            "MISC_CHECK: its script cannot run here; the checker is disabled"
                                .to_string(),
                        );
                    }
                    ok
                }
                _ => true,
            });
        }
    }
    let g = &mut config.global;
    for slot in [
        &mut g.startup_script,
        &mut g.shutdown_script,
        &mut g.notify_fifo_script,
        &mut g.vrrp_notify_fifo_script,
        &mut g.lvs_notify_fifo_script,
    ] {
        v.vet_slot(ctx, slot, &gspan);
    }
    if let Some(span) = v.root_script {
        ctx.security_violation(
            &span,
            format!("{SECURITY_VIOLATION}: scripts would run as root but enable_script_security is not set"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::script_check::fake::{file, FakeHost};
    use super::super::super::{config_test_status, Loaded};
    use super::super::load_str_on;
    use super::*;
    use std::path::Path;

    const INSTANCE: &str = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 9\n \
        virtual_ipaddress {\n  10.0.0.1/24\n }\n track_script {\n  chk\n }\n";

    /// A configuration with `global` in global_defs, vrrp_script chk running `chk`
    /// (with `chk_extra` lines), and VI_1 tracking it with `notify_master NOTIFY`.
    fn conf(global: &str, chk_extra: &str, notify: &str) -> String {
        format!(
            "global_defs {{\n{global}\n}}\nvrrp_script chk {{\n script \"/etc/ka/chk arg\"\n{chk_extra}\n}}\n\
             {INSTANCE} notify_master {notify}\n}}\n"
        )
    }

    fn load(host: &FakeHost, text: &str) -> Loaded {
        load_str_on(text, Path::new("t.conf"), host)
    }

    fn messages(l: &Loaded) -> Vec<String> {
        l.diagnostics.iter().map(|d| d.message.clone()).collect()
    }

    fn track_run_as(l: &Loaded) -> Option<RunAs> {
        l.config
            .vrrp_scripts
            .iter()
            .find(|s| s.name == "chk")
            .and_then(|s| s.script.run_as.clone())
    }

    fn notify_run_as(l: &Loaded) -> Option<RunAs> {
        l.config.instances[0]
            .notify
            .master
            .as_ref()
            .and_then(|c| c.run_as.clone())
    }

    fn tracked(l: &Loaded) -> bool {
        l.config.instances[0]
            .track_scripts
            .iter()
            .any(|r| r.name == "chk")
    }

    #[test]
    fn script_user_applies_to_every_script_without_its_own() {
        let h = FakeHost::new();
        let l = load(&h, &conf(" script_user nobody", "", "/etc/ka/chk"));
        assert_eq!(messages(&l), Vec::<String>::new());
        let want = RunAs {
            uid: 65534,
            gid: 65534,
            program: "/etc/ka/chk".into(),
            check_path: false,
        };
        assert_eq!(track_run_as(&l), Some(want.clone()));
        assert_eq!(notify_run_as(&l), Some(want));
        assert_eq!(config_test_status(&l), 0);
        // With a group; and a script's own user wins (root: keepalived's violation).
        let l = load(
            &h,
            &conf(" script_user nobody daemon", " user root", "/etc/ka/chk"),
        );
        assert_eq!(notify_run_as(&l).map(|r| (r.uid, r.gid)), Some((65534, 1)));
        assert_eq!(track_run_as(&l).map(|r| (r.uid, r.gid)), Some((0, 0)));
        assert_eq!(config_test_status(&l), 6);
    }

    #[test]
    fn the_default_user_is_keepalived_script_else_the_daemons() {
        let mut h = FakeHost::new();
        h.script_user_exists = true;
        let l = load(&h, &conf("", "", "/etc/ka/chk"));
        assert_eq!(track_run_as(&l).map(|r| (r.uid, r.gid)), Some((995, 995)));
        assert_eq!(config_test_status(&l), 0, "{:?}", messages(&l));
        // Without it: root, a run-time notice, and keepalived's violation.
        h.script_user_exists = false;
        let l = load(&h, &conf("", "", "/etc/ka/chk"));
        assert_eq!(track_run_as(&l).map(|r| (r.uid, r.gid)), Some((0, 0)));
        let m = messages(&l);
        assert!(
            m.iter()
                .any(|m| m.starts_with("Script user 'keepalived_script' does not exist")),
            "{m:?}"
        );
        assert_eq!(config_test_status(&l), 6);
    }

    #[test]
    fn security_without_any_default_user_runs_nothing_without_a_user() {
        let h = FakeHost::new();
        let l = load(&h, &conf(" enable_script_security", "", "/etc/ka/chk"));
        assert!(l.config.vrrp_scripts.is_empty());
        assert!(!tracked(&l), "the instance tracks as if chk were not there");
        assert_eq!(l.config.instances[0].notify.master, None);
        assert_eq!(config_test_status(&l), 5);
        // A script with its own user still runs.
        let l = load(
            &h,
            &conf(
                " enable_script_security",
                " user nobody",
                "/etc/ka/chk root",
            ),
        );
        assert_eq!(track_run_as(&l).map(|r| r.uid), Some(65534));
        let n = notify_run_as(&l).expect("notify kept");
        assert!(n.check_path && n.uid == 0);
        assert_eq!(config_test_status(&l), 0, "{:?}", messages(&l));
    }

    #[test]
    fn unsafe_root_scripts_are_disabled_under_script_security() {
        let secure = " enable_script_security\n script_user root";
        for (path, change) in [
            ("/etc/ka/chk", 0o777u32),
            ("/etc/ka", 0o777),
            ("/etc", 0o757),
        ] {
            let mut h = FakeHost::new();
            h.set(path, |m| m.mode = change);
            let l = load(&h, &conf(secure, "", "/etc/ka/chk"));
            assert!(l.config.vrrp_scripts.is_empty(), "{path}");
            assert!(!tracked(&l));
            assert_eq!(l.config.instances[0].notify.master, None);
            // Counted for the track script (keepalived: "Disabling track script").
            assert_eq!(config_test_status(&l), 5, "{:?}", messages(&l));
        }
        // A notify script alone: keepalived says so only at run time (status 0).
        let mut h = FakeHost::new();
        h.set("/etc/ka/chk", |m| m.uid = 1000);
        let text = format!(
            "global_defs {{\n{secure}\n}}\n{}",
            conf("", "", "/etc/ka/chk")
                .split_once("vrrp_instance")
                .map(|(_, i)| format!("vrrp_instance{i}"))
                .unwrap_or_default()
                .replace(" track_script {\n  chk\n }\n", "")
        );
        let l = load(&h, &text);
        assert_eq!(l.config.instances[0].notify.master, None);
        let m = messages(&l);
        assert!(
            m.iter()
                .any(|m| m.starts_with("Unsafe permissions found for script '/etc/ka/chk'")),
            "{m:?}"
        );
        assert_eq!(config_test_status(&l), 0, "{m:?}");
        // Not run as root: no check (keepalived runs a writable script as its user).
        let mut h = FakeHost::new();
        h.set("/etc/ka/chk", |m| m.mode = 0o777);
        let l = load(
            &h,
            &conf(
                " enable_script_security\n script_user nobody",
                "",
                "/etc/ka/chk",
            ),
        );
        assert!(track_run_as(&l).is_some_and(|r| !r.check_path));
    }

    #[test]
    fn a_refused_misc_check_is_disabled_not_failing() {
        let text = |global: &str| {
            format!(
                "global_defs {{\n{global}\n}}\nvirtual_server 10.0.0.1 80 {{\n real_server 10.0.0.2 80 {{\n  \
                 MISC_CHECK {{\n   misc_path /etc/ka/chk\n  }}\n  TCP_CHECK {{\n  }}\n }}\n}}\n"
            )
        };
        let kinds = |l: &Loaded| -> Vec<&'static str> {
            l.config.virtual_servers[0].real_servers[0]
                .checkers
                .iter()
                .map(|c| c.kind.keyword())
                .collect()
        };
        let secure = " enable_script_security\n script_user root";
        let h = FakeHost::new();
        let l = load(&h, &text(secure));
        assert_eq!(kinds(&l), ["MISC_CHECK", "TCP_CHECK"], "{:?}", messages(&l));
        // World-writable while run as root: refused, so the checker is removed.
        let mut h = FakeHost::new();
        h.set("/etc/ka/chk", |m| m.mode = 0o777);
        let l = load(&h, &text(secure));
        assert_eq!(kinds(&l), ["TCP_CHECK"]);
        assert!(
            messages(&l)
                .iter()
                .any(|m| m
                    .contains("MISC_CHECK: its script cannot run here; the checker is disabled")),
            "{:?}",
            messages(&l)
        );
    }

    #[test]
    fn scripts_that_cannot_run_here_are_disabled_with_keepalived_status() {
        let secure = " enable_script_security\n script_user root";
        // Not executable: disabled, the instance carries on, -t status 0 (keepalived).
        let mut h = FakeHost::new();
        h.put("/etc/ka/chk", file(0o644));
        let l = load(&h, &conf(secure, " weight 0", "/etc/ka/chk"));
        assert!(!tracked(&l));
        let m = messages(&l);
        assert!(
            m.iter().any(|m| m == "WARNING - script '/etc/ka/chk' is not executable for uid:gid 0:0 - disabling (vrrp_script chk)"),
            "{m:?}"
        );
        assert_eq!(config_test_status(&l), 0, "{m:?}");
        // Missing: counted for a track script.
        let h = FakeHost::new();
        let l = load(
            &h,
            &conf(secure, "", "/etc/ka/chk").replace("/etc/ka/chk arg", "/etc/ka/gone"),
        );
        assert!(!tracked(&l));
        assert_eq!(config_test_status(&l), 5);
        // Unknown users and groups.
        let l = load(&h, &conf(secure, " user nosuch", "/etc/ka/chk"));
        assert!(!tracked(&l));
        assert_eq!(config_test_status(&l), 5);
        let l = load(&h, &conf(secure, "", "/etc/ka/chk root nosuch"));
        assert_eq!(l.config.instances[0].notify.master, None);
        assert!(tracked(&l));
        assert_eq!(config_test_status(&l), 0, "{:?}", messages(&l));
        let l = load(&h, &conf(" script_user nosuch", "", "/etc/ka/chk"));
        assert!(!tracked(&l));
        assert_eq!(l.config.instances[0].notify.master, None);
        assert_eq!(config_test_status(&l), 5);
        // A bare name is looked for on PATH.
        let l = load(&h, &conf(secure, "", "true"));
        assert_eq!(
            notify_run_as(&l).map(|r| r.program),
            Some("/bin/true".into())
        );
    }
}
