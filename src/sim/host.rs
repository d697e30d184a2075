//! One simulated host: its declaration, its loaded configuration, its lifecycle status,
//! its virtual kernel and (while keepalived runs) its engine, plus the scripted results of
//! its track scripts.
//!
//! Lifecycle, as the scenario language names it:
//! - `start`: a fresh engine; the kernel keeps what it had (unless the host crashed);
//!   every interface is reported, then `Startup`.
//! - `stop`: SIGTERM: `Shutdown` is handled (priority-0 adverts, addresses released) and
//!   the engine is dropped; the kernel keeps whatever the engine left.
//! - `kill` / `crash`: the machine dies: engine and kernel state are lost at once,
//!   nothing is sent; a later `start` boots a clean kernel (IPVS table empty, no sync
//!   daemon; a `no ipvs` host still has none). `stop` keeps the IPVS table: the next
//!   start reads what the previous run left.
//! - `pause`: the process is frozen: it receives nothing (frames to it are lost), its
//!   timers do not fire, script exits wait; on `resume` waiting events are delivered (for
//!   each interface only its latest state) and overdue timers fire at once.

use super::kernel::Kernel;
use super::scenario::{HostDecl, ScriptResult};
use crate::config::model::Config;
use crate::engine::Engine;
use crate::event::Event;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Powered on, keepalived not running (never started, or stopped).
    Idle,
    Running,
    Paused,
    /// Powered off after `kill`.
    Crashed,
}

/// How the runs of one track script end: with `result`, `delay` (+ up to `jitter`, drawn
/// from the seed) after they start. Unscripted commands exit 0 at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptPlan {
    pub result: ScriptResult,
    pub delay: Duration,
    pub jitter: Duration,
}

impl Default for ScriptPlan {
    fn default() -> Self {
        ScriptPlan {
            result: ScriptResult::Exit(0),
            delay: Duration::ZERO,
            jitter: Duration::ZERO,
        }
    }
}

pub struct Host {
    pub name: String,
    pub index: usize,
    pub decl: HostDecl,
    pub config: Config,
    pub status: Status,
    pub engine: Option<Engine>,
    pub kernel: Kernel,
    /// Incremented on every start: events of an earlier life are dropped.
    pub epoch: u64,
    /// Script name -> how its runs end now.
    pub scripts: BTreeMap<String, ScriptPlan>,
    /// Events that reached the host while paused.
    pub deferred: Vec<Event>,
}

impl Host {
    pub fn new(index: usize, decl: HostDecl, config: Config) -> Host {
        let scripts = decl
            .scripts
            .iter()
            .map(|s| {
                let plan = ScriptPlan {
                    result: s.result.clone(),
                    delay: s.delay,
                    jitter: s.jitter,
                };
                (s.name.clone(), plan)
            })
            .collect();
        let mut kernel = Kernel::boot(index, &decl.ifaces);
        kernel.ipvs = super::ipvs::SimIpvs::new(decl.ipvs);
        Host {
            name: decl.name.clone(),
            index,
            kernel,
            decl,
            config,
            status: Status::Idle,
            engine: None,
            epoch: 0,
            scripts,
            deferred: Vec::new(),
        }
    }

    /// The scripted result for a command: matched on the script's path, its file name, or
    /// its file name without extension. Unscripted commands exit 0 at once.
    pub fn script_result(&self, argv0: &str) -> ScriptPlan {
        let base = argv0.rsplit('/').next().unwrap_or(argv0);
        let stem = base.split('.').next().unwrap_or(base);
        for key in [argv0, base, stem] {
            if let Some(r) = self.scripts.get(key) {
                return r.clone();
            }
        }
        ScriptPlan::default()
    }

    /// Changes how the runs of script `name` end from now on (its delays are kept).
    pub fn set_script(&mut self, name: &str, result: ScriptResult) {
        let plan = self.scripts.entry(name.to_string()).or_default();
        plan.result = result;
    }

    /// Names of the VRRP instances of its configuration, in order.
    pub fn instance_names(&self) -> Vec<String> {
        self.config
            .instances
            .iter()
            .map(|i| i.name.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::scenario::ScriptDecl;

    #[test]
    fn scripts_match_by_path_name_or_stem() {
        let decl = HostDecl {
            name: "r1".into(),
            line: 1,
            autostart: true,
            ifaces: Vec::new(),
            config: String::new(),
            config_line: 0,
            config_file: None,
            scripts: vec![ScriptDecl {
                name: "chk_nginx".into(),
                result: ScriptResult::Exit(1),
                delay: Duration::from_millis(5),
                jitter: Duration::ZERO,
            }],
            ipvs: true,
            ipvsadm: Vec::new(),
            cli: Default::default(),
        };
        let mut h = Host::new(0, decl, Config::default());
        let fail = ScriptPlan {
            result: ScriptResult::Exit(1),
            delay: Duration::from_millis(5),
            jitter: Duration::ZERO,
        };
        assert_eq!(h.script_result("/usr/local/bin/chk_nginx.sh"), fail);
        assert_eq!(h.script_result("chk_nginx"), fail);
        assert_eq!(h.script_result("/bin/true"), ScriptPlan::default());
        h.set_script("chk_nginx", ScriptResult::Hang);
        assert_eq!(h.script_result("/x/chk_nginx").result, ScriptResult::Hang);
        assert_eq!(
            h.script_result("/x/chk_nginx").delay,
            Duration::from_millis(5)
        );
    }
}
