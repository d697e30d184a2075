//! Tests of the IPVS diff: each reconciliation rule, the order, and a seeded property test.

use super::*;
use crate::ipvs::model::{Af, Forward, Proto};
use std::net::{IpAddr, Ipv4Addr};

fn skey(n: u8) -> ServiceKey {
    ServiceKey::Addr {
        proto: Proto::Tcp,
        addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, n)),
        port: 80,
    }
}

fn dkey(n: u8) -> DestKey {
    DestKey {
        addr: IpAddr::V4(Ipv4Addr::new(192, 168, 1, n)),
        port: 80,
    }
}

fn attrs(sched: &str) -> ServiceAttrs {
    ServiceAttrs {
        sched: sched.into(),
        flags: 0,
        timeout: 0,
        netmask: u32::MAX,
        pe_name: None,
    }
}

fn dest(weight: u32) -> DestAttrs {
    DestAttrs {
        forward: Forward::Direct,
        weight,
        u_threshold: 0,
        l_threshold: 0,
    }
}

fn svc(sched: &str, dests: &[(u8, u32)]) -> Service {
    Service {
        attrs: attrs(sched),
        dests: dests.iter().map(|(d, w)| (dkey(*d), dest(*w))).collect(),
    }
}

fn owned(keys: &[u8]) -> BTreeSet<ServiceKey> {
    keys.iter().map(|k| skey(*k)).collect()
}

#[test]
fn equal_tables_give_nothing() {
    let t: Table = [(skey(1), svc("rr", &[(2, 1), (3, 1)]))].into();
    assert!(diff(&t, &t, &owned(&[1])).is_empty());
}

#[test]
fn start_up_adds_services_before_dests() {
    let d: Table = [(skey(1), svc("rr", &[(2, 1)])), (skey(2), svc("wlc", &[]))].into();
    let ops = diff(&Table::new(), &d, &BTreeSet::new());
    assert_eq!(
        ops,
        vec![
            Op::AddService(skey(1), attrs("rr")),
            Op::AddService(skey(2), attrs("wlc")),
            Op::AddDest(skey(1), dkey(2), dest(1)),
        ]
    );
}

#[test]
fn adopted_service_is_edited_not_flushed() {
    // Found in the kernel at start-up with another scheduler, one extra and one stale dest.
    let cur: Table = [(skey(1), svc("wlc", &[(2, 5), (9, 1)]))].into();
    let want: Table = [(skey(1), svc("rr", &[(2, 1), (3, 1)]))].into();
    let ops = diff(&cur, &want, &BTreeSet::new());
    assert_eq!(
        ops,
        vec![
            Op::DelDest(skey(1), dkey(9)),
            Op::EditService(skey(1), attrs("rr")),
            Op::EditDest(skey(1), dkey(2), dest(1)),
            Op::AddDest(skey(1), dkey(3), dest(1)),
        ]
    );
}

#[test]
fn foreign_services_are_left_alone_owned_ones_deleted() {
    let cur: Table = [
        (skey(1), svc("rr", &[(2, 1)])),
        (skey(5), svc("rr", &[(2, 1)])),
    ]
    .into();
    // Neither is desired any more; only 1 was ours.
    let ops = diff(&cur, &Table::new(), &owned(&[1]));
    assert_eq!(ops, vec![Op::DelService(skey(1))]);
}

#[test]
fn deleted_service_takes_its_dests() {
    let cur: Table = [(skey(1), svc("rr", &[(2, 1), (3, 1)]))].into();
    let ops = diff(&cur, &Table::new(), &owned(&[1]));
    assert_eq!(ops, vec![Op::DelService(skey(1))]);
}

#[test]
fn weight_change_is_one_edit() {
    let cur: Table = [(skey(1), svc("rr", &[(2, 1), (3, 1)]))].into();
    let want: Table = [(skey(1), svc("rr", &[(2, 1), (3, 0)]))].into();
    assert_eq!(
        diff(&cur, &want, &owned(&[1])),
        vec![Op::EditDest(skey(1), dkey(3), dest(0))]
    );
}

