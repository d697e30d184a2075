//! The IPVS channel against a fake kernel (the family lookup, dumps in several parts,
//! acks matched by sequence number, refusals, silence, chunking) and against this host's
//! real kernel for the unavailable case.

use super::super::ipvs_codec::*;
use super::super::netlink::{messages, MsgBuilder, NLM_F_MULTI};
use super::*;
use crate::ipvs::diff::Op;
use crate::ipvs::model::{Af, DestAttrs, DestKey, Forward, Proto, ServiceAttrs, ServiceKey};
use std::collections::VecDeque;

const FAM: u16 = 0x1c;

/// A kernel that answers each request at once, as generic netlink does.
#[derive(Default)]
struct FakeKernel {
    /// No IPVS family (ENOENT at lookup).
    absent: bool,
    /// Answer nothing at all.
    mute: bool,
    /// Answer nothing from this (1-based) request on.
    mute_from: Option<usize>,
    table: Table,
    /// Refuse requests whose (1-based) number is here, with this errno.
    refuse: Vec<(usize, i32)>,
    requests: usize,
    queue: VecDeque<Vec<u8>>,
    /// The most datagrams ever waiting (the receive queue's depth).
    max_queue: usize,
    /// Entries per dump datagram.
    per_part: usize,
    /// Dumps in progress: remaining datagrams are produced as they are read.
    pending_dump: VecDeque<Vec<u8>>,
    waits: usize,
}

fn ack(seq: u32, errno: i32) -> Vec<u8> {
    let mut m = MsgBuilder::new(NLMSG_ERROR, 0, seq);
    m.push(&(-errno).to_ne_bytes());
    // The original header (capped ack).
    m.push(&[16, 0, 0, 0, 0, 0, 0, 0]);
    m.push(&seq.to_ne_bytes());
    m.push(&[0, 0, 0, 0]);
    m.finish()
}

fn done(seq: u32) -> Vec<u8> {
    let mut m = MsgBuilder::new(NLMSG_DONE, NLM_F_MULTI, seq);
    m.push(&0u32.to_ne_bytes());
    m.finish()
}

/// A dump reply message carrying one entry (the layout of a request's nest is the layout
/// of the kernel's reply).
fn entry_msg(seq: u32, e: &Entry) -> Vec<u8> {
    let mut v = match e {
        Entry::Service(k, a) => service_cmd(FAM, seq, IPVS_CMD_NEW_SERVICE, k, Some(a)),
        Entry::Dest(d, a) => {
            // Only the dest nest matters to the decoder; the service nest is skipped.
            let svc = ServiceKey::Fwmark {
                family: Af::Inet,
                mark: 1,
            };
            dest_cmd(FAM, seq, IPVS_CMD_NEW_DEST, &svc, d, Some(a))
        }
    };
    v[6..8].copy_from_slice(&NLM_F_MULTI.to_ne_bytes());
    v
}

impl FakeKernel {
    fn answer(&mut self, bytes: &[u8]) {
        self.requests += 1;
        if self.mute || self.mute_from.is_some_and(|n| self.requests >= n) {
            return;
        }
        let Some(Ok(m)) = messages(bytes).next() else {
            panic!("bad request");
        };
        if let Some((_, errno)) = self.refuse.iter().find(|(n, _)| *n == self.requests) {
            self.queue.push_back(ack(m.seq, *errno));
            return;
        }
        if m.msg_type == GENL_ID_CTRL {
            if self.absent {
                self.queue.push_back(ack(m.seq, libc::ENOENT));
            } else {
                let mut r = MsgBuilder::new(GENL_ID_CTRL, 0, m.seq);
                r.push(&[1, 2, 0, 0]);
                r.attr_str(CTRL_ATTR_FAMILY_NAME, "IPVS");
                r.attr(CTRL_ATTR_FAMILY_ID, &FAM.to_ne_bytes());
                self.queue.push_back(r.finish());
            }
            return;
        }
        assert_eq!(m.msg_type, FAM, "request sent to the looked-up family");
        let cmd = m.payload[0];
        let entries: Vec<Entry> = match cmd {
            IPVS_CMD_GET_SERVICE => self
                .table
                .iter()
                .map(|(k, s)| Entry::Service(*k, s.attrs.clone()))
                .collect(),
            IPVS_CMD_GET_DEST => {
                // The service asked for: the known key whose request is these bytes.
                let key = self
                    .table
                    .keys()
                    .find(|k| dump_dests(FAM, m.seq, k) == bytes)
                    .copied()
                    .expect("GET_DEST of a known service");
                self.table[&key]
                    .dests
                    .iter()
                    .map(|(d, a)| Entry::Dest(*d, *a))
                    .collect()
            }
            _ => {
                self.queue.push_back(ack(m.seq, 0));
                self.max_queue = self.max_queue.max(self.queue.len());
                return;
            }
        };
        let per = self.per_part.max(1);
        let mut parts: VecDeque<Vec<u8>> = entries
            .chunks(per)
            .map(|c| c.iter().flat_map(|e| entry_msg(m.seq, e)).collect())
            .collect();
        match parts.back_mut() {
            Some(last) => last.extend(done(m.seq)),
            None => parts.push_back(done(m.seq)),
        }
        if let Some(first) = parts.pop_front() {
            self.queue.push_back(first);
        }
        self.pending_dump = parts;
    }
}

