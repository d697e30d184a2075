//! Desired vs. current IPVS table → the minimum ordered list of operations. Order is
//! stable: destination deletes, service deletes, service edits, service adds, destination
//! edits, destination adds (each group in key order). Reconciliation: services of the
//! current table that the configuration wants are adopted (edited in place, never
//! flushed); services it does not want are deleted only if the daemon owns them (added
//! them earlier), otherwise left alone. [`diff_keys`] does the same for a subset of the
//! services (the virtual servers that changed). [`stop_ops`] is what stopping removes
//! ([`StopMode`]: only `-I` keeps the table). [`apply`] is the reference semantics (the
//! simulator's kernel table and the tests use it).

use std::collections::BTreeSet;
use std::fmt;

use super::model::{DestAttrs, DestKey, Service, ServiceAttrs, ServiceKey, Table};

/// One IPVS operation (one generic-netlink command).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    AddService(ServiceKey, ServiceAttrs),
    EditService(ServiceKey, ServiceAttrs),
    DelService(ServiceKey),
    AddDest(ServiceKey, DestKey, DestAttrs),
    EditDest(ServiceKey, DestKey, DestAttrs),
    DelDest(ServiceKey, DestKey),
}

/// The operations that turn `current` into `desired`, leaving services that are neither
/// desired nor in `owned` untouched.
pub fn diff(current: &Table, desired: &Table, owned: &BTreeSet<ServiceKey>) -> Vec<Op> {
    let keys: BTreeSet<ServiceKey> = current.keys().chain(desired.keys()).copied().collect();
    diff_keys(current, desired, &keys, owned)
}

/// [`diff`] restricted to the services in `keys` (the others of both tables are not
/// looked at): what the runtime uses to recompute only the virtual servers that changed.
/// Same order as [`diff`].
pub fn diff_keys(
    current: &Table,
    desired: &Table,
    keys: &BTreeSet<ServiceKey>,
    owned: &BTreeSet<ServiceKey>,
) -> Vec<Op> {
    let mut del_dests = Vec::new();
    let mut del_svcs = Vec::new();
    let mut edit_svcs = Vec::new();
    let mut add_svcs = Vec::new();
    let mut edit_dests = Vec::new();
    let mut add_dests = Vec::new();
    for key in keys {
        match (current.get(key), desired.get(key)) {
            (None, None) => {}
            (Some(_), None) => {
                if owned.contains(key) {
                    del_svcs.push(Op::DelService(*key));
                }
            }
            (None, Some(want)) => {
                add_svcs.push(Op::AddService(*key, want.attrs.clone()));
                for (dk, da) in &want.dests {
                    add_dests.push(Op::AddDest(*key, *dk, *da));
                }
            }
            (Some(cur), Some(want)) => {
                if cur.attrs != want.attrs {
                    edit_svcs.push(Op::EditService(*key, want.attrs.clone()));
                }
                for dk in cur.dests.keys() {
                    if !want.dests.contains_key(dk) {
                        del_dests.push(Op::DelDest(*key, *dk));
                    }
                }
                for (dk, da) in &want.dests {
                    match cur.dests.get(dk) {
                        None => add_dests.push(Op::AddDest(*key, *dk, *da)),
                        Some(c) if c != da => edit_dests.push(Op::EditDest(*key, *dk, *da)),
                        Some(_) => {}
                    }
                }
            }
        }
    }
    let mut ops = del_dests;
    ops.extend(del_svcs);
    ops.extend(edit_svcs);
    ops.extend(add_svcs);
    ops.extend(edit_dests);
    ops.extend(add_dests);
    ops
}

/// How the daemon leaves the table when it stops (keepalived 2.2.7, `-I` and
/// `lvs_flush_on_stop`; `omega` changes only which notify scripts run, not the table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopMode {
    /// `-I` / `--dont-release-ipvs`: nothing is removed.
    Keep,
    /// The default: each real server, then its virtual server, is deleted one by one
    /// (every owned service: its destinations, then the service).
    EachDest,
    /// `lvs_flush_on_stop VS`: each owned service is deleted, its destinations going
    /// with it (the kernel removes them).
    EachService,
    /// `lvs_flush_on_stop`: the whole table is flushed, services the daemon does not own
    /// included (one delete per service of the table).
    Flush,
}

/// The operations on stop, for the services of `current` (in key order) as `mode` says.
pub fn stop_ops(current: &Table, owned: &BTreeSet<ServiceKey>, mode: StopMode) -> Vec<Op> {
    let mut ops = Vec::new();
    for (k, s) in current {
        match mode {
            StopMode::Keep => return ops,
            StopMode::EachDest if owned.contains(k) => {
                ops.extend(s.dests.keys().map(|d| Op::DelDest(*k, *d)));
                ops.push(Op::DelService(*k));
            }
            StopMode::EachService if owned.contains(k) => ops.push(Op::DelService(*k)),
            StopMode::Flush => ops.push(Op::DelService(*k)),
            _ => {}
        }
    }
    ops
}

/// Why an operation could not be applied (as the kernel answers EEXIST / ENOENT / ESRCH).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApplyError {
    ServiceExists(ServiceKey),
    NoService(ServiceKey),
    DestExists(ServiceKey, DestKey),
    NoDest(ServiceKey, DestKey),
}

impl fmt::Display for ApplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApplyError::ServiceExists(k) => write!(f, "service {k:?} exists"),
            ApplyError::NoService(k) => write!(f, "no service {k:?}"),
            ApplyError::DestExists(k, d) => write!(f, "destination {d:?} of {k:?} exists"),
            ApplyError::NoDest(k, d) => write!(f, "no destination {d:?} in {k:?}"),
        }
    }
}

/// Apply one operation to a table with the kernel's rules (no implicit creation).
pub fn apply(table: &mut Table, op: &Op) -> Result<(), ApplyError> {
    match op {
        Op::AddService(k, a) => {
            if table.contains_key(k) {
                return Err(ApplyError::ServiceExists(*k));
            }
            table.insert(
                *k,
                Service {
                    attrs: a.clone(),
                    dests: Default::default(),
                },
            );
        }
        Op::EditService(k, a) => {
            table.get_mut(k).ok_or(ApplyError::NoService(*k))?.attrs = a.clone();
        }
        Op::DelService(k) => {
            table.remove(k).ok_or(ApplyError::NoService(*k))?;
        }
        Op::AddDest(k, d, a) => {
            let s = table.get_mut(k).ok_or(ApplyError::NoService(*k))?;
            // Refused without touching the existing destination (as the kernel's EEXIST).
            if s.dests.contains_key(d) {
                return Err(ApplyError::DestExists(*k, *d));
            }
            s.dests.insert(*d, *a);
        }
        Op::EditDest(k, d, a) => {
            let s = table.get_mut(k).ok_or(ApplyError::NoService(*k))?;
            *s.dests.get_mut(d).ok_or(ApplyError::NoDest(*k, *d))? = *a;
        }
        Op::DelDest(k, d) => {
            let s = table.get_mut(k).ok_or(ApplyError::NoService(*k))?;
            s.dests.remove(d).ok_or(ApplyError::NoDest(*k, *d))?;
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
