//! The IPVS model (services and destinations) and its diff. `model` computes the desired
//! table from the configuration and the checkers' states; `diff` turns desired vs. current
//! into an ordered operation list; `runtime` is what the engine owns to keep the kernel's
//! table in step (start-up reconciliation, checker changes, quorum, `ha_suspend`, the sync
//! daemon, reload, stop).

pub mod diff;
pub mod model;
pub mod runtime;
