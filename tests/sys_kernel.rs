//! Root-only tests of the Linux world's pieces without the engine, in scratch network
//! namespaces: the rtnetlink codec against the real kernel (addresses, routes, rules,
//! macvlan VMACs, dumps, monitor), VRRP raw sockets between two namespaces (IPv4 and IPv6,
//! TTL 255 delivered, no loopback of our own adverts), GARP and NA on the wire.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

mod sys_util;

use keepalived_rs::config::build::iproute::{route_from_words, rule_from_words};
use keepalived_rs::config::model::VirtualAddress;
use keepalived_rs::event::ReceivedPacket;
use keepalived_rs::sys::arp::{garp_frame, PacketSocket};
use keepalived_rs::sys::iftable::Interfaces;
use keepalived_rs::sys::ndisc::unsolicited_na_frame;
use keepalived_rs::sys::netlink_iproute::*;
use keepalived_rs::sys::netlink_route::*;
use keepalived_rs::sys::netlink_sock::{CmdOutput, DumpKind, NlCommand, NlMonitor, OnAck};
use keepalived_rs::sys::rawsock::{Recv, VrrpSocket, VRRP_GROUP_V4, VRRP_GROUP_V6};
use keepalived_rs::sys::rawsock_mmsg::{RxBuffers, TxAdvert, TX_BATCH};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;
use sys_util::*;