impl Transport for &mut FakeKernel {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.answer(bytes);
        Ok(())
    }
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        let d = match self.queue.pop_front() {
            Some(d) => d,
            None => match self.pending_dump.pop_front() {
                Some(d) => d,
                None => return Ok(None),
            },
        };
        buf[..d.len()].copy_from_slice(&d);
        Ok(Some(d.len()))
    }
    fn wait(&mut self, limit: Duration) {
        self.waits += 1;
        std::thread::sleep(limit.min(Duration::from_millis(5)));
    }
}

fn svc(n: u8) -> ServiceKey {
    ServiceKey::Addr {
        proto: Proto::Tcp,
        addr: IpAddr::from([10, 0, 0, n]),
        port: 80,
    }
}

use std::net::IpAddr;

fn attrs() -> ServiceAttrs {
    ServiceAttrs {
        sched: "wrr".into(),
        flags: 0,
        timeout: 0,
        netmask: u32::MAX,
        pe_name: None,
    }
}

fn dest(n: u16) -> (DestKey, DestAttrs) {
    (
        DestKey {
            addr: IpAddr::from([192, 168, (n >> 8) as u8, n as u8]),
            port: 8080,
        },
        DestAttrs {
            forward: Forward::Masq,
            weight: u32::from(n % 5),
            u_threshold: 0,
            l_threshold: 0,
        },
    )
}

#[test]
fn absent_family_is_the_clear_reason() {
    let mut k = FakeKernel {
        absent: true,
        ..Default::default()
    };
    let err = Channel::connect(&mut k).err().expect("unavailable");
    assert_eq!(err, NO_IPVS);
}

#[test]
fn silent_kernel_costs_one_bounded_wait() {
    let mut k = FakeKernel {
        mute: true,
        ..Default::default()
    };
    let t = Instant::now();
    let err = Channel::connect(&mut k).err().expect("no answer");
    assert!(err.contains("did not answer"), "{err}");
    assert!(t.elapsed() < WAIT + Duration::from_millis(300));
    assert!(k.waits >= 1);
}

#[test]
fn reads_a_table_dumped_in_parts() {
    let mut k = FakeKernel {
        per_part: 3,
        ..Default::default()
    };
    for s in 1..=4u8 {
        let dests = (0..u16::from(s) * 4).map(dest).collect();
        k.table.insert(
            svc(s),
            Service {
                attrs: attrs(),
                dests,
            },
        );
    }
    // An IPv6 fwmark service without destinations.
    k.table.insert(
        ServiceKey::Fwmark {
            family: Af::Inet6,
            mark: 9,
        },
        Service {
            attrs: ServiceAttrs {
                netmask: 128,
                ..attrs()
            },
            dests: Default::default(),
        },
    );
    let want = k.table.clone();
    let mut ch = Channel::connect(&mut k).expect("family");
    assert_eq!(ch.family(), FAM);
    let got = ch.read_table().expect("table");
    assert_eq!(got, want);
    // One lookup, one service dump, one dest dump per service.
    assert_eq!(k.requests, 1 + 1 + 5);
}

#[test]
fn refused_ops_are_reported_and_the_rest_applied() {
    let mut k = FakeKernel::default();
    let ops: Vec<Op> = (1..=5u8).map(|n| Op::AddService(svc(n), attrs())).collect();
    // Request 1 is the lookup: refuse the 2nd and 4th operation.
    k.refuse = vec![(3, libc::EEXIST), (5, libc::ESRCH)];
    let mut ch = Channel::connect(&mut k).expect("family");
    let failed = ch.apply(&ops);
    assert_eq!(failed.len(), 2);
    assert_eq!(failed[0].0, ops[1]);
    assert!(failed[0].1.contains("exists"), "{}", failed[0].1);
    assert_eq!(failed[1].0, ops[3]);
    assert_eq!(k.requests, 6, "every operation was sent");
}

