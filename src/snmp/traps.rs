//! The notifications sent when instances become Master (`enable_traps`): RFC 2787's
//! vrrpTrapNewMaster with vrrpOperMasterIpAddr, RFC 6527's vrrpv3NewMaster with
//! vrrpv3OperationsMasterIpAddr and vrrpv3StatisticsNewMasterReason, each for the MIBs
//! served, with the values the view holds for the instance's row.

use super::oid::Oid;
use super::rows::rows;
use super::settings::SnmpSettings;
use super::view::View;
use super::wire::{Value, VarBind};
use super::{rfc2787, rfc6527};
use crate::status::Snapshot;

/// (notification OID, its objects) for each instance named in `masters` that has a row.
pub fn new_master(
    snap: &Snapshot,
    view: &View,
    s: &SnmpSettings,
    masters: &[String],
) -> Vec<(Oid, Vec<VarBind>)> {
    let mut out = Vec::new();
    if !s.traps {
        return out;
    }
    let bind = |name: Oid| -> Option<VarBind> {
        match view.get(&name) {
            Value::NoSuchObject | Value::NoSuchInstance | Value::EndOfMibView => None,
            value => Some(VarBind { name, value }),
        }
    };
    let rows = rows(snap);
    for m in masters {
        for r in rows.iter().filter(|r| &r.inst.cfg.name == m) {
            let v2_idx = [r.ifindex, u32::from(r.vrid)];
            if s.rfcv2 && !r.ipv6() {
                if let Some(vb) = bind(rfc2787::oper_column(7).child(&v2_idx)) {
                    out.push((Oid::new(&rfc2787::TRAP_NEW_MASTER), vec![vb]));
                }
            }
            if s.rfcv3 {
                let idx = [r.ifindex, u32::from(r.vrid), if r.ipv6() { 2 } else { 1 }];
                let reason = Oid::new(&rfc6527::VRRPV3_MIB).child(&[1, 2, 5, 1, 2]);
                let vbs: Vec<VarBind> = [rfc6527::oper_column(3).child(&idx), reason.child(&idx)]
                    .into_iter()
                    .filter_map(bind)
                    .collect();
                if vbs.len() == 2 {
                    out.push((Oid::new(&rfc6527::TRAP_NEW_MASTER), vbs));
                }
            }
        }
    }
    out
}