#[test]
fn stop_removes_exactly_what_is_owned_or_nothing_with_keep() {
    let cur: Table = [
        (skey(1), svc("rr", &[(2, 1), (3, 1)])),
        (skey(5), svc("rr", &[(4, 1)])),
    ]
    .into();
    let own = owned(&[1, 7]);
    assert_eq!(
        stop_ops(&cur, &own, StopMode::EachDest),
        vec![
            Op::DelDest(skey(1), dkey(2)),
            Op::DelDest(skey(1), dkey(3)),
            Op::DelService(skey(1))
        ]
    );
    assert_eq!(
        stop_ops(&cur, &own, StopMode::EachService),
        vec![Op::DelService(skey(1))]
    );
    assert_eq!(
        stop_ops(&cur, &own, StopMode::Flush),
        vec![Op::DelService(skey(1)), Op::DelService(skey(5))]
    );
    assert!(stop_ops(&cur, &own, StopMode::Keep).is_empty());
}

#[test]
fn diff_keys_looks_only_at_its_keys() {
    let cur: Table = [(skey(1), svc("rr", &[(2, 1)])), (skey(5), svc("rr", &[]))].into();
    let want: Table = [(skey(1), svc("rr", &[(2, 3)])), (skey(6), svc("rr", &[]))].into();
    let own = owned(&[1, 5, 6]);
    let only1: BTreeSet<ServiceKey> = [skey(1)].into();
    assert_eq!(
        diff_keys(&cur, &want, &only1, &own),
        vec![Op::EditDest(skey(1), dkey(2), dest(3))]
    );
    let all: BTreeSet<ServiceKey> = [skey(1), skey(5), skey(6)].into();
    assert_eq!(diff_keys(&cur, &want, &all, &own), diff(&cur, &want, &own));
}

#[test]
fn apply_refuses_what_the_kernel_refuses() {
    let mut t = Table::new();
    assert_eq!(
        apply(&mut t, &Op::AddDest(skey(1), dkey(1), dest(1))),
        Err(ApplyError::NoService(skey(1)))
    );
    apply(&mut t, &Op::AddService(skey(1), attrs("rr"))).unwrap();
    assert_eq!(
        apply(&mut t, &Op::AddService(skey(1), attrs("rr"))),
        Err(ApplyError::ServiceExists(skey(1)))
    );
    assert_eq!(
        apply(&mut t, &Op::DelDest(skey(1), dkey(1))),
        Err(ApplyError::NoDest(skey(1), dkey(1)))
    );
    // A refused add leaves the existing destination as it was.
    apply(&mut t, &Op::AddDest(skey(1), dkey(1), dest(1))).unwrap();
    let before = t.clone();
    assert_eq!(
        apply(&mut t, &Op::AddDest(skey(1), dkey(1), dest(2))),
        Err(ApplyError::DestExists(skey(1), dkey(1)))
    );
    assert_eq!(t, before);
}

/// xorshift64*: a seeded generator for the property test.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u8 {
        (self.next() % n) as u8
    }
}

fn random_table(rng: &mut Rng) -> Table {
    let mut t = Table::new();
    for _ in 0..rng.below(8) {
        let key = if rng.below(4) == 0 {
            ServiceKey::Fwmark {
                family: Af::Inet,
                mark: u32::from(rng.below(3)),
            }
        } else {
            skey(rng.below(6))
        };
        let sched = ["rr", "wrr", "wlc"][usize::from(rng.below(3))];
        let dests: Vec<(u8, u32)> = (0..rng.below(6))
            .map(|_| (rng.below(8), u32::from(rng.below(3))))
            .collect();
        t.insert(key, svc(sched, &dests));
    }
    t
}

#[test]
fn property_applying_ops_yields_desired() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..2000 {
        let current = random_table(&mut rng);
        let desired = random_table(&mut rng);
        let own: BTreeSet<ServiceKey> = current
            .keys()
            .filter(|_| rng.below(2) == 0)
            .copied()
            .collect();
        let ops = diff(&current, &desired, &own);
        let mut t = current.clone();
        for op in &ops {
            apply(&mut t, op).unwrap_or_else(|e| panic!("{e} in {ops:?}"));
        }
        // Desired, plus the foreign services nobody wants, untouched.
        let mut expected = desired.clone();
        for (k, s) in &current {
            if !desired.contains_key(k) && !own.contains(k) {
                expected.insert(*k, s.clone());
            }
        }
        assert_eq!(t, expected);
        // Minimal: a second diff is empty and no op was a no-op edit.
        assert!(diff(&t, &desired, &own).is_empty());
        for op in &ops {
            match op {
                Op::EditService(k, a) => assert_ne!(&current[k].attrs, a),
                Op::EditDest(k, d, a) => assert_ne!(&current[k].dests[d], a),
                _ => {}
            }
        }
    }
}
