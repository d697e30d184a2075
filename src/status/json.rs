//! `keepalived.json` (SIGRTMIN+2), keepalived 2.2.7's version-1 shape: one line, a
//! top-level array with one `{"data": {...}, "stats": {...}}` per instance, fields in
//! keepalived's order and types (states as numbers: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT,
//! 98 STOP; times in seconds as doubles; `/` escaped as json-c does). Our other facts are
//! a third member of each element, `"keepalived_rs": {...}`, after keepalived's two.

use super::data::{password, vip_dev};
use super::snapshot::{InstanceStatus, Snapshot, TrackKind};
use super::text::{command, vip};
use super::HostFacts;
use crate::config::model::{Auth, VrrpVersion};
use crate::vrrp::State;
use std::fmt::Write as _;

/// keepalived's numbers for states (its `VRRP_STATE_*`).
pub fn state_number(s: State) -> u32 {
    match s {
        State::Initialize => 0,
        State::Backup => 1,
        State::Master => 2,
        State::Fault => 3,
        State::Stop => 98,
    }
}

/// A JSON string literal, escaped as json-c writes it (including `\/`).
pub(super) fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A double as json-c prints it here: the shortest text that reads back the same number
/// (`1`, `0.5`, `1795836777.064097`).
fn double(x: f64) -> String {
    if x.is_finite() {
        x.to_string()
    } else {
        "0".into()
    }
}

/// Builds one JSON object, member by member, in order.
struct Obj {
    text: String,
}

impl Obj {
    fn new() -> Obj {
        Obj {
            text: String::from("{"),
        }
    }

    fn raw(&mut self, key: &str, value: &str) -> &mut Obj {
        if self.text.len() > 1 {
            self.text.push(',');
        }
        self.text.push_str(&string(key));
        self.text.push(':');
        self.text.push_str(value);
        self
    }

    fn str(&mut self, key: &str, value: &str) -> &mut Obj {
        self.raw(key, &string(value))
    }

    fn int(&mut self, key: &str, value: impl std::fmt::Display) -> &mut Obj {
        self.raw(key, &value.to_string())
    }

    fn bool(&mut self, key: &str, value: bool) -> &mut Obj {
        self.raw(key, if value { "true" } else { "false" })
    }

    fn flag(&mut self, key: &str, value: bool) -> &mut Obj {
        self.int(key, u8::from(value))
    }

    fn double(&mut self, key: &str, value: f64) -> &mut Obj {
        self.raw(key, &double(value))
    }

    /// An array of strings, written only when not empty (as keepalived).
    fn strings(&mut self, key: &str, values: &[String]) -> &mut Obj {
        if values.is_empty() {
            return self;
        }
        let items: Vec<String> = values.iter().map(|v| string(v)).collect();
        self.raw(key, &format!("[{}]", items.join(",")))
    }

    /// The `ipvs` member, left out when the daemon has nothing of IPVS (no virtual
    /// server, no sync daemon): a VRRP-only daemon's elements stay keepalived's.
    fn ipvs(&mut self, st: &super::snapshot::IpvsStatus) -> &mut Obj {
        if *st == super::snapshot::IpvsStatus::default() {
            return self;
        }
        self.raw("ipvs", &ipvs(st))
    }

    fn finish(&mut self) -> String {
        self.text.push('}');
        std::mem::take(&mut self.text)
    }
}

/// The whole `keepalived.json` text (one line and a newline).
pub fn render_json(snap: &Snapshot, facts: &HostFacts) -> String {
    let items: Vec<String> = snap
        .instances
        .iter()
        .map(|i| {
            Obj::new()
                .raw("data", &data(i, snap, facts))
                .raw("stats", &stats(i))
                .raw("keepalived_rs", &extension(i))
                .ipvs(&snap.ipvs)
                .finish()
        })
        .collect();
    format!("[{}]\n", items.join(","))
}

