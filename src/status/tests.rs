//! Renderer tests: an engine driven to a known state, its dumps compared with the text
//! keepalived 2.2.7 wrote for the same configuration in the same state (taken from its
//! dumps; values where the two differ by design are noted).

use super::*;
use crate::config::{load_str, LoadOptions};
use crate::engine::Engine;
use crate::event::{Action, Event, InterfaceState, ReceivedPacket, ScriptOutcome};
use crate::vrrp::packet::{self, Advert, V2Auth, V3Ipv4Checksum};
use std::net::IpAddr;
use std::path::Path;

pub(super) fn engine(conf: &str) -> Engine {
    let loaded = load_str(conf, Path::new("t.conf"), &LoadOptions::default());
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    Engine::new(&loaded.config)
}

pub(super) fn iface(name: &str, index: u32, up: bool, v4: &str, mac_last: u8) -> InterfaceState {
    InterfaceState {
        name: name.into(),
        index,
        up,
        mac: [0x0a, 0x1e, 0xbc, 0x16, 0xe4, mac_last],
        ipv4: if v4.is_empty() {
            vec![]
        } else {
            vec![v4.parse().unwrap()]
        },
        ipv6: vec![format!("fe80::81e:bcff:fe16:e4{mac_last:02x}")
            .parse()
            .unwrap()],
    }
}

pub(super) fn ms(n: u64) -> Instant {
    Instant::from_nanos(n * 1_000_000)
}

/// Runs the engine's timers up to `until`; track scripts exit with `script_exit`.
pub(super) fn run(e: &mut Engine, until: Instant, script_exit: i32) {
    loop {
        let mut runs = Vec::new();
        while let Some(a) = e.poll_action() {
            if let Action::RunScript { run: Some(r), .. } = a {
                runs.push(r);
            }
        }
        if !runs.is_empty() {
            let now = e.next_deadline().unwrap_or(until).min(until);
            for run in runs {
                let outcome = ScriptOutcome::Exited(script_exit);
                e.handle(now, Event::ScriptExited { run, outcome });
            }
            continue;
        }
        match e.next_deadline().filter(|d| *d <= until) {
            Some(d) => e.handle(d, Event::Timers),
            None => break,
        }
    }
}

/// An advert from `src` with `prio`, as received on eth0.
pub(super) fn advert(e: &mut Engine, at: Instant, src: &str, prio: u8, auth: &[u8; 8]) {
    let src: IpAddr = src.parse().unwrap();
    let dst: IpAddr = "224.0.0.18".parse().unwrap();
    let a = Advert {
        version: crate::config::model::VrrpVersion::V2,
        vrid: 51,
        priority: prio,
        interval_cs: 100,
        addresses: vec!["10.1.1.100".parse().unwrap()],
        auth: V2Auth::Pass(*auth),
    };
    let payload = packet::encode(&a, src, dst, V3Ipv4Checksum::PseudoHeader);
    e.handle(
        at,
        Event::Packet(ReceivedPacket {
            ifname: "eth0".into(),
            src,
            dst,
            ttl: 255,
            payload,
        }),
    );
}

pub(super) fn facts() -> HostFacts {
    HostFacts {
        wall_at_zero_ns: 1_795_836_770_000_000_000,
        utc_offset_secs: 0,
        hostname: "host1".into(),
        io_stats: vec![("loop wake-ups".into(), "42".into())],
    }
}

const CONF: &str = "\
vrrp_script chk_ok {
  script \"/bin/true\"
  interval 1
  weight 10
}
vrrp_script chk_bad {
  script \"/bin/false\"
  interval 2
  timeout 1
  weight -5
  rise 2
  fall 1
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass secret
  }
  virtual_ipaddress {
    10.1.1.100/24
    10.1.1.101 label eth0:x
  }
  track_interface {
    eth1 weight 5
  }
  track_script {
    chk_ok
    chk_bad weight -7
  }
  notify_master \"/bin/true master\"
  notify /bin/true
}
";

