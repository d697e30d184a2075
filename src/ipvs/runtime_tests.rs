//! Unit tests of the IPVS runtime with a hand-driven real-server state table.

use super::*;
use crate::config::model::Config;
use crate::ipvs::model::{DestAttrs, DestKey, Forward, Proto, ServiceAttrs};
use std::cell::RefCell;
use std::collections::BTreeMap;

fn cfg(text: &str) -> Config {
    let l = crate::config::load_str(
        text,
        std::path::Path::new("t.conf"),
        &crate::config::LoadOptions::default(),
    );
    assert!(
        l.diagnostics
            .iter()
            .all(|d| d.severity != crate::config::Severity::Error),
        "{:#?}",
        l.diagnostics
    );
    l.config
}

/// A runtime with its configuration and a mutable real-server table.
struct Rig {
    config: Config,
    rt: Runtime,
    rs: RefCell<BTreeMap<(usize, usize), RsState>>,
    actions: VecDeque<Action>,
}

impl Rig {
    fn new(text: &str) -> Rig {
        let config = cfg(text);
        let rt = Runtime::new(&config);
        let mut rs = BTreeMap::new();
        for (vi, vs) in config.virtual_servers.iter().enumerate() {
            for (ri, r) in vs.real_servers.iter().enumerate() {
                rs.insert((vi, ri), (true, r.weight as u32));
            }
        }
        Rig {
            config,
            rt,
            rs: RefCell::new(rs),
            actions: VecDeque::new(),
        }
    }