fn data(i: &InstanceStatus, snap: &Snapshot, facts: &HostFacts) -> String {
    let c = &i.cfg;
    let mut o = Obj::new();
    o.str("iname", &c.name)
        .flag("dont_track_primary", c.dont_track_primary)
        .flag("skip_check_adv_addr", c.skip_check_adv_addr)
        .flag("strict_mode", c.strict_mode)
        .str(
            "vmac_ifname",
            c.use_vmac.as_ref().map_or("", |v| v.name.as_str()),
        )
        .str("ifp_ifname", &i.vip_ifname)
        .int("master_priority", i.master_heard.map_or(0, |(_, p)| p))
        .double(
            "last_transition",
            facts.wall(i.last_transition.unwrap_or_default()).as_f64(),
        )
        .int("garp_delay", c.garp.master_delay.as_secs())
        .int(
            "garp_refresh",
            c.garp.master_refresh.map_or(0, |d| d.as_secs()),
        )
        .int("garp_rep", c.garp.master_repeat)
        .int("garp_refresh_rep", c.garp.master_refresh_repeat)
        .int("garp_lower_prio_delay", c.garp.lower_prio_delay.as_secs())
        .int("garp_lower_prio_rep", c.garp.lower_prio_repeat.unwrap_or(0))
        .flag("lower_prio_no_advert", c.lower_prio_no_advert)
        .flag("higher_prio_send_advert", c.higher_prio_send_advert)
        .int("vrid", c.vrid)
        .int("base_priority", c.priority)
        .int("effective_priority", i.effective_priority)
        .bool("vipset", i.vips_set)
        .bool("promote_secondaries", c.promote_secondaries)
        .double("adver_int", i.adver_int.as_secs_f64())
        .double("master_adver_int", i.master_adver_int.as_secs_f64())
        .flag("accept", c.accept)
        .bool("nopreempt", c.nopreempt)
        .double("preempt_delay", c.preempt_delay.as_secs_f64())
        .int("state", state_number(i.state))
        .int("wantstate", state_number(i.wantstate))
        .int(
            "version",
            match c.version {
                VrrpVersion::V2 => 2,
                VrrpVersion::V3 => 3,
            },
        )
        .bool("smtp_alert", c.smtp_alert)
        .bool("notify_deleted", c.notify.deleted.is_some());
    let n = &c.notify;
    let scripts = [
        ("script_backup", &n.backup),
        ("script_master", &n.master),
        ("script_fault", &n.fault),
        ("script_stop", &n.stop),
        ("script", &n.any),
        ("script_master_rx_lower_pri", &n.master_rx_lower_pri),
    ];
    for (key, cmd) in scripts {
        if let Some(cmd) = cmd {
            o.str(key, &command(cmd));
        }
    }
    let dev = vip_dev(i);
    let vips: Vec<String> = c.vips.iter().map(|v| vip(v, &dev, i.vips_set)).collect();
    let evips: Vec<String> = c
        .excluded_vips
        .iter()
        .map(|v| vip(v, &dev, i.vips_set))
        .collect();
    let routes: Vec<String> = c.virtual_routes.iter().map(|r| r.to_string()).collect();
    let rules: Vec<String> = c.virtual_rules.iter().map(|r| r.to_string()).collect();
    let track_ifp: Vec<String> = i
        .tracked
        .iter()
        .filter(|t| t.kind == TrackKind::Interface && !t.via_group)
        .map(|t| t.name.clone())
        .collect();
    // keepalived lists the tracked scripts by their command lines.
    let track_script: Vec<String> = i
        .tracked
        .iter()
        .filter(|t| t.kind == TrackKind::Script && !t.via_group)
        .filter_map(|t| snap.scripts.iter().find(|s| s.cfg.name == t.name))
        .map(|s| command(&s.cfg.script))
        .collect();
    o.strings("vips", &vips)
        .strings("evips", &evips)
        .strings("vroutes", &routes)
        .strings("vrules", &rules)
        .strings("track_ifp", &track_ifp)
        .strings("track_script", &track_script);
    match &c.auth {
        None => {
            o.int("auth_type", 0);
        }
        Some(Auth::Pass(p)) => {
            o.int("auth_type", 1).str("auth_data", &password(p));
        }
        Some(Auth::Ah(p)) => {
            o.int("auth_type", 2).str("auth_data", &password(p));
        }
    }
    o.finish()
}