#[test]
fn large_batches_keep_the_receive_queue_short() {
    let mut k = FakeKernel::default();
    let ops: Vec<Op> = (0..3000u16)
        .map(|n| {
            let (d, a) = dest(n);
            Op::AddDest(svc(1), d, a)
        })
        .collect();
    let mut ch = Channel::connect(&mut k).expect("family");
    assert!(ch.apply(&ops).is_empty());
    assert_eq!(k.requests, 3001);
    assert!(k.max_queue <= 1, "acks drained as sent: {}", k.max_queue);
}

#[test]
fn unanswered_ops_fail_within_the_bound() {
    let mut k = FakeKernel {
        mute_from: Some(3),
        ..Default::default()
    };
    let ops: Vec<Op> = (1..=3u8).map(|n| Op::DelService(svc(n))).collect();
    let mut ch = Channel::connect(&mut k).expect("family");
    let t = Instant::now();
    let failed = ch.apply(&ops);
    // The first is acked; the two unanswered fail after one bounded wait.
    assert_eq!(failed.len(), 2);
    assert_eq!(failed[0].0, ops[1]);
    assert!(failed[0].1.contains("did not answer"), "{}", failed[0].1);
    assert!(t.elapsed() < WAIT * 2, "{:?}", t.elapsed());
}

#[test]
fn daemon_commands_are_acked() {
    let mut k = FakeKernel::default();
    let d = SyncDaemon {
        state: crate::ipvs::model::SYNC_MASTER,
        ifname: "eth0".into(),
        syncid: 3,
        maxlen: None,
        group: None,
        port: None,
        ttl: None,
    };
    let mut ch = Channel::connect(&mut k).expect("family");
    assert_eq!(ch.daemon(true, &d), Ok(()));
    // Requests so far: lookup, NEW_DAEMON; then the second lookup (3), DEL_DAEMON (4).
    k.refuse = vec![(4, libc::ESRCH)];
    let mut ch = Channel::connect(&mut k).expect("family");
    let err = ch.daemon(false, &d).expect_err("refused");
    assert!(err.contains("No such process"), "{err}");
}

#[test]
fn timeouts_are_acked_or_refused_with_the_reason() {
    let mut k = FakeKernel::default();
    let mut ch = Channel::connect(&mut k).expect("family");
    assert_eq!(ch.timeouts(Some(900), None, Some(300)), Ok(()));
    // Requests: lookup, SET_CONFIG; then the second lookup (3), SET_CONFIG (4) refused.
    k.refuse = vec![(4, libc::EINVAL)];
    let mut ch = Channel::connect(&mut k).expect("family");
    let err = ch.timeouts(None, Some(0), None).expect_err("refused");
    assert!(err.contains("Invalid argument"), "{err}");
    assert_eq!(timeouts_text(Some(900), None, Some(300)), "tcp 900 udp 300");
}

/// This host's kernel has no ip_vs: the real socket says so (or, unprivileged, that we
/// may not). Skipped only where no generic netlink socket can be opened at all.
#[test]
fn this_kernel_without_ip_vs() {
    if std::path::Path::new("/proc/net/ip_vs").exists() {
        return; // a kernel with IPVS: nothing to check here
    }
    let mut ipvs = Ipvs::default();
    let err = ipvs.read().expect_err("no IPVS here");
    assert!(
        err == NO_IPVS || err.contains("permission") || err.contains("generic netlink"),
        "{err}"
    );
    // Asked again: the same answer (the lookup is retried).
    assert_eq!(ipvs.read().expect_err("still none"), err);
    assert!(ipvs.logged);
}

#[test]
fn operations_are_described_in_ipvsadm_words() {
    let (d, a) = dest(2);
    assert_eq!(
        describe(&Op::AddDest(svc(1), d, a)),
        "add server 192.168.0.2:8080 to TCP  10.0.0.1:80"
    );
    assert_eq!(
        describe(&Op::DelService(ServiceKey::Fwmark {
            family: Af::Inet,
            mark: 4
        })),
        "delete service FWM  4"
    );
}

#[test]
fn answers_of_other_requests_are_set_aside() {
    // A datagram with an ack of seq 4, a dump entry of seq 5 and DONE of seq 5, then a
    // truncated message: only seq 5's messages are kept, nothing panics.
    let e = Entry::Service(svc(1), attrs());
    let mut data = ack(4, 0);
    data.extend(entry_msg(5, &e));
    data.extend(done(5));
    data.extend_from_slice(&[200, 0, 0, 0, 1, 2]);
    let mine = own_messages(&data, 5);
    let (entries, complete) = decode_dump(&mine).expect("decodes");
    assert_eq!(entries, vec![e]);
    assert!(complete);
    assert!(own_messages(&data, 9).is_empty());
    assert_eq!(first_error(&ack(3, libc::EPERM)), Some(libc::EPERM));
    assert_eq!(first_error(&ack(3, 0)), None);
}
