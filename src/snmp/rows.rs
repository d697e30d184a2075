//! What both VRRP MIBs say of one instance, taken from a snapshot: its table index
//! (ifIndex of its interface, VRID, address family), state, master and primary
//! addresses, virtual MAC and up-time as TimeTicks of the master agent's sysUpTime.

use super::oid::Oid;
use super::wire::Value;
use crate::config::model::Family;
use crate::sched::Instant;
use crate::status::{InstanceStatus, Snapshot};
use crate::vrrp::State;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// The master agent's sysUpTime was `ticks` (hundredths of a second) at engine instant
/// `at` (from the Response to our Open, RFC 2741 §6.2.16).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpTimeBase {
    pub at: Instant,
    pub ticks: u32,
}

impl UpTimeBase {
    /// sysUpTime at engine instant `t` (0 before the master started, as TimeStamp says).
    pub fn ticks_at(&self, t: Instant) -> u32 {
        let cs = |i: Instant| i128::from(i.as_nanos() / 10_000_000);
        let delta = cs(t) - cs(self.at);
        (i128::from(self.ticks) + delta).clamp(0, i128::from(u32::MAX)) as u32
    }
}

/// One instance as the MIBs index it.
#[derive(Clone, Copy, Debug)]
pub struct Row<'a> {
    pub ifindex: u32,
    pub vrid: u8,
    pub inst: &'a InstanceStatus,
}

impl Row<'_> {
    pub fn ipv6(&self) -> bool {
        self.inst.cfg.family == Family::Inet6
    }

    /// The VRRP state as the MIBs know it: initialize(1), backup(2), master(3); FAULT
    /// and stopped instances forward nothing and are `initialize`.
    pub fn state(&self) -> i32 {
        match self.inst.state {
            State::Backup => 2,
            State::Master => 3,
            State::Initialize | State::Fault | State::Stop => 1,
        }
    }

    /// The Master's address: ours while Master, else the source of the last advert
    /// accepted (None when none was heard).
    pub fn master_addr(&self) -> Option<IpAddr> {
        if self.inst.state == State::Master {
            self.inst.src_addr
        } else {
            self.inst.master_heard.map(|(a, _)| a)
        }
    }

    /// RFC 5798 §7.3: 00-00-5E-00-01-{VRID} (IPv4), 00-00-5E-00-02-{VRID} (IPv6).
    pub fn virtual_mac(&self) -> Vec<u8> {
        vec![0, 0, 0x5e, 0, if self.ipv6() { 2 } else { 1 }, self.vrid]
    }

    /// The VIPs of the instance's family (the others are not VRRP's to announce).
    pub fn vips(&self) -> Vec<IpAddr> {
        let v6 = self.ipv6();
        let mut v: Vec<IpAddr> = self
            .inst
            .cfg
            .vips
            .iter()
            .map(|a| a.addr)
            .filter(|a| a.is_ipv6() == v6)
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// When the instance left Initialize, as the master's sysUpTime (0 if never, or
    /// when the master's sysUpTime is not known).
    pub fn up_time(&self, base: Option<UpTimeBase>) -> u32 {
        match (self.inst.up_since, base) {
            (Some(t), Some(b)) => b.ticks_at(t),
            _ => 0,
        }
    }
}

/// The instances with a known interface index, in the MIBs' index order (ifIndex, VRID,
/// IPv4 before IPv6); a second instance with the same index is left out.
pub fn rows(snap: &Snapshot) -> Vec<Row<'_>> {
    let mut rows: Vec<Row<'_>> = snap
        .instances
        .iter()
        .filter_map(|inst| {
            let by_name = inst
                .cfg
                .interface
                .as_ref()
                .and_then(|n| snap.interfaces.iter().find(|i| &i.name == n))
                .map(|i| i.index);
            Some(Row {
                ifindex: by_name.or(inst.ifindex)?,
                vrid: inst.cfg.vrid,
                inst,
            })
        })
        .collect();
    rows.sort_by_key(|r| (r.ifindex, r.vrid, r.ipv6()));
    rows.dedup_by_key(|r| (r.ifindex, r.vrid, r.ipv6()));
    rows
}

/// TruthValue (RFC 2579): true(1), false(2).
pub fn truth(b: bool) -> i32 {
    if b {
        1
    } else {
        2
    }
}

/// The cells of a table, given row by row (in index order) and handed out column by
/// column: the MIB's order, so the view's sort finds them sorted already.
#[derive(Default)]
pub struct Table {
    cols: BTreeMap<u32, Vec<(Oid, Value)>>,
}

impl Table {
    pub fn push(&mut self, col: u32, name: Oid, v: Value) {
        self.cols.entry(col).or_default().push((name, v));
    }

    pub fn into_entries(self, out: &mut Vec<(Oid, Value)>) {
        for (_, cells) in self.cols {
            out.extend(cells);
        }
    }
}