pub(super) fn master() -> Engine {
    let mut e = engine(CONF);
    e.handle(
        ms(0),
        Event::Interface(iface("eth0", 2, true, "10.1.1.1", 0x5c)),
    );
    e.handle(ms(0), Event::Interface(iface("eth1", 4, true, "", 0xa9)));
    e.handle(ms(0), Event::Startup);
    run(&mut e, ms(6000), 0);
    e
}

/// keepalived 2.2.7's block for this instance as Master (the lines we do not print —
/// config faults, scripts init, fd_in/fd_out — removed; the uid:gid suffix of script
/// lines is not printed either; the lower priority repeat is ours, 0: no burst).
const MASTER_BLOCK: &str = " VRRP Instance = VI_1
   VRRP Version = 2
   State = MASTER
   Flags: none
   Wantstate = MASTER
   Number of interface and track script faults = 0
   Last transition = 1795836773.550781 (Sat Nov 28 03:32:53.550781 2026)
   Read timeout = 1795836776.550781 (Sat Nov 28 03:32:56.550781 2026)
   Master down timer = 3550781 usecs
   Interface = eth0
   Using src_ip = 10.1.1.1
   Multicast address 224.0.0.18
   Gratuitous ARP delay = 5
   Gratuitous ARP repeat = 5
   Gratuitous ARP refresh = 0
   Gratuitous ARP refresh repeat = 1
   Gratuitous ARP lower priority delay = 5
   Gratuitous ARP lower priority repeat = 0
   Down timer adverts = 3
   Send advert after receive lower priority advert = true
   Send advert after receive higher priority advert = false
   Virtual Router ID = 51
   Priority = 100
   Effective priority = 115
   Total priority = 115
   Advert interval = 1 sec
   Accept = enabled
   Preempt = enabled
   Promote_secondaries = disabled
   Authentication type = SIMPLE_PASSWORD
   Password = secret
   Virtual IP (2):
     10.1.1.100/24 dev eth0 scope global set
     10.1.1.101 dev eth0 scope global label eth0:x set
   Tracked interfaces :
     eth1 weight 5
   Tracked scripts :
     chk_ok weight 10
     chk_bad weight -7
   Using smtp notification = no
   Notify deleted = Fault
   Master state transition script = '/bin/true' 'master'
   Generic state transition script = '/bin/true'
   Notify priority changes = false
";

#[test]
fn data_instance_block_is_keepalived_s() {
    let mut e = master();
    // 100 + 5 (eth1 up) + 10 (chk_ok GOOD); chk_bad GOOD adds nothing.
    let snap = e.snapshot(ms(6000));
    let text = render_data(&snap, &facts());
    let block = instance_part(DumpKind::Data, &text, "VI_1").unwrap();
    assert_eq!(block, MASTER_BLOCK);
    // The sections keepalived writes, in its order.
    let heads: Vec<&str> = text.lines().filter(|l| l.starts_with("------<")).collect();
    assert_eq!(
        heads,
        [
            "------< Global definitions >------",
            "------< VRRP Topology >------",
            "------< VRRP Scripts >------",
            "------< Interfaces >------",
            "------< keepalived-rs >------",
        ]
    );
    assert!(text.contains(
        " VRRP Script = chk_bad
   Command = '/bin/false'
   Interval = 2 sec
   Timeout = 1 sec
   Weight = -5
   Rise = 2
   Fall = 1
   Status = GOOD
   Tracking instances :
     VI_1, weight -7
   State = idle
"
    ));
    assert!(text.contains(
        " Name = eth1
   index = 4
   IPv4 address = (none)
   IPv6 address = fe80::81e:bcff:fe16:e4a9
   MAC = 0a:1e:bc:16:e4:a9
   State = UP, RUNNING
   Tracking VRRP instances :
     VI_1, weight 5
"
    ));
    assert!(text.contains(" Router ID = host1\n"), "hostname by default");
    // Both scripts fail (fall 1): BAD, and 100 + 5 - 7.
    run(&mut e, ms(8000), 1);
    let text = render_data(&e.snapshot(ms(8000)), &facts());
    assert!(text.contains("   Status = BAD\n"), "{text}");
    assert!(text.contains("   Effective priority = 98\n"));
    assert!(text.contains("   Track script chk_bad = -7\n"));
}

