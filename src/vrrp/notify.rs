//! Notify scripts and notify_fifo lines for instances and sync groups (keepalived.md §3.4):
//! the per-state script runs with its own arguments, then `notify` with
//! `INSTANCE|GROUP name STATE priority` appended; the FIFO gets
//! `INSTANCE "VI_1" MASTER 100` (groups: priority 0).

use crate::config::model::{NotifyScripts, ScriptCommand};
use crate::event::Action;
use crate::vrrp::State;

/// INSTANCE or GROUP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Instance,
    Group,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Instance => "INSTANCE",
            Kind::Group => "GROUP",
        }
    }
}

/// The state word of notify arguments and FIFO lines (None for states never notified).
pub fn state_word(state: State) -> Option<&'static str> {
    match state {
        State::Master => Some("MASTER"),
        State::Backup => Some("BACKUP"),
        State::Fault => Some("FAULT"),
        State::Stop => Some("STOP"),
        State::Initialize => None,
    }
}

/// The FIFO line (with its newline).
pub fn fifo_line(kind: Kind, name: &str, state: &str, priority: u8) -> String {
    format!("{} \"{}\" {} {}\n", kind.word(), name, state, priority)
}

/// The actions announcing that `name` entered `state`: per-state script, `notify` with the
/// four extra arguments, then the FIFO line.
pub fn actions(
    scripts: &NotifyScripts,
    kind: Kind,
    name: &str,
    state: State,
    priority: u8,
    fifos: &[String],
) -> Vec<Action> {
    let Some(word) = state_word(state) else {
        return Vec::new();
    };
    let specific = match state {
        State::Master => scripts.master.as_deref(),
        State::Backup => scripts.backup.as_deref(),
        State::Fault => scripts.fault.as_deref(),
        State::Stop => scripts.stop.as_deref(),
        State::Initialize => None,
    };
    word_actions(scripts, specific, kind, name, word, priority, fifos)
}

/// Like [`actions`] for a state word that is not a [`State`] (`DELETED` at reload):
/// `specific` runs first, then `notify` with the four arguments, then the FIFO lines.
pub fn word_actions(
    scripts: &NotifyScripts,
    specific: Option<&ScriptCommand>,
    kind: Kind,
    name: &str,
    word: &str,
    priority: u8,
    fifos: &[String],
) -> Vec<Action> {
    let priority = if kind == Kind::Group { 0 } else { priority };
    let mut out = Vec::new();
    if let Some(cmd) = specific {
        out.push(Action::RunScript {
            run: None,
            command: cmd.clone(),
            timeout: None,
        });
    }
    if let Some(cmd) = &scripts.any {
        let mut argv = cmd.argv.clone();
        argv.extend([
            kind.word().to_string(),
            name.to_string(),
            word.to_string(),
            priority.to_string(),
        ]);
        out.push(Action::RunScript {
            run: None,
            command: ScriptCommand {
                argv,
                ..ScriptCommand::clone(cmd)
            },
            timeout: None,
        });
    }
    for path in fifos {
        out.push(Action::WriteFifo {
            path: path.clone(),
            line: fifo_line(kind, name, word, priority),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(argv: &[&str]) -> ScriptCommand {
        ScriptCommand::from_argv(argv)
    }

    #[test]
    fn per_state_then_notify_then_fifo() {
        let scripts = NotifyScripts {
            master: Some(Box::new(cmd(&["/etc/ka/master.sh", "up now"]))),
            any: Some(Box::new(cmd(&["/etc/ka/notify.sh"]))),
            ..NotifyScripts::default()
        };
        let a = actions(
            &scripts,
            Kind::Instance,
            "VI_1",
            State::Master,
            100,
            &["/run/ka.fifo".to_string()],
        );
        assert_eq!(
            a,
            vec![
                Action::RunScript {
                    run: None,
                    command: cmd(&["/etc/ka/master.sh", "up now"]),
                    timeout: None
                },
                Action::RunScript {
                    run: None,
                    command: cmd(&["/etc/ka/notify.sh", "INSTANCE", "VI_1", "MASTER", "100"]),
                    timeout: None
                },
                Action::WriteFifo {
                    path: "/run/ka.fifo".into(),
                    line: "INSTANCE \"VI_1\" MASTER 100\n".into()
                },
            ]
        );
    }

    #[test]
    fn group_priority_is_zero_and_backup_has_no_master_script() {
        let scripts = NotifyScripts {
            master: Some(Box::new(cmd(&["/m"]))),
            ..NotifyScripts::default()
        };
        let a = actions(
            &scripts,
            Kind::Group,
            "G1",
            State::Backup,
            100,
            &["/f".to_string()],
        );
        assert_eq!(
            a,
            vec![Action::WriteFifo {
                path: "/f".into(),
                line: "GROUP \"G1\" BACKUP 0\n".into()
            }]
        );
        assert!(actions(
            &scripts,
            Kind::Instance,
            "VI_1",
            State::Initialize,
            100,
            &["/f".to_string()]
        )
        .is_empty());
    }

    #[test]
    fn stop_runs_notify_stop() {
        let scripts = NotifyScripts {
            stop: Some(Box::new(cmd(&["/s"]))),
            any: Some(Box::new(cmd(&["/n", "x"]))),
            ..NotifyScripts::default()
        };
        let a = actions(&scripts, Kind::Instance, "VI_2", State::Stop, 90, &[]);
        assert_eq!(a.len(), 2);
        assert_eq!(
            a[1],
            Action::RunScript {
                run: None,
                command: cmd(&["/n", "x", "INSTANCE", "VI_2", "STOP", "90"]),
                timeout: None
            }
        );
    }
}
