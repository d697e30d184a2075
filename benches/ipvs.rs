//! IPVS model and diff benchmarks: plain `main`, `std::time::Instant`, figures printed.
//! `cargo bench --bench ipvs`. Configurations are generated as text and loaded once
//! (not timed); timed are the desired-table computation and the diff, then the same
//! through the engine's IPVS runtime (`ipvs::runtime`: quorum, belief, actions).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // bench code reaches the OS

use keepalived_rs::config::{load_str, model::Config, LoadOptions};
use keepalived_rs::event::Action;
use keepalived_rs::ipvs::diff::{apply, diff};
use keepalived_rs::ipvs::model::{desired, RsState, Table};
use keepalived_rs::ipvs::runtime::{Ctx, Runtime};
use keepalived_rs::sched::Instant;
use keepalived_rs::sys::ipvs_codec::encode_op;
use std::collections::BTreeSet;
use std::collections::VecDeque;
use std::fmt::Write;
use std::hint::black_box;
use std::path::Path;
use std::time::Instant as Clock;

/// `services` virtual servers with `per` real servers each; `extra` adds one real server
/// to the last virtual server (the reload's one change).
fn config(services: usize, per: usize, extra: bool) -> Config {
    let mut t = String::new();
    for s in 0..services {
        let (a, b) = (s / 250, s % 250 + 1);
        writeln!(
            t,
            "virtual_server 10.{a}.0.{b} 80 {{\n lb_algo wrr\n lb_kind DR\n protocol TCP"
        )
        .unwrap();
        let n = if extra && s + 1 == services {
            per + 1
        } else {
            per
        };
        for r in 0..n {
            let (c, d) = (r / 250, r % 250 + 1);
            writeln!(
                t,
                " real_server 172.{}.{c}.{d} 80 {{\n  weight 2\n }}",
                16 + a
            )
            .unwrap();
        }
        t.push_str("}\n");
    }
    load_str(&t, Path::new("bench.conf"), &LoadOptions::default()).config
}

fn time<T>(name: &str, f: impl FnOnce() -> T) -> T {
    let start = Clock::now();
    let out = f();
    println!("{name:<60} {:>9.3} ms", start.elapsed().as_secs_f64() * 1e3);
    out
}

fn main() {
    let up = |_: usize, _: usize| (true, 2u32);
    let quorum = |_: usize| true;

    let c = config(1000, 10, false);
    let want = time("start-up 1 000 services / 10 000 dests: desired()", || {
        desired(&c, &up, &quorum)
    });
    let ops = time(
        "start-up 1 000 services / 10 000 dests: diff(empty)",
        || diff(&Table::new(), &want, &BTreeSet::new()),
    );
    println!("  {} operations", ops.len());
    let bytes = time("start-up: encode every operation (generic netlink)", || {
        ops.iter()
            .enumerate()
            .map(|(i, op)| encode_op(0x1a, i as u32, op).len())
            .sum::<usize>()
    });
    println!("  {bytes} bytes of netlink messages");
    let mut kernel = Table::new();
    time("start-up: apply the operations to a table", || {
        for op in &ops {
            apply(&mut kernel, op).expect("valid");
        }
    });
    assert_eq!(kernel, want);

    let old = config(370, 100, false);
    let new = config(370, 100, true);
    let current = desired(&old, &up, &quorum);
    let owned: BTreeSet<_> = current.keys().copied().collect();
    let want = time("reload 37 000 real servers (+1): desired()", || {
        desired(&new, &up, &quorum)
    });
    let ops = time("reload 37 000 real servers (+1): diff", || {
        diff(&current, &want, &owned)
    });
    println!(
        "  {} operation(s): {:?}",
        ops.len(),
        black_box(&ops).first()
    );
    runtime_path();
    engine_path();
}

/// Through the whole engine: `Event::Startup` (checkers armed, `IpvsRead`), then the
/// answer `Event::IpvsTable` (the start-up operations); then a reload adding one real
/// server to 37 000 (the checker runtime's reload included).
fn engine_path() {
    use keepalived_rs::engine::Engine;
    use keepalived_rs::event::Event;
    let count = |e: &mut Engine| {
        let mut n = 0;
        while let Some(a) = e.poll_action() {
            if let Action::Ipvs(o) = a {
                n += o.len();
            }
        }
        n
    };
    let now = Instant::from_nanos(0);
    let c = config(1000, 10, false);
    let mut e = Engine::new(&c);
    time(
        "engine: Startup, 1 000 / 10 000 (checkers armed, IpvsRead)",
        || e.handle(now, Event::Startup),
    );
    count(&mut e);
    time("engine: IpvsTable answer (start-up operations)", || {
        e.handle(now, Event::IpvsTable(Ok(Table::new())))
    });
    println!("  {} operations", count(&mut e));

    let old = config(370, 100, false);
    let new = config(370, 100, true);
    let mut e = Engine::new(&old);
    e.handle(now, Event::Startup);
    e.handle(now, Event::IpvsTable(Ok(Table::new())));
    count(&mut e);
    let boxed = Box::new(new);
    time(
        "engine: reload 37 000 real servers (+1), checkers included",
        || e.handle(now, Event::Reload(boxed)),
    );
    println!("  {} operation(s)", count(&mut e));
}

/// The operations `Action::Ipvs` carries in `actions`.
fn ops_in(actions: &VecDeque<Action>) -> usize {
    actions
        .iter()
        .map(|a| match a {
            Action::Ipvs(o) => o.len(),
            _ => 0,
        })
        .sum()
}

/// The same through the runtime the engine owns.
fn runtime_path() {
    let up = |_: usize, _: usize| -> RsState { (true, 2) };
    let now = Instant::from_nanos(0);
    let c = config(1000, 10, false);
    let mut actions = VecDeque::new();
    let mut rt = Runtime::new(&c);
    time(
        "runtime: start-up 1 000 / 10 000 (start + table answer)",
        || {
            let mut ctx = Ctx {
                now,
                actions: &mut actions,
                prefix: "",
                config: &c,
                state: &up,
            };
            rt.start(&mut ctx, &[]);
            rt.table(&mut ctx, Ok(Table::new()));
        },
    );
    println!("  {} operations", ops_in(&actions));
    actions.clear();
    let down = |v: usize, r: usize| -> RsState { (!(v == 500 && r == 3), 2) };
    time("runtime: one real server down (mark + flush)", || {
        let mut ctx = Ctx {
            now,
            actions: &mut actions,
            prefix: "",
            config: &c,
            state: &down,
        };
        rt.mark(500);
        rt.flush(&mut ctx);
    });
    println!("  {} operation(s)", ops_in(&actions));

    let old = config(370, 100, false);
    let new = config(370, 100, true);
    let mut rt = Runtime::new(&old);
    let mut actions = VecDeque::new();
    {
        let mut ctx = Ctx {
            now,
            actions: &mut actions,
            prefix: "",
            config: &old,
            state: &up,
        };
        rt.start(&mut ctx, &[]);
        rt.table(&mut ctx, Ok(Table::new()));
    }
    actions.clear();
    time("runtime: reload 37 000 real servers (+1)", || {
        let mut ctx = Ctx {
            now,
            actions: &mut actions,
            prefix: "",
            config: &new,
            state: &up,
        };
        rt.reload(&mut ctx, &[]);
    });
    println!("  {} operation(s)", ops_in(&actions));
}