fn stats(i: &InstanceStatus) -> String {
    let s = &i.stats;
    Obj::new()
        .int("advert_rcvd", s.adverts_received)
        .int("advert_sent", s.adverts_sent)
        .int("become_master", s.became_master)
        .int("release_master", s.released_master)
        .int("packet_len_err", s.length_errors)
        .int("advert_interval_err", s.interval_errors)
        .int("ip_ttl_err", s.ttl_errors)
        .int("invalid_type_rcvd", s.type_errors)
        .int("addr_list_err", s.address_list_errors)
        .int("invalid_authtype", s.auth_type_invalid)
        .int("authtype_mismatch", s.auth_type_mismatch)
        .int("auth_failure", s.auth_failures)
        .int("pri_zero_rcvd", s.priority_zero_received)
        .int("pri_zero_sent", s.priority_zero_sent)
        .finish()
}

/// What keepalived's JSON does not carry.
fn extension(i: &InstanceStatus) -> String {
    let s = &i.stats;
    let mut o = Obj::new();
    match i.master_heard {
        Some((addr, _)) => o.str("master_addr", &addr.to_string()),
        None => o.raw("master_addr", "null"),
    };
    match i.src_addr {
        Some(a) => o.str("src_addr", &a.to_string()),
        None => o.raw("src_addr", "null"),
    };
    o.int("total_priority", i.total_priority)
        .int("faults", i.faults)
        .int("vips_restored", s.vips_restored)
        .int("version_err", s.version_errors)
        .int("checksum_err", s.checksum_errors)
        .int("vrid_err", s.vrid_errors)
        .int("address_err", s.address_errors)
        .int("unicast_src_err", s.unicast_src_errors)
        .int("owner_conflicts", s.owner_conflicts)
        .int("interval_mismatches", s.interval_mismatches)
        .int("v3_checksum_pseudo_header", s.v3_checksum_pseudo_header)
        .int("v3_checksum_message_only", s.v3_checksum_message_only)
        .finish()
}

/// The `ipvs` member (an extension after keepalived's keys and `keepalived_rs`): the IPVS
/// table the daemon manages. keepalived's JSON is an array of VRRP instances, so the same
/// member is in each element (a daemon without instances has it in none; its
/// `keepalived_check.data` shows the table); a daemon without virtual servers or sync
/// daemon has no `ipvs` member. `available`: null not read yet, true managed,
/// false unavailable with `reason`. Connection counters are not read (none here).
fn ipvs(st: &super::snapshot::IpvsStatus) -> String {
    use super::ipvs_view::{dest_text, forward_name, service_text};
    use crate::ipvs::model::{ServiceKey, SYNC_MASTER};
    let mut o = Obj::new();
    match &st.available {
        None => o.raw("available", "null"),
        Some(Ok(())) => o.bool("available", true),
        Some(Err(why)) => o.bool("available", false).str("reason", why),
    };
    let services: Vec<String> = st
        .table
        .iter()
        .map(|(k, svc)| {
            let mut s = Obj::new();
            s.str("service", &service_text(k));
            match k {
                ServiceKey::Addr { addr, port, .. } => {
                    s.str("address", &addr.to_string()).int("port", port)
                }
                ServiceKey::Fwmark { mark, .. } => s.int("fwmark", mark),
            };
            let dests: Vec<String> = svc
                .dests
                .iter()
                .map(|(d, a)| {
                    Obj::new()
                        .str("server", &dest_text(d))
                        .str("address", &d.addr.to_string())
                        .int("port", d.port)
                        .str("forward", forward_name(&a.forward))
                        .int("weight", a.weight)
                        .int("u_threshold", a.u_threshold)
                        .int("l_threshold", a.l_threshold)
                        .finish()
                })
                .collect();
            s.str("scheduler", &svc.attrs.sched)
                .int("flags", svc.attrs.flags)
                .int("timeout", svc.attrs.timeout)
                .int("netmask", svc.attrs.netmask);
            if let Some(pe) = &svc.attrs.pe_name {
                s.str("pe_name", pe);
            }
            s.raw("dests", &format!("[{}]", dests.join(","))).finish()
        })
        .collect();
    o.raw("services", &format!("[{}]", services.join(",")));
    let quorum: Vec<String> = st
        .quorum
        .iter()
        .map(|(vs, met)| {
            Obj::new()
                .str("virtual_server", vs)
                .bool("met", *met)
                .finish()
        })
        .collect();
    o.raw("quorum", &format!("[{}]", quorum.join(",")));
    let daemons: Vec<String> = st
        .sync_daemons
        .iter()
        .map(|d| {
            let state = if d.state == SYNC_MASTER {
                "master"
            } else {
                "backup"
            };
            Obj::new()
                .str("state", state)
                .str("interface", &d.ifname)
                .int("syncid", d.syncid)
                .finish()
        })
        .collect();
    o.raw("sync_daemons", &format!("[{}]", daemons.join(",")));
    o.finish()
}

