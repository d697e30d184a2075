//! Accept_Mode on Linux, laid out as keepalived 2.2 does with nftables: per family a table
//! of its own (`ip keepalived`, `ip6 keepalived`; `nftables TABLE` renames it) with sets of
//! the blocked VIPs and two base chains at `nftables_priority` (default -1) on input and
//! output that drop packets to / from a VIP in the set. IPv6 also lets neighbour
//! solicitations and advertisements through (so ND keeps working) and keys link-local VIPs
//! by interface (`ipv6_addr . iface_index`, or the interface name when an instance has
//! `dont_track_primary` and `nftables_ifindex` is not set). `nftables_counters` adds a
//! counter to each rule. ARP is not IP and never filtered.
//!
//! A family's table is created on its first blocked address, in one batch that first adds
//! and deletes it (so a leftover of the same name never doubles a rule), and removed at
//! exit; a batch the kernel refused marks the table for a rebuild from this state at the
//! next change. At start, a table of the configured name left by a killed run is deleted.

use super::nftables::*;
use super::nftables_sock::{BatchDone, NftChannel, Quiet};
use crate::config::model::{Config, GlobalValue};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, Ipv6Addr};

/// The `global_defs` nftables settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FwSettings {
    pub table: String,
    pub priority: i32,
    pub counters: bool,
    /// Link-local sets keyed by interface name instead of index.
    pub ifnames: bool,
}

impl Default for FwSettings {
    fn default() -> Self {
        FwSettings {
            table: "keepalived".into(),
            priority: -1,
            counters: false,
            ifnames: false,
        }
    }
}

impl FwSettings {
    pub fn from_config(c: &Config) -> FwSettings {
        let other = &c.global.other;
        let table = match other.get("nftables") {
            Some(GlobalValue::Words(w)) => w.first().cloned(),
            Some(GlobalValue::Str(s)) => Some(s.clone()),
            _ => None,
        }
        .unwrap_or_else(|| "keepalived".into());
        let priority = match other.get("nftables_priority") {
            Some(GlobalValue::Int(i)) => *i as i32,
            _ => -1,
        };
        FwSettings {
            table,
            priority,
            counters: other.contains_key("nftables_counters"),
            ifnames: !other.contains_key("nftables_ifindex")
                && c.instances.iter().any(|i| i.dont_track_primary),
        }
    }
}

/// A blocked address as the sets hold it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum BlockKey {
    V4(Ipv4Addr),
    V6(Ipv6Addr),
    /// A link-local address is blocked on its interface only.
    LinkLocal(Ipv6Addr, String),
}

impl BlockKey {
    pub fn family(&self) -> NfFamily {
        match self {
            BlockKey::V4(_) => NfFamily::Ipv4,
            _ => NfFamily::Ipv6,
        }
    }
}

/// What a batch was for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FwTag {
    /// Building or changing the table of a family.
    Table(NfFamily),
    /// Removing a table (leftovers at start, a renamed table, exit).
    Remove,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TableState {
    Absent,
    Created,
    /// A batch was refused: rebuild from scratch at the next change.
    Broken,
}

#[derive(Clone, Debug, Default)]
struct Blocked {
    /// The instances that block it.
    by: BTreeSet<String>,
    /// The interface index of a link-local address, when it was blocked.
    index: u32,
}

const SET_VIPS: &str = "vips";
const SET_LL: &str = "vips_link_local";
const SET_ND: &str = "neighbor-discovery";
const ICMPV6_ND_SOLICIT: u8 = 135;
const ICMPV6_ND_ADVERT: u8 = 136;
const IPPROTO_ICMPV6: u8 = 58;
const IFNAMSIZ: usize = 16;

/// The firewall's state and its channel.
pub struct Firewall {
    pub settings: FwSettings,
    blocked: BTreeMap<BlockKey, Blocked>,
    state: BTreeMap<NfFamily, TableState>,
    pub chan: Option<NftChannel<FwTag>>,
}

impl Default for Firewall {
    fn default() -> Self {
        Self::new()
    }
}