#[test]
fn a_backup_shows_the_master_it_hears() {
    let mut e = master();
    advert(&mut e, ms(6500), "10.1.1.2", 214, b"secret\0\0");
    run(&mut e, ms(7000), 0);
    let snap = e.snapshot(ms(7000));
    let text = render_data(&snap, &facts());
    let block = instance_part(DumpKind::Data, &text, "VI_1").unwrap();
    assert!(block.contains(
        "   State = BACKUP
   Master router = 10.1.1.2
   Master priority = 214
   Flags: none
   Wantstate = BACKUP
"
    ));
    assert!(
        block.contains("     10.1.1.100/24 dev eth0 scope global\n"),
        "not set"
    );
    assert!(text.contains("   Master last heard = 10.1.1.2, priority 214\n"));
    let json = render_json(&snap, &facts());
    assert!(json.contains("\"master_priority\":214,"));
    assert!(json.contains("\"vipset\":false,"));
    assert!(json.contains("\"state\":1,\"wantstate\":1,"));
    assert!(json.contains("\"master_addr\":\"10.1.1.2\""));
}

#[test]
fn stats_are_keepalived_s_block_then_ours() {
    let mut e = master();
    advert(&mut e, ms(6100), "10.1.1.2", 50, b"wrong\0\0\0");
    let snap = e.snapshot(ms(6100));
    let text = render_stats(&snap, &facts());
    assert!(text.starts_with(
        "VRRP Instance: VI_1
  Advertisements:
    Received: 0
    Sent: 3
  Became master: 1
  Released master: 0
  Packet Errors:
    Length: 0
    TTL: 0
    Invalid Type: 0
    Advertisement Interval: 0
    Address List: 0
  Authentication Errors:
    Invalid Type: 0
    Type Mismatch: 0
    Failure: 1
  Priority Zero:
    Received: 0
    Sent: 0
------< keepalived-rs counters >------
Instance VI_1:
"
    ));
    assert!(text.ends_with("------< keepalived-rs I/O statistics >------\nloop wake-ups: 42\n"));
    // Every indented value of the extension is an integer, so exporters that parse
    // every indented line after `VRRP Instance:` as `label: N` keep working.
    let ext = text
        .split("------< keepalived-rs counters >------")
        .nth(1)
        .unwrap();
    for l in ext
        .lines()
        .filter(|l| l.starts_with("  ") && !l.ends_with(':'))
    {
        let v = l.rsplit(": ").next().unwrap();
        assert!(v.parse::<u64>().is_ok(), "{l}");
    }
    assert_eq!(
        instance_part(DumpKind::Stats, &text, "VI_1").map(|p| p.lines().count()),
        Some(19)
    );
}

