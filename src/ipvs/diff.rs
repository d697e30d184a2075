//! Desired vs. current IPVS table → the minimum ordered list of operations. Order is
//! stable: destination deletes, service deletes, service edits, service adds, destination
//! edits, destination adds (each group in key order). Reconciliation: services of the
//! current table that the configuration wants are adopted (edited in place, never
//! flushed); services it does not want are deleted only if the daemon owns them (added
//! them earlier), otherwise left alone. [`apply`] is the reference semantics (the
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
    let mut del_dests = Vec::new();
    let mut del_svcs = Vec::new();
    let mut edit_svcs = Vec::new();
    let mut add_svcs = Vec::new();
    let mut edit_dests = Vec::new();
    let mut add_dests = Vec::new();
    for key in current.keys() {
        if !desired.contains_key(key) && owned.contains(key) {
            del_svcs.push(Op::DelService(*key));
        }
    }
    for (key, want) in desired {
        match current.get(key) {
            None => {
                add_svcs.push(Op::AddService(*key, want.attrs.clone()));
                for (dk, da) in &want.dests {
                    add_dests.push(Op::AddDest(*key, *dk, *da));
                }
            }
            Some(cur) => {
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

/// The operations on stop: with `keep` (`-I`, or no `omega`) nothing; otherwise delete
/// exactly the owned services present in `current` (their destinations go with them).
pub fn stop_ops(current: &Table, owned: &BTreeSet<ServiceKey>, keep: bool) -> Vec<Op> {
    if keep {
        return Vec::new();
    }
    current
        .keys()
        .filter(|k| owned.contains(k))
        .map(|k| Op::DelService(*k))
        .collect()
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
            if s.dests.insert(*d, *a).is_some() {
                return Err(ApplyError::DestExists(*k, *d));
            }
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