impl Firewall {
    pub fn new() -> Firewall {
        Firewall {
            settings: FwSettings::default(),
            blocked: BTreeMap::new(),
            state: BTreeMap::new(),
            chan: None,
        }
    }

    fn state(&self, f: NfFamily) -> TableState {
        self.state.get(&f).copied().unwrap_or(TableState::Absent)
    }

    /// Addresses currently blocked (for tests and the data dump).
    pub fn blocked(&self) -> Vec<BlockKey> {
        self.blocked.keys().cloned().collect()
    }

    /// Whether the table of `f` was created (and not refused since).
    pub fn created(&self, f: NfFamily) -> bool {
        self.state(f) == TableState::Created
    }

    fn element(&self, k: &BlockKey, b: &Blocked) -> Vec<u8> {
        match k {
            BlockKey::V4(a) => a.octets().to_vec(),
            BlockKey::V6(a) => a.octets().to_vec(),
            BlockKey::LinkLocal(a, ifname) => {
                let mut v = a.octets().to_vec();
                if self.settings.ifnames {
                    let mut name = [0u8; IFNAMSIZ];
                    let n = ifname.len().min(IFNAMSIZ - 1);
                    name[..n].copy_from_slice(&ifname.as_bytes()[..n]);
                    v.extend_from_slice(&name);
                } else {
                    v.extend_from_slice(&b.index.to_ne_bytes());
                }
                v
            }
        }
    }

    /// `addr` is blocked for `instance` (`index`: its interface's, for a link-local one).
    pub fn block(&mut self, instance: &str, key: BlockKey, index: u32) {
        let e = self.blocked.entry(key.clone()).or_default();
        let first = e.by.is_empty();
        e.by.insert(instance.to_string());
        if first {
            e.index = index;
            self.changed(&key, true);
        }
    }

    /// `instance` no longer blocks `key`; the element goes when nobody blocks it.
    pub fn unblock(&mut self, instance: &str, key: &BlockKey) {
        let Some(e) = self.blocked.get_mut(key) else {
            return;
        };
        e.by.remove(instance);
        if e.by.is_empty() {
            self.changed(key, false);
            self.blocked.remove(key);
        }
    }

    fn changed(&mut self, key: &BlockKey, add: bool) {
        let f = key.family();
        match self.state(f) {
            TableState::Created => {
                let Some(b) = self.blocked.get(key) else {
                    return;
                };
                let el = self.element(key, b);
                let set = if matches!(key, BlockKey::LinkLocal(..)) {
                    SET_LL
                } else {
                    SET_VIPS
                };
                let table = self.settings.table.clone();
                let what = format!(
                    "{} {key:?} {} set {set} of {} {table}",
                    if add { "adding" } else { "removing" },
                    if add { "to" } else { "from" },
                    f.name()
                );
                if let Some(c) = self.chan.as_mut() {
                    c.submit(FwTag::Table(f), Quiet::None, |b| {
                        b.set_elems(add, f, &table, set, &[el], what)
                    });
                }
            }
            // Not there yet, or refused earlier: (re)build with what is blocked now (an
            // address being removed is still in the map: leave it out).
            TableState::Absent | TableState::Broken if add => self.rebuild(f, None),
            TableState::Broken => self.rebuild(f, Some(key)),
            TableState::Absent => {}
        }
    }

    /// One batch that (re)creates the table of `f` with every blocked address but `skip`.
    fn rebuild(&mut self, f: NfFamily, skip: Option<&BlockKey>) {
        let s = self.settings.clone();
        let mut plain = Vec::new();
        let mut ll = Vec::new();
        for (k, b) in &self.blocked {
            if k.family() != f || Some(k) == skip {
                continue;
            }
            match k {
                BlockKey::LinkLocal(..) => ll.push(self.element(k, b)),
                _ => plain.push(self.element(k, b)),
            }
        }
        let Some(c) = self.chan.as_mut() else {
            return;
        };
        c.submit(FwTag::Table(f), Quiet::None, |b| {
            table_batch(b, f, &s, &plain, &ll);
        });
        self.state.insert(f, TableState::Created);
    }