#[test]
fn json_is_keepalived_s_version_1_shape() {
    let e = master();
    let json = render_json(&e.snapshot(ms(6000)), &facts());
    let expected_data = concat!(
        r#"[{"data":{"iname":"VI_1","dont_track_primary":0,"skip_check_adv_addr":0,"#,
        r#""strict_mode":0,"vmac_ifname":"","ifp_ifname":"eth0","master_priority":0,"#,
        r#""last_transition":1795836773.550781,"garp_delay":5,"garp_refresh":0,"garp_rep":5,"#,
        r#""garp_refresh_rep":1,"garp_lower_prio_delay":5,"garp_lower_prio_rep":0,"#,
        r#""lower_prio_no_advert":0,"higher_prio_send_advert":0,"vrid":51,"base_priority":100,"#,
        r#""effective_priority":115,"vipset":true,"promote_secondaries":false,"adver_int":1,"#,
        r#""master_adver_int":1,"accept":1,"nopreempt":false,"preempt_delay":0,"state":2,"#,
        r#""wantstate":2,"version":2,"smtp_alert":false,"notify_deleted":false,"#,
        r#""script_master":"'\/bin\/true' 'master'","script":"'\/bin\/true'","#,
        r#""vips":["10.1.1.100\/24 dev eth0 scope global set","#,
        r#""10.1.1.101 dev eth0 scope global label eth0:x set"],"track_ifp":["eth1"],"#,
        r#""track_script":["'\/bin\/true'","'\/bin\/false'"],"auth_type":1,"#,
        r#""auth_data":"secret"},"#,
        r#""stats":{"advert_rcvd":0,"advert_sent":3,"become_master":1,"release_master":0,"#,
        r#""packet_len_err":0,"advert_interval_err":0,"ip_ttl_err":0,"invalid_type_rcvd":0,"#,
        r#""addr_list_err":0,"invalid_authtype":0,"authtype_mismatch":0,"auth_failure":0,"#,
        r#""pri_zero_rcvd":0,"pri_zero_sent":0},"keepalived_rs":{"#,
    );
    assert!(json.starts_with(expected_data), "{json}");
    assert!(json.ends_with("}}]\n"));
    assert_eq!(json.lines().count(), 1);
    let part = instance_part(DumpKind::Json, &json, "VI_1").unwrap();
    assert_eq!(part.len(), json.len() - 3, "the whole element");
}

#[test]
fn fault_unicast_vmac_and_v3_lines() {
    let conf = "\
vrrp_sync_group G1 {
  group {
    VI_U
  }
}
vrrp_instance VI_U {
  interface eth0
  use_vmac vrrp.52
  virtual_router_id 52
  priority 90
  version 3
  advert_int 0.5
  nopreempt
  no_accept
  dont_track_primary
  unicast_src_ip 10.1.1.1
  unicast_peer {
    10.1.1.2
    10.1.1.3 min_ttl 1 max_ttl 200
  }
  virtual_ipaddress {
    10.1.1.102/24
  }
  virtual_ipaddress_excluded {
    10.1.3.100/24 dev eth1
  }
  virtual_routes {
    10.9.0.0/16 via 10.1.1.254
  }
  track_interface {
    eth1
  }
}
";
    let mut e = engine(conf);
    e.handle(
        ms(0),
        Event::Interface(iface("eth0", 2, true, "10.1.1.1", 0x5c)),
    );
    e.handle(ms(0), Event::Interface(iface("eth1", 4, false, "", 0xa9)));
    e.handle(ms(0), Event::Startup);
    run(&mut e, ms(3000), 0);
    let snap = e.snapshot(ms(3000));
    let text = render_data(&snap, &facts());
    let block = instance_part(DumpKind::Data, &text, "VI_U").unwrap();
    for want in [
        "   VRRP Version = 3\n   Sync group = G1\n   State = FAULT\n",
        "   Flags:\n     Using unicast\n   Wantstate = FAULT\n",
        "   Number of interface and track script faults = 1\n",
        "   Read timeout = DISABLED\n",
        "   Use VMAC, i/f name vrrp.52, is_up = false, xmit_base = true\n",
        "   Interface = vrrp.52, vmac on eth0\n",
        "   VRRP interface tracking disabled\n",
        "   Using src_ip = 10.1.1.1 (from configuration)\n",
        "   Advert interval = 500 milli-sec\n",
        "   Accept = disabled\n   Preempt = disabled\n",
        "   Virtual IP (1):\n     10.1.1.102/24 dev vrrp.52@eth0 scope global\n",
        "   Virtual IP Excluded :\n     10.1.3.100/24 dev eth1 scope global\n",
        "   Unicast TTL = 255\n   Check unicast src : yes\n   Unicast Peer :\n",
        "     10.1.1.2 min_ttl 0 max_ttl 255\n     10.1.1.3 min_ttl 1 max_ttl 200\n",
        "   Unicast checksum compatibility = no\n",
        "   Virtual Routes :\n     10.9.0.0/16 via 10.1.1.254\n",
        "   Tracked interfaces :\n     eth1 weight 0\n",
    ] {
        assert!(block.contains(want), "missing {want:?} in\n{block}");
    }
    assert!(!block.contains("Authentication type"), "v3 has none");
    assert!(!block.contains("Multicast address"), "unicast");
    assert!(text.contains(
        " VRRP Sync Group = G1, FAULT\n   Num member fault 1, num member init 0\n   VRRP member instances :\n     VI_U\n"
    ));
    let json = render_json(&snap, &facts());
    for want in [
        r#""dont_track_primary":1,"#,
        r#""vmac_ifname":"vrrp.52","ifp_ifname":"vrrp.52","#,
        r#""adver_int":0.5,"master_adver_int":0.5,"accept":0,"nopreempt":true,"#,
        r#""state":3,"wantstate":3,"version":3,"#,
        r#""evips":["10.1.3.100\/24 dev eth1 scope global"],"#,
        r#""vroutes":["10.9.0.0\/16 via 10.1.1.254"],"#,
        r#""auth_type":0},"#,
        r#""faults":1,"#,
    ] {
        assert!(json.contains(want), "missing {want} in {json}");
    }
}