/// The array element of instance `name` in a rendered `keepalived.json`.
pub fn element<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("{{\"data\":{{\"iname\":{}", string(name));
    let start = text.find(&key)?;
    // The element ends at the brace that closes it (strings skipped).
    let mut depth = 0usize;
    let mut in_str = false;
    let mut escaped = false;
    for (k, ch) in text[start..].char_indices() {
        if in_str {
            match ch {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match ch {
            '"' => in_str = true,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&text[start..start + k + 1]);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_json_c_does() {
        assert_eq!(string("VI_1"), "\"VI_1\"");
        assert_eq!(string("a\"b\\c\n/x\u{1}"), "\"a\\\"b\\\\c\\n\\/x\\u0001\"");
    }

    #[test]
    fn doubles_are_shortest() {
        assert_eq!(double(1.0), "1");
        assert_eq!(double(0.5), "0.5");
        assert_eq!(double(1_795_836_902.393_23), "1795836902.39323");
        assert_eq!(double(f64::NAN), "0");
    }

    #[test]
    fn elements_are_found_by_name() {
        let text =
            r#"[{"data":{"iname":"A","x":"}"},"stats":{}},{"data":{"iname":"B"},"stats":{"n":1}}]"#;
        assert_eq!(
            element(text, "A"),
            Some(r#"{"data":{"iname":"A","x":"}"},"stats":{}}"#)
        );
        assert_eq!(
            element(text, "B"),
            Some(r#"{"data":{"iname":"B"},"stats":{"n":1}}"#)
        );
        assert_eq!(element(text, "C"), None);
    }

    #[test]
    fn ipvs_member_has_the_managed_table() {
        let st = super::super::ipvs_view::tests::status();
        let j = super::ipvs(&st);
        assert!(j.starts_with(r#"{"available":true,"services":[{"service":"TCP  10.0.0.10:80","address":"10.0.0.10","port":80,"scheduler":"wlc","flags":1,"timeout":300,"netmask":4294967040,"dests":[{"server":"192.168.1.2:80","address":"192.168.1.2","port":80,"forward":"Route","weight":3,"u_threshold":0,"l_threshold":0},"#), "{j}");
        assert!(
            j.contains(r#"{"service":"FWM  7","fwmark":7,"scheduler":"rr""#),
            "{j}"
        );
        assert!(j.ends_with(r#""quorum":[{"virtual_server":"[10.0.0.10]:tcp:80","met":true},{"virtual_server":"FWM 7","met":false}],"sync_daemons":[{"state":"backup","interface":"eth0","syncid":5}]}"#), "{j}");
        // A persistence engine is named after the netmask; none: no member.
        assert!(!j.contains("pe_name"), "{j}");
        let mut sip = st.clone();
        for svc in sip.table.values_mut() {
            svc.attrs.pe_name = Some("sip".into());
        }
        let j = super::ipvs(&sip);
        assert!(
            j.contains(r#""netmask":4294967040,"pe_name":"sip","dests":["#),
            "{j}"
        );
        let mut down = st.clone();
        down.available = Some(Err("the kernel has no IPVS".into()));
        down.table.clear();
        assert!(super::ipvs(&down)
            .starts_with(r#"{"available":false,"reason":"the kernel has no IPVS","services":[]"#));
        down.available = None;
        assert!(super::ipvs(&down).starts_with(r#"{"available":null,"services":[]"#));
    }
}