    /// A batch was answered.
    pub fn on_done(&mut self, d: BatchDone<FwTag>) {
        if let (FwTag::Table(f), false) = (d.tag, d.ok) {
            self.state.insert(f, TableState::Broken);
        }
    }

    /// Start: removes tables of the configured name a killed run left behind.
    pub fn remove_leftovers(&mut self) {
        let table = self.settings.table.clone();
        if let Some(c) = self.chan.as_mut() {
            // Add then delete: no error when there is none.
            c.submit(FwTag::Remove, Quiet::All, |b| {
                for f in [NfFamily::Ipv4, NfFamily::Ipv6] {
                    b.new_table(f, &table);
                    b.del_table(f, &table);
                }
            });
        }
        self.state.clear();
    }

    /// Exit: removes the tables; nothing stays blocked.
    pub fn release(&mut self) {
        self.remove_tables();
        self.blocked.clear();
    }

    fn remove_tables(&mut self) {
        let table = self.settings.table.clone();
        let families: Vec<NfFamily> = self
            .state
            .iter()
            .filter(|(_, s)| **s != TableState::Absent)
            .map(|(f, _)| *f)
            .collect();
        if let Some(c) = self.chan.as_mut() {
            c.submit(FwTag::Remove, Quiet::None, |b| {
                for f in &families {
                    b.new_table(*f, &table);
                    b.del_table(*f, &table);
                }
            });
        }
        self.state.clear();
    }

    /// Reload: other settings move the blocked addresses to a table built with them.
    pub fn reconfigure(&mut self, new: FwSettings) {
        if new == self.settings {
            return;
        }
        self.remove_tables();
        self.settings = new;
        let families: BTreeSet<NfFamily> = self.blocked.keys().map(BlockKey::family).collect();
        for f in families {
            self.rebuild(f, None);
        }
    }
}

fn load(base: u32, offset: u32, len: u32, dreg: u32) -> Expr {
    Expr::Payload {
        base,
        offset,
        len,
        dreg,
    }
}