#[test]
fn before_startup_the_wanted_state_is_the_configured_one() {
    let e = engine(&CONF.replace("state BACKUP", "state MASTER"));
    let snap = e.snapshot(ms(0));
    assert_eq!(snap.instances[0].state, crate::vrrp::State::Initialize);
    let text = render_data(&snap, &facts());
    assert!(text.contains("   State = INIT\n"));
    assert!(text.contains("   Wantstate = MASTER\n"));
    assert!(text.contains("   Last transition = 1795836770.000000 ("));
    let json = render_json(&snap, &facts());
    assert!(json.contains("\"state\":0,\"wantstate\":2,"));
}

#[test]
fn dump_kinds_have_keepalived_s_file_names() {
    let names: Vec<&str> = DumpKind::ALL.iter().map(|k| k.file_name()).collect();
    assert_eq!(
        names,
        ["keepalived.data", "keepalived.stats", "keepalived.json"]
    );
    assert_eq!(DumpKind::from_name("stats"), Some(DumpKind::Stats));
    assert_eq!(DumpKind::from_name("nope"), None);
}

#[test]
fn ipvs_view_follows_keepalived_s_text_and_keys() {
    // VRRP only: keepalived's elements, no ipvs member.
    let snap = master().snapshot(ms(5000));
    assert!(!render_json(&snap, &facts()).contains(r#""ipvs":"#));
    // With a virtual server: the member after keepalived_rs, the section after the
    // checkers.
    let mut e = engine(
        "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 100\n \
         virtual_ipaddress {\n 10.0.0.10\n }\n}\n\
         virtual_server 10.0.0.10 80 {\n protocol TCP\n real_server 192.168.1.2 80 {\n  \
         TCP_CHECK {\n  }\n }\n}\n",
    );
    run(&mut e, ms(5000), 0);
    let snap = e.snapshot(ms(5000));
    let json = render_json(&snap, &facts());
    let k = json.find(r#""keepalived_rs":"#).expect("extension member");
    let i = json.find(r#""ipvs":{"available":"#).expect("ipvs member");
    assert!(
        k < i,
        "ipvs comes after keepalived's keys and keepalived_rs"
    );
    let data = render_check_data(&snap, &facts());
    let at = data
        .find("------< keepalived-rs IPVS >------\nIPVS: ")
        .expect("ipvs section");
    assert!(at > data.find("------< Health checkers >------").unwrap());
    assert!(data[at..].contains("Prot LocalAddress:Port Scheduler Flags\n"));
}
