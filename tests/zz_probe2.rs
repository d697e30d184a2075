use keepalived_rs::config::{self, LoadOptions};
use std::path::Path;
use std::time::{Duration, Instant};
#[test]
fn gaps() {
    for f in ["vrrp10m", "lvs10m", "vrrp5m"] {
        let p = format!("/tmp/ch-25454/big/{f}.conf");
        let mut last = Instant::now();
        let start = last;
        let mut max = Duration::ZERO;
        let mut n = 0u64;
        let opts = LoadOptions {
            host_interfaces: Some(vec!["chk0".into(), "lo".into()]),
            ..Default::default()
        };
        let _l = config::load_with(Path::new(&p), &opts, &mut || {
            let now = Instant::now();
            max = max.max(now - last);
            last = now;
            n += 1;
        });
        let tail = last.elapsed();
        eprintln!(
            "{f}: calls {n} total {:?} max gap {:?} tail {:?}",
            start.elapsed(),
            max,
            tail
        );
    }
}