/// The batch building keepalived's table for `f` with the given elements.
pub fn table_batch(
    b: &mut BatchBuilder,
    f: NfFamily,
    s: &FwSettings,
    plain: &[Vec<u8>],
    ll: &[Vec<u8>],
) {
    let t = s.table.as_str();
    let tail = |v: Verdict| -> Vec<Expr> {
        let mut e = Vec::new();
        if s.counters {
            e.push(Expr::Counter);
        }
        e.push(Expr::Verdict(v));
        e
    };
    let rule = |b: &mut BatchBuilder, chain: &str, mut head: Vec<Expr>, v: Verdict| {
        head.extend(tail(v));
        b.new_rule(f, t, chain, &head);
    };
    let nh = NFT_PAYLOAD_NETWORK_HEADER;
    b.new_table(f, t);
    b.del_table(f, t);
    b.new_table(f, t);
    match f {
        NfFamily::Ipv4 => {
            b.new_set(f, t, SET_VIPS, TYPE_IPADDR, 4, 0, 1);
            b.new_chain(f, t, "out", Some((NF_INET_LOCAL_OUT, s.priority)));
            b.new_chain(f, t, "in", Some((NF_INET_LOCAL_IN, s.priority)));
            for (chain, offset) in [("out", 12), ("in", 16)] {
                let head = vec![
                    load(nh, offset, 4, NFT_REG_1),
                    Expr::Lookup {
                        set: SET_VIPS.into(),
                        sreg: NFT_REG_1,
                    },
                ];
                rule(b, chain, head, Verdict::Drop);
            }
            if !plain.is_empty() {
                b.set_elems(
                    true,
                    f,
                    t,
                    SET_VIPS,
                    plain,
                    format!("adding addresses to set {SET_VIPS} of ip {t}"),
                );
            }
        }
        NfFamily::Ipv6 => {
            b.new_set(f, t, SET_VIPS, TYPE_IP6ADDR, 16, 0, 1);
            b.new_set(f, t, SET_ND, TYPE_ICMP6_TYPE, 1, NFT_SET_CONSTANT, 2);
            b.set_elems(
                true,
                f,
                t,
                SET_ND,
                &[vec![ICMPV6_ND_SOLICIT], vec![ICMPV6_ND_ADVERT]],
                format!("adding ND types to set {SET_ND} of ip6 {t}"),
            );
            let (ll_type, ll_len, meta_in, meta_out) = if s.ifnames {
                (
                    concat_type(&[TYPE_IP6ADDR, TYPE_IFNAME]),
                    16 + IFNAMSIZ as u32,
                    NFT_META_IIFNAME,
                    NFT_META_OIFNAME,
                )
            } else {
                (
                    concat_type(&[TYPE_IP6ADDR, TYPE_IFINDEX]),
                    20,
                    NFT_META_IIF,
                    NFT_META_OIF,
                )
            };
            b.new_set(f, t, SET_LL, ll_type, ll_len, 0, 3);
            b.new_chain(f, t, "out", Some((NF_INET_LOCAL_OUT, s.priority)));
            b.new_chain(f, t, "in", Some((NF_INET_LOCAL_IN, s.priority)));
            b.new_chain(f, t, "in_link_local", None);
            b.new_chain(f, t, "out_link_local", None);
            let mut ll_mask = vec![0u8; 16];
            ll_mask[0] = 0xff;
            ll_mask[1] = 0xc0;
            let mut ll_net = vec![0u8; 16];
            ll_net[0] = 0xfe;
            ll_net[1] = 0x80;
            // (chain, address offset: source for out, destination for in)
            for (chain, offset, ll_chain, meta) in [
                ("out", 8, "out_link_local", meta_out),
                ("in", 24, "in_link_local", meta_in),
            ] {
                rule(
                    b,
                    chain,
                    vec![
                        load(nh, 6, 1, NFT_REG_1),
                        Expr::CmpEq {
                            sreg: NFT_REG_1,
                            data: vec![IPPROTO_ICMPV6],
                        },
                        load(NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, NFT_REG_1),
                        Expr::Lookup {
                            set: SET_ND.into(),
                            sreg: NFT_REG_1,
                        },
                    ],
                    Verdict::Accept,
                );
                b.new_rule(
                    f,
                    t,
                    chain,
                    &[
                        load(nh, offset, 16, NFT_REG_1),
                        Expr::Bitwise {
                            sreg: NFT_REG_1,
                            dreg: NFT_REG_1,
                            mask: ll_mask.clone(),
                            xor: vec![0; 16],
                        },
                        Expr::CmpEq {
                            sreg: NFT_REG_1,
                            data: ll_net.clone(),
                        },
                        Expr::Verdict(Verdict::Goto(ll_chain.into())),
                    ],
                );
                rule(
                    b,
                    chain,
                    vec![
                        load(nh, offset, 16, NFT_REG_1),
                        Expr::Lookup {
                            set: SET_VIPS.into(),
                            sreg: NFT_REG_1,
                        },
                    ],
                    Verdict::Drop,
                );
                rule(
                    b,
                    ll_chain,
                    vec![
                        load(nh, offset, 16, NFT_REG_1),
                        Expr::Meta {
                            key: meta,
                            dreg: NFT_REG_2,
                        },
                        Expr::Lookup {
                            set: SET_LL.into(),
                            sreg: NFT_REG_1,
                        },
                    ],
                    Verdict::Drop,
                );
            }
            if !plain.is_empty() {
                b.set_elems(
                    true,
                    f,
                    t,
                    SET_VIPS,
                    plain,
                    format!("adding addresses to set {SET_VIPS} of ip6 {t}"),
                );
            }
            if !ll.is_empty() {
                b.set_elems(
                    true,
                    f,
                    t,
                    SET_LL,
                    ll,
                    format!("adding addresses to set {SET_LL} of ip6 {t}"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::netlink::messages;

    fn types(batch: &Batch) -> Vec<u16> {
        messages(&batch.bytes)
            .map(|m| m.unwrap().msg_type)
            .collect()
    }

    #[test]
    fn ipv4_table_layout() {
        let mut b = BatchBuilder::new(1);
        table_batch(
            &mut b,
            NfFamily::Ipv4,
            &FwSettings::default(),
            &[vec![10, 0, 0, 100]],
            &[],
        );
        let batch = b.finish();
        let t = |x: u16| 0xa00 | x;
        assert_eq!(
            types(&batch),
            vec![
                0x10,
                t(NFT_MSG_NEWTABLE),
                t(NFT_MSG_DELTABLE),
                t(NFT_MSG_NEWTABLE),
                t(NFT_MSG_NEWSET),
                t(NFT_MSG_NEWCHAIN),
                t(NFT_MSG_NEWCHAIN),
                t(NFT_MSG_NEWRULE),
                t(NFT_MSG_NEWRULE),
                t(NFT_MSG_NEWSETELEM),
                0x11
            ]
        );
    }

    #[test]
    fn ipv6_table_has_nd_and_link_local_chains() {
        let mut b = BatchBuilder::new(1);
        let s = FwSettings {
            counters: true,
            ..FwSettings::default()
        };
        table_batch(&mut b, NfFamily::Ipv6, &s, &[], &[vec![0; 20]]);
        let batch = b.finish();
        let n = |ty: u16| types(&batch).iter().filter(|x| **x == 0xa00 | ty).count();
        assert_eq!(n(NFT_MSG_NEWSET), 3);
        assert_eq!(n(NFT_MSG_NEWCHAIN), 4);
        assert_eq!(n(NFT_MSG_NEWRULE), 8);
        assert_eq!(n(NFT_MSG_NEWSETELEM), 2, "ND types and the link-local VIP");
        assert!(batch
            .msgs
            .iter()
            .any(|m| m.what.contains("vips_link_local")));
    }

    #[test]
    fn state_machine_batches() {
        // Without a channel nothing is sent, but the bookkeeping holds.
        let mut fw = Firewall::new();
        fw.block("VI_1", BlockKey::V4("10.0.0.1".parse().unwrap()), 0);
        fw.block("VI_2", BlockKey::V4("10.0.0.1".parse().unwrap()), 0);
        assert_eq!(fw.blocked().len(), 1);
        fw.unblock("VI_1", &BlockKey::V4("10.0.0.1".parse().unwrap()));
        assert_eq!(fw.blocked().len(), 1, "VI_2 still blocks it");
        fw.unblock("VI_2", &BlockKey::V4("10.0.0.1".parse().unwrap()));
        assert!(fw.blocked().is_empty());
        // Link-local elements carry the interface.
        let k = BlockKey::LinkLocal("fe80::1".parse().unwrap(), "eth0".into());
        let b = Blocked {
            by: BTreeSet::new(),
            index: 7,
        };
        assert_eq!(&fw.element(&k, &b)[16..], &7u32.to_ne_bytes());
        fw.settings.ifnames = true;
        let e = fw.element(&k, &b);
        assert_eq!(e.len(), 32);
        assert_eq!(&e[16..20], b"eth0");
    }

    #[test]
    fn settings_from_global_defs() {
        let text = "global_defs {\n nftables kad\n nftables_priority -5\n nftables_counters\n}\n\
                    vrrp_instance V {\n interface eth0\n virtual_router_id 1\n dont_track_primary\n virtual_ipaddress { 10.0.0.1 }\n}\n";
        let l = crate::config::load_str(text, std::path::Path::new("t"), &Default::default());
        let s = FwSettings::from_config(&l.config);
        assert_eq!(
            s,
            FwSettings {
                table: "kad".into(),
                priority: -5,
                counters: true,
                ifnames: true
            }
        );
        let d = crate::config::load_str("", std::path::Path::new("t"), &Default::default());
        assert_eq!(FwSettings::from_config(&d.config), FwSettings::default());
    }
}
