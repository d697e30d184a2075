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
//!   nothing is sent; a later `start` boots a clean kernel.
//! - `pause`: the process is frozen: it receives nothing (frames to it are lost), its
//!   timers do not fire, script exits wait; on `resume` waiting events are delivered and
//!   overdue timers fire at once.

use super::kernel::Kernel;
use super::scenario::{HostDecl, ScriptResult};
use crate::config::model::Config;
use crate::engine::{Engine, Event};
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
    /// Script name -> (result, delay) currently scripted.
    pub scripts: BTreeMap<String, (ScriptResult, Duration)>,
    /// Events that reached the host while paused.
    pub deferred: Vec<Event>,
}

impl Host {
    pub fn new(index: usize, decl: HostDecl, config: Config) -> Host {
        let scripts = decl
            .scripts
            .iter()
            .map(|s| (s.name.clone(), (s.result.clone(), s.delay)))
            .collect();
        Host {
            name: decl.name.clone(),
            index,
            kernel: Kernel::boot(index, &decl.ifaces),
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
    pub fn script_result(&self, argv0: &str) -> (ScriptResult, Duration) {
        let base = argv0.rsplit('/').next().unwrap_or(argv0);
        let stem = base.split('.').next().unwrap_or(base);
        for key in [argv0, base, stem] {
            if let Some(r) = self.scripts.get(key) {
                return r.clone();
            }
        }
        (ScriptResult::Exit(0), Duration::ZERO)
    }

    pub fn set_script(&mut self, name: &str, result: ScriptResult) {
        let delay = self
            .scripts
            .get(name)
            .map(|r| r.1)
            .unwrap_or(Duration::ZERO);
        self.scripts.insert(name.to_string(), (result, delay));
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
