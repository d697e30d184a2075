//! keepalived-rs: a keepalived-compatible high-availability daemon.
//!
//! The crate is split as `../docs/DESIGN.md` describes: a pure engine (`config`, `sched`,
//! `vrrp`, `check`, `ipvs`, `engine`) driven by events and answering with actions, and two
//! worlds that execute those actions: `sys` (real Linux, one mio loop) and `sim` (a
//! deterministic simulated network of many routers in one process).

pub mod alert;
pub mod check;
#[allow(clippy::disallowed_methods, clippy::disallowed_types)] // reaches the OS by design
pub mod cli;
pub mod config;
pub mod engine;
pub mod event;
#[allow(clippy::disallowed_methods, clippy::disallowed_types)] // its netlink target reaches sys
pub mod fuzzing;
#[allow(clippy::disallowed_methods, clippy::disallowed_types)] // reaches the OS by design
pub mod genhash;
pub mod ipvs;
#[allow(clippy::disallowed_methods, clippy::disallowed_types)] // reaches the OS by design
pub mod logging;
pub mod sched;
#[allow(clippy::disallowed_methods, clippy::disallowed_types)] // reaches the OS by design
pub mod sim;
pub mod smtp;
pub mod snmp;
pub mod status;
#[allow(clippy::disallowed_methods, clippy::disallowed_types)] // reaches the OS by design
pub mod sys;
pub mod vrrp;