fn vip(s: &str, len: u8) -> VirtualAddress {
    VirtualAddress::new(s.parse().unwrap(), len, Default::default())
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

/// Dumps links and addresses through our own codec.
fn dump(nl: &mut NlCommand) -> Interfaces {
    let mut t = Interfaces::new();
    nl.dump(DumpKind::Links);
    nl.dump(DumpKind::Addrs);
    let mut outs = Vec::new();
    nl.run_until_idle(Duration::from_secs(5), &mut outs);
    for o in outs {
        if let CmdOutput::Dumped(_, m) = o {
            t.apply(m);
        }
    }
    t
}

fn settle(nl: &mut NlCommand) -> Vec<CmdOutput> {
    let mut outs = Vec::new();
    nl.run_until_idle(Duration::from_secs(5), &mut outs);
    outs
}

#[test]
fn netlink_addresses_routes_rules_and_vmac_against_the_kernel() {
    if !require_root("netlink_addresses_routes_rules_and_vmac_against_the_kernel") {
        return;
    }
    let a = Netns::new("a");
    let b = Netns::new("b");
    veth(&a, "eth0", &b, "eth0");
    a.must("ip addr add 10.77.0.1/24 dev eth0");
    let (ifaces, listing, routes, rules, links, monitor_saw, failed) = a.run(move || {
        let mut nl = NlCommand::open().unwrap();
        let mut mon = NlMonitor::open(RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR).unwrap();
        let t = dump(&mut nl);
        let idx = t.index_of("eth0").expect("eth0 in dump");
        let mut va = vip("10.77.0.100", 24);
        va.label = Some("eth0:vip".into());
        nl.request("add".into(), &[], OnAck::Nothing, |s| addr_request(true, idx, &va, s).unwrap());
        nl.request("add6".into(), &[], OnAck::Nothing, |s| {
            addr_request(true, idx, &vip("2001:db8::100", 64), s).unwrap()
        });
        let r = route_from_words(&words("10.99.0.0/16 via 10.77.0.2 dev eth0 table 100 metric 7")).unwrap();
        let lookup = |n: &str| (n == "eth0").then_some(idx);
        nl.request("route".into(), &[], OnAck::Nothing, |s| route_request(true, &r, &lookup, s).unwrap());
        let bh = route_from_words(&words("blackhole 192.0.2.0/24")).unwrap();
        nl.request("bh".into(), &[], OnAck::Nothing, |s| route_request(true, &bh, &lookup, s).unwrap());
        let ru = rule_from_words(&words("from 10.77.0.0/24 table 100 priority 1234")).unwrap();
        nl.request("rule".into(), &[], OnAck::Nothing, |s| rule_request(true, &ru, s));
        nl.request("vmac".into(), &[], OnAck::Nothing, |s| {
            new_macvlan_request("vrrp.42", idx, &[0, 0, 0x5e, 0, 1, 42], s)
        });
        nl.request("gen".into(), &[], OnAck::Nothing, |s| addr_gen_none_request("vrrp.42", s));
        nl.request("up".into(), &[], OnAck::VmacCreated("vrrp.42".into()), |s| {
            set_link_up_request("vrrp.42", true, s)
        });
        // A request the kernel refuses: reported, not fatal, the rest still ran.
        nl.request("bad".into(), &[], OnAck::Nothing, |s| {
            addr_request(false, idx, &vip("10.1.2.3", 32), s).unwrap()
        });
        let outs = settle(&mut nl);
        let failed: Vec<String> = outs
            .iter()
            .filter_map(|o| match o {
                CmdOutput::Failed { what, .. } => Some(what.clone()),
                _ => None,
            })
            .collect();
        let listing = std::process::Command::new("ip").args(["addr", "show", "dev", "eth0"]).output().unwrap();
        let routes = std::process::Command::new("sh").args(["-c", "ip route show table 100; ip route show type blackhole"]).output().unwrap();
        let rules = std::process::Command::new("ip").args(["rule", "show"]).output().unwrap();
        let links = std::process::Command::new("sh").args(["-c", "ip -d link show vrrp.42 2>&1; ip link"]).output().unwrap();
        // The monitor saw the address and the new link.
        let mut msgs = Vec::new();
        std::thread::sleep(Duration::from_millis(50));
        mon.on_readable(&mut msgs);
        let saw = msgs.iter().any(|m| matches!(m, RtMessage::NewAddr(a) if a.addr == "10.77.0.100".parse::<IpAddr>().unwrap()))
            && msgs.iter().any(|m| matches!(m, RtMessage::NewLink(l) if l.name == "vrrp.42"));
        let t = dump(&mut nl);
        (
            t,
            String::from_utf8_lossy(&listing.stdout).to_string(),
            String::from_utf8_lossy(&routes.stdout).to_string(),
            String::from_utf8_lossy(&rules.stdout).to_string(),
            String::from_utf8_lossy(&links.stdout).to_string(),
            saw,
            failed,
        )
    });
    assert!(listing.contains("10.77.0.100/24"), "{listing}");
    assert!(listing.contains("eth0:vip"), "{listing}");
    assert!(listing.contains("2001:db8::100/64"), "{listing}");
    assert!(
        routes.contains("10.99.0.0/16 via 10.77.0.2 dev eth0"),
        "{routes}"
    );
    assert!(routes.contains("metric 7"), "{routes}");
    assert!(routes.contains("blackhole 192.0.2.0/24"), "{routes}");
    assert!(
        rules.contains("1234:\tfrom 10.77.0.0/24 lookup 100"),
        "{rules}"
    );
    assert!(links.contains("macvlan mode private"), "{links}");
    assert!(links.contains("00:00:5e:00:01:2a"), "{links}");
    assert!(links.contains("addrgenmode none"), "{links}");
    assert!(links.contains(",UP"), "{links}");
    assert!(monitor_saw, "monitor did not report the changes");
    assert_eq!(failed, vec!["bad".to_string()]);
    // Our own dump sees the VIP and the VMAC (with its parent).
    assert!(ifaces.has_address("eth0", &"10.77.0.100".parse().unwrap()));
    let v = ifaces.by_name("vrrp.42").expect("vmac in dump");
    assert_eq!(v.link.kind.as_deref(), Some("macvlan"));
    assert_eq!(v.link.parent, ifaces.index_of("eth0"));
    let states = ifaces.states();
    assert_eq!(states["eth0"].ipv4[0], Ipv4Addr::new(10, 77, 0, 1));

    // And deletion through the codec removes all of it.
    a.run(move || {
        let mut nl = NlCommand::open().unwrap();
        let t = dump(&mut nl);
        let idx = t.index_of("eth0").unwrap();
        let va = vip("10.77.0.100", 24);
        nl.request("del".into(), &[], OnAck::Nothing, |s| {
            addr_request(false, idx, &va, s).unwrap()
        });
        let r = route_from_words(&words(
            "10.99.0.0/16 via 10.77.0.2 dev eth0 table 100 metric 7",
        ))
        .unwrap();
        let lookup = |n: &str| (n == "eth0").then_some(idx);
        nl.request("delroute".into(), &[], OnAck::Nothing, |s| {
            route_request(false, &r, &lookup, s).unwrap()
        });
        let ru = rule_from_words(&words("from 10.77.0.0/24 table 100 priority 1234")).unwrap();
        nl.request("delrule".into(), &[], OnAck::Nothing, |s| {
            rule_request(false, &ru, s)
        });
        nl.request("dellink".into(), &[], OnAck::Nothing, |s| {
            del_link_request("vrrp.42", s)
        });
        let outs = settle(&mut nl);
        assert!(
            !outs.iter().any(|o| matches!(o, CmdOutput::Failed { .. })),
            "{outs:?}"
        );
    });
    let out = a.must("ip addr; ip route show table 100; ip rule; ip link");
    assert!(!out.contains("10.77.0.100"), "{out}");
    assert!(!out.contains("10.99.0.0"), "{out}");
    assert!(!out.contains("1234:"), "{out}");
    assert!(!out.contains("vrrp.42"), "{out}");
}

fn recv_within(sock: &VrrpSocket, limit: Duration) -> Option<ReceivedPacket> {
    let mut buf = vec![0u8; 65536];
    let mut got = None;
    wait_for(limit, || match sock.recv(&mut buf) {
        Ok(Recv::Packet(p)) => {
            got = Some(p);
            true
        }
        _ => false,
    });
    got
}

#[test]
fn vrrp_packets_cross_between_namespaces_with_ttl_255() {
    if !require_root("vrrp_packets_cross_between_namespaces_with_ttl_255") {
        return;
    }
    let a = Netns::new("a");
    let b = Netns::new("b");
    veth(&a, "eth0", &b, "eth0");
    a.must("ip addr add 10.78.0.1/24 dev eth0");
    b.must("ip addr add 10.78.0.2/24 dev eth0");
    let idx = |n: &Netns| -> u32 {
        n.must("cat /sys/class/net/eth0/ifindex")
            .trim()
            .parse()
            .unwrap()
    };
    let (ia, ib) = (idx(&a), idx(&b));
    // Wait for the link-local addresses.
    assert!(wait_for(Duration::from_secs(5), || a
        .must("ip -6 addr show dev eth0 scope link")
        .contains("fe80")));
    assert!(wait_for(Duration::from_secs(5), || b
        .must("ip -6 addr show dev eth0 scope link")
        .contains("fe80")));
    let ll_a: Ipv6Addr = a
        .must("ip -6 -o addr show dev eth0 scope link")
        .split_whitespace()
        .find(|w| w.starts_with("fe80"))
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();

    // Receivers in B (v4 and v6), bound and joined.
    let (rx4, rx6) = b.run(move || {
        let r4 = VrrpSocket::open("eth0", ib, false).unwrap();
        r4.join(IpAddr::V4(VRRP_GROUP_V4)).unwrap();
        let r6 = VrrpSocket::open("eth0", ib, true).unwrap();
        r6.join(IpAddr::V6(VRRP_GROUP_V6)).unwrap();
        (r4, r6)
    });
    let payload4 = vec![0x31, 42, 100, 1, 0, 100, 0, 0, 10, 78, 0, 100];
    let payload6 = {
        let mut p = vec![0x31, 42, 100, 1, 0, 100, 0, 0];
        p.extend_from_slice(&ll_a.octets());
        p
    };
    let (p4, p6) = (payload4.clone(), payload6.clone());
    let own_rx = a.run(move || {
        let s4 = VrrpSocket::open("eth0", ia, false).unwrap();
        // A receiver on the sender's own side must not see our own multicast.
        s4.join(IpAddr::V4(VRRP_GROUP_V4)).unwrap();
        s4.send(
            "10.78.0.1".parse().unwrap(),
            IpAddr::V4(VRRP_GROUP_V4),
            255,
            &p4,
        )
        .unwrap();
        let s6 = VrrpSocket::open("eth0", ia, true).unwrap();
        s6.send(IpAddr::V6(ll_a), IpAddr::V6(VRRP_GROUP_V6), 255, &p6)
            .unwrap();
        // Unicast too, with a `unicast_ttl` of 64.
        s4.send(
            "10.78.0.1".parse().unwrap(),
            "10.78.0.2".parse().unwrap(),
            64,
            &p4,
        )
        .unwrap();
        s4
    });
    let got4 = recv_within(&rx4, Duration::from_secs(2)).expect("IPv4 advert received");
    assert_eq!(got4.ttl, 255);
    assert_eq!(got4.src, "10.78.0.1".parse::<IpAddr>().unwrap());
    assert_eq!(got4.dst, IpAddr::V4(VRRP_GROUP_V4));
    assert_eq!(got4.payload, payload4);
    assert_eq!(got4.ifname, "eth0");
    let uni = recv_within(&rx4, Duration::from_secs(2)).expect("unicast advert received");
    assert_eq!(uni.dst, "10.78.0.2".parse::<IpAddr>().unwrap());
    assert_eq!(uni.ttl, 64);
    let got6 = recv_within(&rx6, Duration::from_secs(2)).expect("IPv6 advert received");
    assert_eq!(got6.ttl, 255);
    assert_eq!(got6.src, IpAddr::V6(ll_a));
    assert_eq!(got6.dst, IpAddr::V6(VRRP_GROUP_V6));
    assert_eq!(got6.payload, payload6);
    assert!(
        recv_within(&own_rx, Duration::from_millis(200)).is_none(),
        "own advert looped back"
    );
}

/// sendmmsg / recvmmsg: more adverts than one batch, IPv4 and IPv6, arrive whole, in
/// order, with their TTL; a wrong-family advert is reported and skipped, the rest go.
#[test]
fn batched_adverts_cross_between_namespaces_in_order() {
    if !require_root("batched_adverts_cross_between_namespaces_in_order") {
        return;
    }
    let a = Netns::new("a");
    let b = Netns::new("b");
    veth(&a, "eth0", &b, "eth0");
    a.must("ip addr add 10.79.0.1/24 dev eth0");
    b.must("ip addr add 10.79.0.2/24 dev eth0");
    let idx = |n: &Netns| -> u32 {
        n.must("cat /sys/class/net/eth0/ifindex")
            .trim()
            .parse()
            .unwrap()
    };
    let (ia, ib) = (idx(&a), idx(&b));
    for n in [&a, &b] {
        assert!(wait_for(Duration::from_secs(5), || n
            .must("ip -6 addr show dev eth0 scope link")
            .contains("fe80")));
    }
    let ll_a: Ipv6Addr = a
        .must("ip -6 -o addr show dev eth0 scope link")
        .split_whitespace()
        .find(|w| w.starts_with("fe80"))
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let (rx4, rx6) = b.run(move || {
        let r4 = VrrpSocket::open("eth0", ib, false).unwrap();
        r4.join(IpAddr::V4(VRRP_GROUP_V4)).unwrap();
        let r6 = VrrpSocket::open("eth0", ib, true).unwrap();
        r6.join(IpAddr::V6(VRRP_GROUP_V6)).unwrap();
        (r4, r6)
    });
    let n = TX_BATCH * 2 + 7;
    let advert = |i: usize, src: IpAddr, dst: IpAddr, ttl: u8| TxAdvert {
        instance: format!("VI_{i}"),
        src,
        dst,
        ttl,
        payload: vec![
            0x31,
            (i % 255) as u8 + 1,
            100,
            1,
            0,
            100,
            (i >> 8) as u8,
            i as u8,
        ],
    };
    let src4: IpAddr = "10.79.0.1".parse().unwrap();
    let mut v4: Vec<TxAdvert> = (0..n)
        .map(|i| advert(i, src4, IpAddr::V4(VRRP_GROUP_V4), 255))
        .collect();
    // The wrong family: reported, and the batch goes on.
    v4.insert(
        5,
        advert(9999, IpAddr::V6(ll_a), IpAddr::V6(VRRP_GROUP_V6), 255),
    );
    let v6: Vec<TxAdvert> = (0..n)
        .map(|i| advert(i, IpAddr::V6(ll_a), IpAddr::V6(VRRP_GROUP_V6), 255))
        .collect();
    let (sent4, failed4, sent6) = a.run(move || {
        let s4 = VrrpSocket::open("eth0", ia, false).unwrap();
        let s6 = VrrpSocket::open("eth0", ia, true).unwrap();
        let mut failed = Vec::new();
        let sent4 = s4.send_batch(&v4, |m, e| failed.push((m.instance.clone(), e.kind())));
        let sent6 = s6.send_batch(&v6, |m, e| panic!("{}: {e}", m.instance));
        (sent4, failed, sent6)
    });
    assert_eq!(sent4, n);
    assert_eq!(sent6, n);
    assert_eq!(
        failed4,
        vec![("VI_9999".to_string(), std::io::ErrorKind::InvalidInput)]
    );
    for (sock, v6) in [(&rx4, false), (&rx6, true)] {
        let mut rx = RxBuffers::default();
        let mut got = Vec::new();
        wait_for(Duration::from_secs(3), || {
            sock.recv_batch(&mut rx, |r| match r {
                Recv::Packet(p) => got.push(p),
                other => panic!("{other:?}"),
            })
            .unwrap();
            got.len() >= n
        });
        assert_eq!(got.len(), n, "v6 {v6}");
        for (i, p) in got.iter().enumerate() {
            assert_eq!(p.ttl, 255);
            assert_eq!(p.ifname, "eth0");
            assert_eq!(p.src.is_ipv6(), v6);
            assert_eq!(p.payload[6..8], [(i >> 8) as u8, i as u8], "order, v6 {v6}");
        }
    }
}

#[test]
fn garp_and_na_frames_reach_the_wire() {
    if !require_root("garp_and_na_frames_reach_the_wire") {
        return;
    }
    let a = Netns::new("a");
    let b = Netns::new("b");
    veth(&a, "eth0", &b, "eth0");
    let ia: u32 = a
        .must("cat /sys/class/net/eth0/ifindex")
        .trim()
        .parse()
        .unwrap();
    // Capture in B with a packet socket for every protocol.
    let rx = b.run(|| {
        // SAFETY: test-only raw socket.
        let fd = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK,
                (libc::ETH_P_ALL as u16).to_be() as i32,
            )
        };
        assert!(fd >= 0);
        fd
    });
    let mac = [0, 0, 0x5e, 0, 1, 42];
    a.run(move || {
        let p = PacketSocket::open().unwrap();
        p.send_frame(ia, &garp_frame(Ipv4Addr::new(10, 79, 0, 100), &mac))
            .unwrap();
        p.send_frame(
            ia,
            &unsolicited_na_frame(
                "fe80::1".parse().unwrap(),
                "2001:db8::100".parse().unwrap(),
                &mac,
            ),
        )
        .unwrap();
    });
    let mut frames = Vec::new();
    let mut buf = [0u8; 2048];
    wait_for(Duration::from_secs(2), || {
        // SAFETY: reading into our buffer.
        let n = unsafe { libc::recv(rx, buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n > 0 {
            frames.push(buf[..n as usize].to_vec());
        }
        frames.iter().any(|f| f[12..14] == [0x08, 0x06])
            && frames
                .iter()
                .any(|f| f[12..14] == [0x86, 0xdd] && f.get(54) == Some(&136))
    });
    unsafe { libc::close(rx) };
    let arp = frames
        .iter()
        .find(|f| f[12..14] == [0x08, 0x06])
        .expect("GARP on the wire");
    assert_eq!(&arp[0..6], &[0xff; 6]);
    assert_eq!(&arp[6..12], &mac);
    assert_eq!(&arp[28..32], &[10, 79, 0, 100]);
    assert_eq!(&arp[38..42], &[10, 79, 0, 100]);
    let na = frames
        .iter()
        .find(|f| f[12..14] == [0x86, 0xdd] && f.get(54) == Some(&136))
        .expect("NA on the wire");
    assert_eq!(&na[0..6], &[0x33, 0x33, 0, 0, 0, 1]);
    assert_eq!(na[21], 255, "hop limit");
}

#[test]
fn large_batches_are_paced_and_monitor_overrun_is_reported() {
    if !require_root("large_batches_are_paced_and_monitor_overrun_is_reported") {
        return;
    }
    let a = Netns::new("a");
    let b = Netns::new("b");
    veth(&a, "eth0", &b, "eth0");
    let (acked, failed, seen, overrun) = a.run(|| {
        let mut nl = NlCommand::open().unwrap();
        // A monitor with a tiny buffer that nobody reads while 3000 addresses arrive.
        let mut mon = NlMonitor::open_with_buffer(RTMGRP_IPV4_IFADDR, 1).unwrap();
        let t = dump(&mut nl);
        let idx = t.index_of("eth0").unwrap();
        for i in 0..3000u32 {
            let va = vip(
                &format!("10.{}.{}.{}", 100 + i / 65536, (i / 256) % 256, i % 256),
                32,
            );
            nl.request(format!("add {i}"), &[], OnAck::Nothing, |s| {
                addr_request(true, idx, &va, s).unwrap()
            });
        }
        let outs = settle(&mut nl);
        let acked = outs
            .iter()
            .filter(|o| matches!(o, CmdOutput::Acked(_)))
            .count();
        let failed = outs
            .iter()
            .filter(|o| matches!(o, CmdOutput::Failed { .. }))
            .count();
        let t = dump(&mut nl);
        let seen = t.by_name("eth0").map(|i| i.addrs.len()).unwrap_or(0);
        let mut msgs = Vec::new();
        let overrun = mon.on_readable(&mut msgs);
        (acked, failed, seen, overrun)
    });
    assert_eq!((acked, failed), (3000, 0), "every request acknowledged");
    assert!(seen >= 3000, "dump shows {seen} addresses");
    assert!(
        overrun,
        "the monitor should report the overrun (ENOBUFS) for a re-dump"
    );
}

/// Runs the firewall's channel until the kernel answered everything; returns whether every
/// batch was applied.
fn fw_settle(fw: &mut keepalived_rs::sys::nftables_fw::Firewall) -> bool {
    let mut done = Vec::new();
    if let Some(c) = fw.chan.as_mut() {
        c.run_until_idle(Duration::from_secs(5), &mut done);
    }
    let ok = done.iter().all(|d| d.ok);
    for d in done {
        fw.on_done(d);
    }
    ok
}

#[test]
fn nftables_table_as_keepalived_lays_it_out() {
    use keepalived_rs::sys::nftables::NfFamily;
    use keepalived_rs::sys::nftables_fw::{BlockKey, Firewall, FwSettings};
    use keepalived_rs::sys::nftables_sock::NftChannel;
    if !require_root("nftables_table_as_keepalived_lays_it_out") {
        return;
    }
    ensure_installed("/usr/sbin/nft", "nftables");
    let a = Netns::new("nf");
    let b = Netns::new("nf");
    veth(&a, "eth0", &b, "eth0");
    // A leftover of a killed run, with a stale element and an extra rule.
    a.must("nft add table ip keepalived && nft add set ip keepalived vips \"{ type ipv4_addr; }\" && nft add element ip keepalived vips \"{ 10.9.9.9 }\" && nft add chain ip keepalived in \"{ type filter hook input priority -1; }\" && nft add rule ip keepalived in ip daddr @vips drop");
    let idx: u32 = a
        .must("cat /sys/class/net/eth0/ifindex")
        .trim()
        .parse()
        .unwrap();
    let (after_block, after_unblock, applied) = {
        a.run(move || {
            let mut fw = Firewall::new();
            fw.settings = FwSettings {
                counters: true,
                ..FwSettings::default()
            };
            fw.chan = Some(NftChannel::open().unwrap());
            fw.remove_leftovers();
            let mut ok = fw_settle(&mut fw);
            let gone = std::process::Command::new("nft")
                .args(["list", "tables"])
                .output()
                .unwrap();
            assert!(
                String::from_utf8_lossy(&gone.stdout).trim().is_empty(),
                "leftover not removed"
            );
            fw.block("VI_1", BlockKey::V4("10.77.0.100".parse().unwrap()), 0);
            fw.block("VI_1", BlockKey::V4("10.77.0.101".parse().unwrap()), 0);
            fw.block("VI_6", BlockKey::V6("2001:db8::100".parse().unwrap()), 0);
            fw.block(
                "VI_6",
                BlockKey::LinkLocal("fe80::100".parse().unwrap(), "eth0".into()),
                idx,
            );
            ok &= fw_settle(&mut fw);
            ok &= fw.created(NfFamily::Ipv4) && fw.created(NfFamily::Ipv6);
            let list = || {
                let o = std::process::Command::new("nft")
                    .args(["list", "ruleset"])
                    .output()
                    .unwrap();
                String::from_utf8_lossy(&o.stdout).to_string()
            };
            let after_block = list();
            fw.unblock("VI_1", &BlockKey::V4("10.77.0.101".parse().unwrap()));
            fw.unblock(
                "VI_6",
                &BlockKey::LinkLocal("fe80::100".parse().unwrap(), "eth0".into()),
            );
            ok &= fw_settle(&mut fw);
            let after_unblock = list();
            fw.release();
            ok &= fw_settle(&mut fw);
            (after_block, after_unblock, ok)
        })
    };
    assert!(applied, "a batch was refused:\n{after_block}");
    for needle in [
        "table ip keepalived {",
        "type ipv4_addr",
        "elements = { 10.77.0.100, 10.77.0.101 }",
        "type filter hook input priority filter - 1; policy accept;",
        "type filter hook output priority filter - 1; policy accept;",
        "ip daddr @vips counter packets 0 bytes 0 drop",
        "ip saddr @vips counter packets 0 bytes 0 drop",
        "table ip6 keepalived {",
        "elements = { 2001:db8::100 }",
        "type icmpv6_type",
        "flags constant",
        "type ipv6_addr . iface_index",
        "elements = { fe80::100 . \"eth0\" }",
        "icmpv6 type @neighbor-discovery counter packets 0 bytes 0 accept",
        "ip6 daddr fe80::/10 goto in_link_local",
        "ip6 saddr fe80::/10 goto out_link_local",
        "ip6 daddr @vips counter packets 0 bytes 0 drop",
        "ip6 daddr . iif @vips_link_local counter packets 0 bytes 0 drop",
        "ip6 saddr . oif @vips_link_local counter packets 0 bytes 0 drop",
    ] {
        assert!(
            after_block.contains(needle),
            "missing {needle:?} in\n{after_block}"
        );
    }
    assert!(
        !after_block.contains("10.9.9.9"),
        "stale leftover element:\n{after_block}"
    );
    assert_eq!(
        after_block.matches("ip daddr @vips").count(),
        1,
        "{after_block}"
    );
    assert!(
        after_unblock.contains("elements = { 10.77.0.100 }"),
        "{after_unblock}"
    );
    assert!(!after_unblock.contains("fe80::100"), "{after_unblock}");
    assert!(
        a.must("nft list tables").trim().is_empty(),
        "tables left after release"
    );
}

/// Two namespaces set up alike: eth0 (10.77.0.1/24, 2001:db8:77::1/64) and eth1
/// (10.78.0.1/24), a veth pair inside each.
fn route_lab(tag: &str) -> Netns {
    let ns = Netns::new(tag);
    ns.must(
        "ip link add eth0 type veth peer name eth1 && ip link set eth0 up && ip link set eth1 up \
         && ip addr add 10.77.0.1/24 dev eth0 && ip addr add 2001:db8:77::1/64 dev eth0 nodad \
         && ip addr add 10.78.0.1/24 dev eth1",
    );
    ns
}

/// What the kernel holds of the routes and rules with protocol keepalived, one line each.
fn keepalived_routes(ns: &Netns) -> Vec<String> {
    let out = ns.must(
        "ip -o -4 -d route show table all proto keepalived; ip -o -6 -d route show table all proto keepalived; \
         ip rule show | grep keepalived; ip -6 rule show | grep keepalived",
    );
    let mut v: Vec<String> = out
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect();
    v.sort();
    v
}

/// Each configuration line, encoded by our codec, gives the kernel the same route or rule
/// as `ip route add` / `ip rule add` of the equivalent iproute2 line.
#[test]
fn route_and_rule_encoding_matches_iproute2() {
    if !require_root("route_and_rule_encoding_matches_iproute2") {
        return;
    }
    let routes: &[(&str, &str)] = &[
        ("10.9.0.0/16 via 10.77.0.254 dev eth0 metric 5 table 100", "10.9.0.0/16 via 10.77.0.254 dev eth0 metric 5 table 100"),
        ("10.10.0.0/16 no_track nexthop via 10.77.0.254 dev eth0 weight 2 nexthop via 10.78.0.254 dev eth1",
         "10.10.0.0/16 nexthop via 10.77.0.254 dev eth0 weight 2 nexthop via 10.78.0.254 dev eth1"),
        ("10.11.0.0/16 via 10.77.0.254 dev eth0 or 10.77.0.253",
         "10.11.0.0/16 nexthop via 10.77.0.254 dev eth0 nexthop via 10.77.0.253 dev eth0"),
        ("10.12.0.0/16 dev eth0 src 10.77.0.1 scope link mtu lock 1400 advmss 1300 rtt 10ms rttvar 5ms \
          initcwnd 10 hoplimit 5 features ecn congctl lock cubic realms 5/6 quickack 1",
         "10.12.0.0/16 dev eth0 src 10.77.0.1 scope link mtu lock 1400 advmss 1300 rtt 10ms rttvar 5ms \
          initcwnd 10 hoplimit 5 features ecn congctl lock cubic realms 5/6 quickack 1"),
        ("10.13.0.0/16 via 10.99.0.1 dev eth0 onlink", "10.13.0.0/16 via 10.99.0.1 dev eth0 onlink"),
        ("blackhole 10.14.0.0/16 no_track", "blackhole 10.14.0.0/16"),
        ("unreachable 10.15.0.0/16 no_track", "unreachable 10.15.0.0/16"),
        ("prohibit 10.16.0.0/16 no_track table 100", "prohibit 10.16.0.0/16 table 100"),
        ("throw 10.17.0.0/16 no_track table 100", "throw 10.17.0.0/16 table 100"),
        ("default via 10.77.0.254 dev eth0 table 101", "default via 10.77.0.254 dev eth0 table 101"),
        ("10.18.0.0/16 dev eth0 tos 0x10", "10.18.0.0/16 dev eth0 tos 0x10"),
        ("2001:db8:9::/48 via 2001:db8:77::254 dev eth0 pref high metric 7",
         "2001:db8:9::/48 via 2001:db8:77::254 dev eth0 pref high metric 7"),
        ("default6 via inet6 2001:db8:77::254 dev eth0 table 102",
         "default via 2001:db8:77::254 dev eth0 table 102"),
        ("2001:db8:a::/48 no_track nexthop via 2001:db8:77::254 dev eth0 nexthop via 2001:db8:77::253 dev eth0 weight 3",
         "2001:db8:a::/48 nexthop via 2001:db8:77::254 dev eth0 nexthop via 2001:db8:77::253 dev eth0 weight 3"),
    ];
    let rules: &[(&str, &str)] = &[
        ("from 10.77.0.0/24 table 100 priority 200", "from 10.77.0.0/24 table 100 priority 200"),
        ("not from 10.78.0.0/24 to 10.9.0.0/16 iif eth0 fwmark 0x5/0xff tos 0x10 table 100 priority 201",
         "not from 10.78.0.0/24 to 10.9.0.0/16 iif eth0 fwmark 0x5/0xff tos 0x10 table 100 priority 201"),
        ("oif eth1 uidrange 100-200 ipproto tcp sport 80-90 dport 100-200 table 101 priority 202",
         "oif eth1 uidrange 100-200 ipproto tcp sport 80-90 dport 100-200 table 101 priority 202"),
        ("from all goto 300 priority 203", "from all goto 300 priority 203"),
        ("from all suppress_prefixlength 0 table main priority 204", "from all suppress_prefixlength 0 table main priority 204"),
        ("from 10.79.0.0/24 blackhole priority 205", "from 10.79.0.0/24 blackhole priority 205"),
        ("from 10.79.1.0/24 prohibit priority 206", "from 10.79.1.0/24 prohibit priority 206"),
        ("from 10.79.2.0/24 nop priority 207", "from 10.79.2.0/24 nop priority 207"),
        ("from 10.79.3.0/24 realms 3/4 table 100", "from 10.79.3.0/24 realms 3/4 table 100 priority 16384"),
        ("from 2001:db8:77::/64 table 100 priority 208", "from 2001:db8:77::/64 table 100 priority 208"),
    ];
    let ours = route_lab("re");
    let theirs = route_lab("re");
    let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    let parsed_routes: Vec<_> = routes
        .iter()
        .map(|(k, _)| route_from_words(&words(k)).unwrap_or_else(|e| panic!("{k}: {e}")))
        .collect();
    let parsed_rules: Vec<_> = rules
        .iter()
        .map(|(k, _)| rule_from_words(&words(k)).unwrap_or_else(|e| panic!("{k}: {e}")))
        .collect();
    let failed = ours.run(move || {
        let mut nl = NlCommand::open().unwrap();
        let t = dump(&mut nl);
        let lookup = |n: &str| t.index_of(n);
        for r in &parsed_routes {
            let bytes = route_request(true, r, &lookup, 0).unwrap();
            nl.request(r.to_string(), &[], OnAck::Nothing, |s| {
                let mut b = bytes.clone();
                b[8..12].copy_from_slice(&s.to_ne_bytes());
                b
            });
        }
        for r in &parsed_rules {
            nl.request(r.to_string(), &[], OnAck::Nothing, |s| {
                rule_request(true, r, s)
            });
        }
        settle(&mut nl)
            .into_iter()
            .filter_map(|o| match o {
                CmdOutput::Failed { what, errno } => Some(format!("{what}: errno {errno}")),
                _ => None,
            })
            .collect::<Vec<_>>()
    });
    assert!(failed.is_empty(), "the kernel refused: {failed:?}");
    for (_, ip) in routes {
        // `proto` before the next hops (nothing may follow them).
        let (head, rest) = match ip.find(" nexthop") {
            Some(i) => ip.split_at(i),
            None => (*ip, ""),
        };
        theirs.must(&format!("ip route add {head} proto keepalived{rest}"));
    }
    for (_, ip) in rules {
        let six = if ip.contains("2001:") { "-6 " } else { "" };
        theirs.must(&format!("ip {six}rule add {ip} protocol keepalived"));
    }
    let (a, b) = (keepalived_routes(&ours), keepalived_routes(&theirs));
    assert_eq!(a.len(), routes.len() + rules.len(), "{a:#?}");
    assert_eq!(a, b, "ours (left) and ip's (right) differ");
}
