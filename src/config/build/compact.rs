//! Trimming the spare capacity of a block's vectors once it is built: a vector that got
//! one element holds room for four, which for 30 000 instances or virtual servers is most
//! of the model's memory. Called by the builder on each top-level block as it is read.
//!
//! A vector is moved to an exactly sized new allocation rather than shrunk in place: an
//! in-place shrink leaves a small free hole behind each one, which the next blocks cannot
//! use (measured: a third more resident exact(&mut memory); a freed whole block is reused by the
//! next block being built.

use super::super::model::{CheckerKind, VirtualServer, VrrpInstance};

/// Pushes onto one of the model's long vectors (instances, virtual servers), growing it by
/// a sixteenth at a time instead of doubling: at most a sixteenth of it is spare, not half.
/// (Large vectors are grown in place by the allocator, so the extra steps cost no copy.)
pub fn push<T>(v: &mut Vec<T>, item: T) {
    if v.len() == v.capacity() {
        v.reserve_exact((v.capacity() / 16).max(4));
    }
    v.push(item);
}

/// Moves `v` to an allocation of exactly its length.
pub fn exact<T>(v: &mut Vec<T>) {
    if v.capacity() > v.len() {
        let mut n = Vec::with_capacity(v.len());
        n.append(v);
        *v = n;
    }
}

pub fn instance(i: &mut VrrpInstance) {
    exact(&mut i.vips);
    exact(&mut i.excluded_vips);
    exact(&mut i.virtual_routes);
    exact(&mut i.virtual_rules);
    exact(&mut i.track_interfaces);
    exact(&mut i.track_scripts);
    exact(&mut i.track_files);
    exact(&mut i.track_processes);
    exact(&mut i.track_bfds);
    exact(&mut i.unicast_peers);
}

pub fn virtual_server(v: &mut VirtualServer) {
    exact(&mut v.sched_flags);
    exact(&mut v.real_servers);
    for rs in &mut v.real_servers {
        exact(&mut rs.checkers);
        for c in &mut rs.checkers {
            if let CheckerKind::Http(h) | CheckerKind::Ssl(h) = &mut c.kind {
                exact(&mut h.urls);
            }
        }
    }
}