    fn with<R>(&mut self, f: impl FnOnce(&mut Runtime, &mut Ctx<'_>) -> R) -> R {
        let rs = &self.rs;
        let state = |v: usize, r: usize| rs.borrow().get(&(v, r)).copied().unwrap_or((false, 0));
        let mut ctx = Ctx {
            now: Instant::from_nanos(0),
            actions: &mut self.actions,
            prefix: "",
            config: &self.config,
            state: &state,
        };
        f(&mut self.rt, &mut ctx)
    }

    fn take(&mut self) -> Vec<Action> {
        self.actions.drain(..).collect()
    }

    fn ops(&mut self) -> Vec<Op> {
        self.take()
            .into_iter()
            .filter_map(|a| match a {
                Action::Ipvs(ops) => Some(ops),
                _ => None,
            })
            .flatten()
            .collect()
    }

    fn start(&mut self, table: Result<Table, String>) {
        self.with(|rt, ctx| rt.start(ctx, &[]));
        assert_eq!(self.take(), vec![Action::IpvsRead]);
        self.with(|rt, ctx| rt.table(ctx, table));
    }

    fn set(&mut self, vi: usize, ri: usize, st: RsState) {
        self.rs.borrow_mut().insert((vi, ri), st);
        self.rt.mark(vi);
        self.with(|rt, ctx| rt.flush(ctx));
    }
}

const VS: &str = "virtual_server 10.0.0.10 80 {\n lb_algo rr\n lb_kind DR\n protocol TCP\n \
    real_server 192.168.1.2 80 {\n weight 2\n }\n real_server 192.168.1.3 80 {\n weight 1\n }\n}\n";

fn skey(a: &str) -> ServiceKey {
    ServiceKey::Addr {
        proto: Proto::Tcp,
        addr: a.parse().unwrap(),
        port: 80,
    }
}

fn dkey(a: &str) -> DestKey {
    DestKey {
        addr: a.parse().unwrap(),
        port: 80,
    }
}

fn dr(weight: u32) -> DestAttrs {
    DestAttrs {
        forward: Forward::Direct,
        weight,
        u_threshold: 0,
        l_threshold: 0,
    }
}

fn rr() -> ServiceAttrs {
    ServiceAttrs {
        sched: "rr".into(),
        flags: 0,
        timeout: 0,
        netmask: u32::MAX,
        pe_name: None,
    }
}

#[test]
fn nothing_to_manage_reads_nothing() {
    let mut r = Rig::new("vrrp_instance V {\n interface eth0\n virtual_router_id 1\n priority 100\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n");
    r.with(|rt, ctx| rt.start(ctx, &[]));
    assert!(r.take().is_empty());
}

#[test]
fn start_up_installs_after_the_read_only() {
    let mut r = Rig::new(VS);
    r.with(|rt, ctx| rt.start(ctx, &[]));
    assert_eq!(r.take(), vec![Action::IpvsRead]);
    // A change before the answer: no operation yet.
    r.set(0, 1, (false, 1));
    assert!(r.take().is_empty());
    r.with(|rt, ctx| rt.table(ctx, Ok(Table::new())));
    let k = skey("10.0.0.10");
    assert_eq!(
        r.ops(),
        vec![
            Op::AddService(k, rr()),
            Op::AddDest(k, dkey("192.168.1.2"), dr(2)),
        ]
    );
    // A second answer is ignored.
    r.with(|rt, ctx| rt.table(ctx, Ok(Table::new())));
    assert!(r.take().is_empty());
}

#[test]
fn adoption_edits_in_place_and_leaves_foreign_services() {
    let mut r = Rig::new(VS);
    let k = skey("10.0.0.10");
    let foreign = skey("10.9.9.9");
    let mut wrong = rr();
    wrong.sched = "wlc".into();
    let found: Table = [
        (
            k,
            Service {
                attrs: wrong,
                dests: [(dkey("192.168.1.2"), dr(2)), (dkey("192.168.1.9"), dr(1))].into(),
            },
        ),
        (
            foreign,
            Service {
                attrs: rr(),
                dests: Default::default(),
            },
        ),
    ]
    .into();
    r.start(Ok(found));
    assert_eq!(
        r.ops(),
        vec![
            Op::DelDest(k, dkey("192.168.1.9")),
            Op::EditService(k, rr()),
            Op::AddDest(k, dkey("192.168.1.3"), dr(1)),
        ]
    );
    // The status shows the managed service only.
    let st = r.rt.status();
    assert_eq!(st.available, Some(Ok(())));
    assert_eq!(st.table.keys().copied().collect::<Vec<_>>(), vec![k]);
}

#[test]
fn lvs_flush_deletes_everything_first() {
    let mut r = Rig::new(&format!("global_defs {{\n lvs_flush\n}}\n{VS}"));
    let k = skey("10.0.0.10");
    let foreign = skey("10.9.9.9");
    let found: Table = [
        (
            foreign,
            Service {
                attrs: rr(),
                dests: Default::default(),
            },
        ),
        (
            k,
            Service {
                attrs: rr(),
                dests: [(dkey("192.168.1.2"), dr(2))].into(),
            },
        ),
    ]
    .into();
    r.start(Ok(found));
    let ops = r.ops();
    assert_eq!(ops[..2], [Op::DelService(k), Op::DelService(foreign)]);
    assert_eq!(ops[2], Op::AddService(k, rr()));
    assert_eq!(ops.len(), 5);
}

#[test]
fn unavailable_is_said_once_and_sends_nothing() {
    let mut r = Rig::new(VS);
    r.start(Err("no IPVS generic-netlink family".into()));
    assert!(r.take().is_empty());
    r.set(0, 0, (false, 2));
    assert!(r.take().is_empty());
    r.with(|rt, ctx| rt.shutdown(ctx));
    assert!(r.take().is_empty());
    assert_eq!(
        r.rt.status().available,
        Some(Err("no IPVS generic-netlink family".into()))
    );
}

#[test]
fn only_the_changed_virtual_server_is_diffed() {
    let two = format!("{VS}{}", VS.replace("10.0.0.10", "10.0.0.11"));
    let mut r = Rig::new(&two);
    r.start(Ok(Table::new()));
    assert_eq!(r.ops().len(), 6);
    r.set(1, 0, (true, 7));
    assert_eq!(
        r.ops(),
        vec![Op::EditDest(skey("10.0.0.11"), dkey("192.168.1.2"), dr(7))]
    );
    r.set(1, 0, (false, 7));
    assert_eq!(
        r.ops(),
        vec![Op::DelDest(skey("10.0.0.11"), dkey("192.168.1.2"))]
    );
}

#[test]
fn refused_operations_are_retried_at_the_next_change() {
    let mut r = Rig::new(VS);
    r.start(Ok(Table::new()));
    r.ops();
    let k = skey("10.0.0.10");
    // The kernel refused the second destination.
    let op = Op::AddDest(k, dkey("192.168.1.3"), dr(1));
    r.with(|rt, ctx| rt.failed(ctx, &op, "ENOMEM"));
    assert!(r.take().is_empty(), "no immediate retry");
    r.set(0, 0, (true, 4));
    assert_eq!(
        r.ops(),
        vec![
            Op::EditDest(k, dkey("192.168.1.2"), dr(4)),
            Op::AddDest(k, dkey("192.168.1.3"), dr(1)),
        ]
    );
    // A refused edit is edited again.
    let op = Op::EditDest(k, dkey("192.168.1.2"), dr(4));
    r.with(|rt, ctx| rt.failed(ctx, &op, "EINVAL"));
    r.set(0, 1, (true, 1));
    assert_eq!(r.ops(), vec![Op::EditDest(k, dkey("192.168.1.2"), dr(4))]);
    let op = Op::EditService(k, rr());
    r.with(|rt, ctx| rt.failed(ctx, &op, "EINVAL"));
    r.set(0, 1, (true, 1));
    assert_eq!(r.ops(), vec![Op::EditService(k, rr())]);
}

#[test]
fn stop_modes() {
    let k = skey("10.0.0.10");
    let each = vec![
        Op::DelDest(k, dkey("192.168.1.2")),
        Op::DelDest(k, dkey("192.168.1.3")),
        Op::DelService(k),
    ];
    for (global, keep, want) in [
        ("", false, each.clone()),
        ("", true, vec![]),
        (
            "global_defs {\n lvs_flush_on_stop VS\n}\n",
            false,
            vec![Op::DelService(k)],
        ),
        (
            "global_defs {\n lvs_flush_on_stop\n}\n",
            false,
            vec![Op::DelService(k)],
        ),
        ("global_defs {\n lvs_flush_on_stop\n}\n", true, vec![]),
    ] {
        let mut r = Rig::new(&format!("{global}{VS}"));
        r.rt.set_keep_on_stop(keep);
        r.start(Ok(Table::new()));
        r.ops();
        r.with(|rt, ctx| rt.shutdown(ctx));
        assert_eq!(r.ops(), want, "{global} keep={keep}");
        // Nothing after the stop.
        r.set(0, 0, (false, 2));
        assert!(r.take().is_empty());
    }
}

#[test]
fn quorum_with_sorry_server_and_scripts() {
    let text = VS.replace(
        " protocol TCP\n",
        " protocol TCP\n quorum 3\n hysteresis 1\n sorry_server 10.0.0.99 80\n \
         quorum_up \"/bin/up\"\n quorum_down \"/bin/down\"\n",
    );
    let mut r = Rig::new(&text);
    r.start(Ok(Table::new()));
    // 3 up: quorum (start-up evaluation from the up side: 3 + 1 >= 3).
    let k = skey("10.0.0.10");
    assert_eq!(r.ops().len(), 3);
    // 2 up: 2 + 1 >= 3 still met (hysteresis).
    r.set(0, 1, (false, 1));
    assert_eq!(r.ops(), vec![Op::DelDest(k, dkey("192.168.1.3"))]);
    // 1 up: lost; the sorry server replaces the live servers; quorum_down runs.
    r.set(0, 1, (true, 1));
    r.ops();
    r.set(0, 0, (false, 2));
    let acts = r.take();
    let scripts: Vec<_> = acts
        .iter()
        .filter_map(|a| match a {
            Action::RunScript { command, run, .. } => {
                assert!(run.is_none());
                Some(command.argv.join(" "))
            }
            _ => None,
        })
        .collect();
    assert_eq!(scripts, vec!["/bin/down"]);
    let ops: Vec<Op> = acts
        .into_iter()
        .filter_map(|a| match a {
            Action::Ipvs(o) => Some(o),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(
        ops,
        vec![
            Op::DelDest(k, dkey("192.168.1.2")),
            Op::DelDest(k, dkey("192.168.1.3")),
            Op::AddDest(k, dkey("10.0.0.99"), dr(1)),
        ]
    );
    assert_eq!(
        r.rt.status().quorum,
        vec![("[10.0.0.10]:tcp:80".into(), false)]
    );
    // Back to 3: 3 < 3 + 1, still lost (hysteresis); 4 needed.
    r.set(0, 0, (true, 2));
    assert!(r.ops().is_empty());
    r.set(0, 0, (true, 3));
    let acts = r.take();
    assert!(acts
        .iter()
        .any(|a| matches!(a, Action::RunScript { command, .. } if command.argv == ["/bin/up"])));
}

#[test]
fn alpha_starts_with_quorum_down_and_the_sorry_server() {
    let text = VS.replace(
        " protocol TCP\n",
        " protocol TCP\n quorum 2\n sorry_server 10.0.0.99 80\n",
    );
    let mut r = Rig::new(&text);
    r.rs.borrow_mut().values_mut().for_each(|s| s.0 = false);
    r.start(Ok(Table::new()));
    let k = skey("10.0.0.10");
    assert_eq!(
        r.ops(),
        vec![
            Op::AddService(k, rr()),
            Op::AddDest(k, dkey("10.0.0.99"), dr(1))
        ]
    );
    assert!(!r.rt.status().quorum[0].1);
}

#[test]
fn reload_touches_only_what_changed() {
    let mut r = Rig::new(VS);
    r.start(Ok(Table::new()));
    r.ops();
    let more = VS.replace(
        "}\n}\n",
        "}\n real_server 192.168.1.4 80 {\n weight 1\n }\n}\n",
    );
    r.config = cfg(&more);
    r.rs.borrow_mut().insert((0, 2), (true, 1));
    r.with(|rt, ctx| rt.reload(ctx, &[]));
    let k = skey("10.0.0.10");
    assert_eq!(r.ops(), vec![Op::AddDest(k, dkey("192.168.1.4"), dr(1))]);
    // Removing the virtual server deletes it.
    r.config = cfg("");
    r.with(|rt, ctx| rt.reload(ctx, &[]));
    assert_eq!(r.ops(), vec![Op::DelService(k)]);
}

#[test]
fn sync_daemon_follows_its_instance() {
    let text = "global_defs {\n lvs_sync_daemon eth0 VI_1\n}\n\
        vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 100\n \
        virtual_ipaddress {\n 10.0.0.10\n }\n}\n";
    let mut r = Rig::new(text);
    r.with(|rt, ctx| rt.start(ctx, &[State::Initialize]));
    assert_eq!(r.take(), vec![Action::IpvsRead]);
    r.with(|rt, ctx| rt.table(ctx, Ok(Table::new())));
    let d = |state| SyncDaemon {
        state,
        ifname: "eth0".into(),
        syncid: 51,
        maxlen: None,
        group: None,
        port: None,
        ttl: None,
    };
    use crate::ipvs::model::{SyncDaemon, SYNC_BACKUP, SYNC_MASTER};
    assert_eq!(
        r.take(),
        vec![Action::IpvsDaemon {
            start: true,
            daemon: d(SYNC_BACKUP)
        }]
    );
    r.with(|rt, ctx| rt.instance_state(ctx, 0, State::Master));
    assert_eq!(
        r.take(),
        vec![
            Action::IpvsDaemon {
                start: false,
                daemon: d(SYNC_BACKUP)
            },
            Action::IpvsDaemon {
                start: true,
                daemon: d(SYNC_MASTER)
            }
        ]
    );
    r.with(|rt, ctx| rt.shutdown(ctx));
    assert_eq!(
        r.take(),
        vec![Action::IpvsDaemon {
            start: false,
            daemon: d(SYNC_MASTER)
        }]
    );
}

#[test]
fn a_virtual_server_copied_without_its_real_servers_is_otherwise_equal() {
    let c = cfg(&VS.replace(
        " protocol TCP\n",
        " protocol TCP\n quorum 2\n sorry_server 10.0.0.99 80\n omega\n",
    ));
    let vs = &c.virtual_servers[0];
    let mut want = vs.clone();
    want.real_servers.clear();
    assert_eq!(vs.without_real_servers(), want);
}
