//! The nf_tables netlink codec: batches (`NFNL_MSG_BATCH_BEGIN` ... `END`) of table,
//! chain, set, set element and rule messages, rules made of payload / meta / bitwise /
//! cmp / lookup / counter / immediate expressions. Only building: the socket is
//! `nftables_sock`, keepalived's table layout `nftables_fw`.

use super::netlink::{MsgBuilder, NLM_F_ACK, NLM_F_CREATE, NLM_F_REQUEST};

pub const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFNL_MSG_BATCH_BEGIN: u16 = 0x10;
const NFNL_MSG_BATCH_END: u16 = 0x11;

pub const NFT_MSG_NEWTABLE: u16 = 0;
pub const NFT_MSG_DELTABLE: u16 = 2;
pub const NFT_MSG_NEWCHAIN: u16 = 3;
pub const NFT_MSG_NEWRULE: u16 = 6;
pub const NFT_MSG_NEWSET: u16 = 9;
pub const NFT_MSG_NEWSETELEM: u16 = 12;
pub const NFT_MSG_DELSETELEM: u16 = 14;

/// `NFPROTO_*` of a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum NfFamily {
    Ipv4,
    Ipv6,
}

impl NfFamily {
    pub fn proto(self) -> u8 {
        match self {
            NfFamily::Ipv4 => 2,
            NfFamily::Ipv6 => 10,
        }
    }
    /// The family keyword of `nft list tables`.
    pub fn name(self) -> &'static str {
        match self {
            NfFamily::Ipv4 => "ip",
            NfFamily::Ipv6 => "ip6",
        }
    }
}

const NFTA_TABLE_NAME: u16 = 1;
const NFTA_TABLE_FLAGS: u16 = 2;

const NFTA_CHAIN_TABLE: u16 = 1;
const NFTA_CHAIN_NAME: u16 = 3;
const NFTA_CHAIN_HOOK: u16 = 4;
const NFTA_CHAIN_POLICY: u16 = 5;
const NFTA_CHAIN_TYPE: u16 = 7;
const NFTA_HOOK_HOOKNUM: u16 = 1;
const NFTA_HOOK_PRIORITY: u16 = 2;
pub const NF_INET_LOCAL_IN: u32 = 1;
pub const NF_INET_LOCAL_OUT: u32 = 3;

const NFTA_SET_TABLE: u16 = 1;
const NFTA_SET_NAME: u16 = 2;
const NFTA_SET_FLAGS: u16 = 3;
const NFTA_SET_KEY_TYPE: u16 = 4;
const NFTA_SET_KEY_LEN: u16 = 5;
const NFTA_SET_ID: u16 = 10;
pub const NFT_SET_CONSTANT: u32 = 0x2;

const NFTA_SET_ELEM_LIST_TABLE: u16 = 1;
const NFTA_SET_ELEM_LIST_SET: u16 = 2;
const NFTA_SET_ELEM_LIST_ELEMENTS: u16 = 3;
const NFTA_SET_ELEM_KEY: u16 = 1;
const NFTA_LIST_ELEM: u16 = 1;
const NFTA_DATA_VALUE: u16 = 1;
const NFTA_DATA_VERDICT: u16 = 2;
const NFTA_VERDICT_CODE: u16 = 1;
const NFTA_VERDICT_CHAIN: u16 = 2;

const NFTA_RULE_TABLE: u16 = 1;
const NFTA_RULE_CHAIN: u16 = 2;
const NFTA_RULE_EXPRESSIONS: u16 = 4;
const NFTA_EXPR_NAME: u16 = 1;
const NFTA_EXPR_DATA: u16 = 2;

/// The data types of set keys (nft's numbering; a concatenation packs 6 bits a field).
pub const TYPE_IPADDR: u32 = 7;
pub const TYPE_IP6ADDR: u32 = 8;
pub const TYPE_IFINDEX: u32 = 20;
pub const TYPE_ICMP6_TYPE: u32 = 29;
pub const TYPE_IFNAME: u32 = 41;

/// A concatenated key type of `fields` (`ipv6_addr . iface_index`).
pub fn concat_type(fields: &[u32]) -> u32 {
    fields.iter().fold(0, |acc, t| (acc << 6) | t)
}

/// Registers: the verdict register and the 16-byte NFT_REG_1, NFT_REG_2.
pub const NFT_REG_VERDICT: u32 = 0;
pub const NFT_REG_1: u32 = 1;
pub const NFT_REG_2: u32 = 2;

pub const NFT_PAYLOAD_NETWORK_HEADER: u32 = 1;
pub const NFT_PAYLOAD_TRANSPORT_HEADER: u32 = 2;
pub const NFT_META_IIF: u32 = 4;
pub const NFT_META_OIF: u32 = 5;
pub const NFT_META_IIFNAME: u32 = 6;
pub const NFT_META_OIFNAME: u32 = 7;

/// An action a rule ends with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    Drop,
    Goto(String),
}

/// One expression of a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// Loads `len` bytes at `offset` of a header into `dreg`.
    Payload {
        base: u32,
        offset: u32,
        len: u32,
        dreg: u32,
    },
    Meta {
        key: u32,
        dreg: u32,
    },
    /// `dreg = (sreg & mask) ^ xor` over the mask's length.
    Bitwise {
        sreg: u32,
        dreg: u32,
        mask: Vec<u8>,
        xor: Vec<u8>,
    },
    /// `sreg == data`, else the rule stops.
    CmpEq {
        sreg: u32,
        data: Vec<u8>,
    },
    /// The key starting at `sreg` is in set `set`, else the rule stops.
    Lookup {
        set: String,
        sreg: u32,
    },
    Counter,
    Verdict(Verdict),
}

fn be32(v: u32) -> [u8; 4] {
    v.to_be_bytes()
}

fn data_value(b: &mut MsgBuilder, attr: u16, data: &[u8]) {
    b.begin_nest(attr);
    b.attr(NFTA_DATA_VALUE, data);
    b.end_nest();
}

impl Expr {
    fn encode(&self, b: &mut MsgBuilder) {
        b.begin_nest(NFTA_LIST_ELEM);
        let name = match self {
            Expr::Payload { .. } => "payload",
            Expr::Meta { .. } => "meta",
            Expr::Bitwise { .. } => "bitwise",
            Expr::CmpEq { .. } => "cmp",
            Expr::Lookup { .. } => "lookup",
            Expr::Counter => "counter",
            Expr::Verdict(_) => "immediate",
        };
        b.attr_str(NFTA_EXPR_NAME, name);
        b.begin_nest(NFTA_EXPR_DATA);
        match self {
            Expr::Payload {
                base,
                offset,
                len,
                dreg,
            } => {
                b.attr(1, &be32(*dreg)); // NFTA_PAYLOAD_DREG
                b.attr(2, &be32(*base)); // NFTA_PAYLOAD_BASE
                b.attr(3, &be32(*offset)); // NFTA_PAYLOAD_OFFSET
                b.attr(4, &be32(*len)); // NFTA_PAYLOAD_LEN
            }
            Expr::Meta { key, dreg } => {
                b.attr(2, &be32(*key)); // NFTA_META_KEY
                b.attr(1, &be32(*dreg)); // NFTA_META_DREG
            }
            Expr::Bitwise {
                sreg,
                dreg,
                mask,
                xor,
            } => {
                b.attr(1, &be32(*sreg)); // NFTA_BITWISE_SREG
                b.attr(2, &be32(*dreg)); // NFTA_BITWISE_DREG
                b.attr(3, &be32(mask.len() as u32)); // NFTA_BITWISE_LEN
                data_value(b, 4, mask); // NFTA_BITWISE_MASK
                data_value(b, 5, xor); // NFTA_BITWISE_XOR
            }
            Expr::CmpEq { sreg, data } => {
                b.attr(1, &be32(*sreg)); // NFTA_CMP_SREG
                b.attr(2, &be32(0)); // NFTA_CMP_OP: NFT_CMP_EQ
                data_value(b, 3, data); // NFTA_CMP_DATA
            }
            Expr::Lookup { set, sreg } => {
                b.attr_str(1, set); // NFTA_LOOKUP_SET
                b.attr(2, &be32(*sreg)); // NFTA_LOOKUP_SREG
            }
            Expr::Counter => {
                b.attr(1, &0u64.to_be_bytes()); // NFTA_COUNTER_BYTES
                b.attr(2, &0u64.to_be_bytes()); // NFTA_COUNTER_PACKETS
            }
            Expr::Verdict(v) => {
                b.attr(1, &be32(NFT_REG_VERDICT)); // NFTA_IMMEDIATE_DREG
                b.begin_nest(2); // NFTA_IMMEDIATE_DATA
                b.begin_nest(NFTA_DATA_VERDICT);
                let (code, chain) = match v {
                    Verdict::Accept => (1u32, None),               // NF_ACCEPT
                    Verdict::Drop => (0u32, None),                 // NF_DROP
                    Verdict::Goto(c) => ((-4i32) as u32, Some(c)), // NFT_GOTO
                };
                b.attr(NFTA_VERDICT_CODE, &be32(code));
                if let Some(c) = chain {
                    b.attr_str(NFTA_VERDICT_CHAIN, c);
                }
                b.end_nest();
                b.end_nest();
            }
        }
        b.end_nest();
        b.end_nest();
    }
}

/// One message of a batch: its sequence number and what it does (for error logs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchMsg {
    pub seq: u32,
    pub what: String,
}

/// A finished batch: one datagram, applied by the kernel all or nothing. Every message
/// but BEGIN/END asks for an ack, so each gets exactly one reply, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    pub bytes: Vec<u8>,
    pub begin_seq: u32,
    pub msgs: Vec<BatchMsg>,
}

impl Batch {
    /// The sequence number whose reply ends the batch.
    pub fn last_seq(&self) -> u32 {
        self.msgs.last().map(|m| m.seq).unwrap_or(self.begin_seq)
    }
}

/// Builds a batch; sequence numbers are taken from `seq` onwards.
pub struct BatchBuilder {
    bytes: Vec<u8>,
    begin_seq: u32,
    next_seq: u32,
    msgs: Vec<BatchMsg>,
}

fn nfgenmsg(family: u8, res_id: u16) -> [u8; 4] {
    let r = res_id.to_be_bytes();
    [family, 0, r[0], r[1]]
}

impl BatchBuilder {
    pub fn new(seq: u32) -> BatchBuilder {
        let mut b = MsgBuilder::new(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, seq);
        b.push(&nfgenmsg(0, NFNL_SUBSYS_NFTABLES));
        BatchBuilder {
            bytes: b.finish(),
            begin_seq: seq,
            next_seq: seq.wrapping_add(1).max(1),
            msgs: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.msgs.is_empty()
    }

    fn msg(
        &mut self,
        ty: u16,
        family: NfFamily,
        flags: u16,
        what: String,
        body: impl FnOnce(&mut MsgBuilder),
    ) {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1).max(1);
        let mut b = MsgBuilder::new(
            (NFNL_SUBSYS_NFTABLES << 8) | ty,
            NLM_F_REQUEST | NLM_F_ACK | flags,
            seq,
        );
        b.push(&nfgenmsg(family.proto(), 0));
        body(&mut b);
        self.bytes.extend_from_slice(&b.finish());
        self.msgs.push(BatchMsg { seq, what });
    }

    pub fn new_table(&mut self, family: NfFamily, table: &str) {
        self.msg(
            NFT_MSG_NEWTABLE,
            family,
            NLM_F_CREATE,
            format!("adding table {} {table}", family.name()),
            |b| {
                b.attr_str(NFTA_TABLE_NAME, table);
                b.attr(NFTA_TABLE_FLAGS, &be32(0));
            },
        );
    }

    pub fn del_table(&mut self, family: NfFamily, table: &str) {
        self.msg(
            NFT_MSG_DELTABLE,
            family,
            0,
            format!("deleting table {} {table}", family.name()),
            |b| {
                b.attr_str(NFTA_TABLE_NAME, table);
            },
        );
    }

    /// A chain; `hook` (hook number, priority) makes it a base chain of type filter with
    /// policy accept.
    pub fn new_chain(
        &mut self,
        family: NfFamily,
        table: &str,
        chain: &str,
        hook: Option<(u32, i32)>,
    ) {
        self.msg(
            NFT_MSG_NEWCHAIN,
            family,
            NLM_F_CREATE,
            format!("adding chain {chain} to {} {table}", family.name()),
            |b| {
                b.attr_str(NFTA_CHAIN_TABLE, table);
                b.attr_str(NFTA_CHAIN_NAME, chain);
                if let Some((hooknum, prio)) = hook {
                    b.begin_nest(NFTA_CHAIN_HOOK);
                    b.attr(NFTA_HOOK_HOOKNUM, &be32(hooknum));
                    b.attr(NFTA_HOOK_PRIORITY, &be32(prio as u32));
                    b.end_nest();
                    b.attr(NFTA_CHAIN_POLICY, &be32(1)); // NF_ACCEPT
                    b.attr_str(NFTA_CHAIN_TYPE, "filter");
                }
            },
        );
    }

    /// A named set of keys of `key_type` (`key_len` bytes).
    #[allow(clippy::too_many_arguments)]
    pub fn new_set(
        &mut self,
        family: NfFamily,
        table: &str,
        set: &str,
        key_type: u32,
        key_len: u32,
        flags: u32,
        id: u32,
    ) {
        self.msg(
            NFT_MSG_NEWSET,
            family,
            NLM_F_CREATE,
            format!("adding set {set} to {} {table}", family.name()),
            |b| {
                b.attr_str(NFTA_SET_TABLE, table);
                b.attr_str(NFTA_SET_NAME, set);
                b.attr(NFTA_SET_FLAGS, &be32(flags));
                b.attr(NFTA_SET_KEY_TYPE, &be32(key_type));
                b.attr(NFTA_SET_KEY_LEN, &be32(key_len));
                b.attr(NFTA_SET_ID, &be32(id));
            },
        );
    }

    /// Adds (`add`) or removes elements of a set; `what` names them in error logs.
    pub fn set_elems(
        &mut self,
        add: bool,
        family: NfFamily,
        table: &str,
        set: &str,
        keys: &[Vec<u8>],
        what: String,
    ) {
        let (ty, flags) = if add {
            (NFT_MSG_NEWSETELEM, NLM_F_CREATE)
        } else {
            (NFT_MSG_DELSETELEM, 0)
        };
        self.msg(ty, family, flags, what, |b| {
            b.attr_str(NFTA_SET_ELEM_LIST_TABLE, table);
            b.attr_str(NFTA_SET_ELEM_LIST_SET, set);
            b.begin_nest(NFTA_SET_ELEM_LIST_ELEMENTS);
            for k in keys {
                b.begin_nest(NFTA_LIST_ELEM);
                data_value(b, NFTA_SET_ELEM_KEY, k);
                b.end_nest();
            }
            b.end_nest();
        });
    }

    /// Appends a rule to `chain`.
    pub fn new_rule(&mut self, family: NfFamily, table: &str, chain: &str, exprs: &[Expr]) {
        self.msg(
            NFT_MSG_NEWRULE,
            family,
            NLM_F_CREATE | 0x800, // NLM_F_APPEND
            format!(
                "adding a rule to chain {chain} of {} {table}",
                family.name()
            ),
            |b| {
                b.attr_str(NFTA_RULE_TABLE, table);
                b.attr_str(NFTA_RULE_CHAIN, chain);
                b.begin_nest(NFTA_RULE_EXPRESSIONS);
                for e in exprs {
                    e.encode(b);
                }
                b.end_nest();
            },
        );
    }

    /// The batch, closed with END.
    pub fn finish(mut self) -> Batch {
        let mut b = MsgBuilder::new(NFNL_MSG_BATCH_END, NLM_F_REQUEST, self.next_seq);
        b.push(&nfgenmsg(0, NFNL_SUBSYS_NFTABLES));
        self.bytes.extend_from_slice(&b.finish());
        Batch {
            bytes: self.bytes,
            begin_seq: self.begin_seq,
            msgs: self.msgs,
        }
    }

    /// The next sequence number after this batch (its END included).
    pub fn next_seq(&self) -> u32 {
        self.next_seq.wrapping_add(1).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::netlink::{attrs, messages, Attr};

    fn find<'a>(a: &[Attr<'a>], ty: u16) -> Attr<'a> {
        *a.iter().find(|x| x.ty == ty).unwrap()
    }

    fn top(payload: &[u8]) -> Vec<Attr<'_>> {
        attrs(&payload[4..]).collect::<Result<_, _>>().unwrap()
    }

    #[test]
    fn batch_is_framed_and_every_message_asks_for_an_ack() {
        let mut b = BatchBuilder::new(100);
        b.new_table(NfFamily::Ipv4, "keepalived");
        b.del_table(NfFamily::Ipv6, "keepalived");
        let next = b.next_seq();
        let batch = b.finish();
        let msgs: Vec<_> = messages(&batch.bytes).collect::<Result<_, _>>().unwrap();
        assert_eq!(msgs.len(), 4);
        assert_eq!((msgs[0].msg_type, msgs[0].seq), (0x10, 100));
        assert_eq!(msgs[0].payload, &[0, 0, 0, 10]);
        assert_eq!((msgs[1].msg_type, msgs[1].seq), (0xa00, 101));
        assert_eq!(msgs[1].flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE);
        assert_eq!(&msgs[1].payload[..4], &[2, 0, 0, 0]);
        assert_eq!(find(&top(msgs[1].payload), 1).str(), Some("keepalived"));
        assert_eq!((msgs[2].msg_type, msgs[2].seq), (0xa02, 102));
        assert_eq!(msgs[2].payload[0], 10);
        assert_eq!((msgs[3].msg_type, msgs[3].seq), (0x11, 103));
        assert_eq!(batch.last_seq(), 102);
        assert_eq!(next, 104);
        assert_eq!(
            batch
                .msgs
                .iter()
                .map(|m| m.what.as_str())
                .collect::<Vec<_>>(),
            [
                "adding table ip keepalived",
                "deleting table ip6 keepalived"
            ]
        );
    }

    #[test]
    fn chain_set_and_elements() {
        let mut b = BatchBuilder::new(1);
        b.new_chain(NfFamily::Ipv4, "t", "in", Some((NF_INET_LOCAL_IN, -1)));
        b.new_set(
            NfFamily::Ipv6,
            "t",
            "ll",
            concat_type(&[TYPE_IP6ADDR, TYPE_IFINDEX]),
            20,
            0,
            3,
        );
        b.set_elems(
            false,
            NfFamily::Ipv4,
            "t",
            "vips",
            &[vec![10, 0, 0, 1]],
            "x".into(),
        );
        let batch = b.finish();
        let msgs: Vec<_> = messages(&batch.bytes).collect::<Result<_, _>>().unwrap();
        let chain = top(msgs[1].payload);
        let hook: Vec<_> = find(&chain, NFTA_CHAIN_HOOK)
            .nested()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(find(&hook, 1).data, &[0, 0, 0, 1]);
        assert_eq!(
            find(&hook, 2).data,
            &[0xff, 0xff, 0xff, 0xff],
            "priority -1"
        );
        assert_eq!(find(&chain, NFTA_CHAIN_TYPE).str(), Some("filter"));
        let set = top(msgs[2].payload);
        // nft's own `ipv6_addr . iface_index` key type.
        assert_eq!(find(&set, NFTA_SET_KEY_TYPE).data, &[0, 0, 2, 0x14]);
        assert_eq!(find(&set, NFTA_SET_KEY_LEN).data, &[0, 0, 0, 20]);
        assert_eq!(find(&set, NFTA_SET_ID).data, &[0, 0, 0, 3]);
        assert_eq!(msgs[3].msg_type, 0xa0e);
        let el = top(msgs[3].payload);
        let list: Vec<_> = find(&el, 3).nested().collect::<Result<_, _>>().unwrap();
        let key: Vec<_> = list[0].nested().collect::<Result<_, _>>().unwrap();
        let value: Vec<_> = key[0].nested().collect::<Result<_, _>>().unwrap();
        assert_eq!(value[0].data, &[10, 0, 0, 1]);
    }

    #[test]
    fn rule_expressions() {
        let mut b = BatchBuilder::new(1);
        b.new_rule(
            NfFamily::Ipv4,
            "t",
            "in",
            &[
                Expr::Payload {
                    base: NFT_PAYLOAD_NETWORK_HEADER,
                    offset: 16,
                    len: 4,
                    dreg: NFT_REG_1,
                },
                Expr::Lookup {
                    set: "vips".into(),
                    sreg: NFT_REG_1,
                },
                Expr::Counter,
                Expr::Verdict(Verdict::Goto("ll".into())),
            ],
        );
        let batch = b.finish();
        let msgs: Vec<_> = messages(&batch.bytes).collect::<Result<_, _>>().unwrap();
        let rule = top(msgs[1].payload);
        let exprs: Vec<_> = find(&rule, NFTA_RULE_EXPRESSIONS)
            .nested()
            .collect::<Result<_, _>>()
            .unwrap();
        let names: Vec<&str> = exprs
            .iter()
            .map(|e| {
                let a: Vec<_> = e.nested().collect::<Result<_, _>>().unwrap();
                find(&a, NFTA_EXPR_NAME).str().unwrap()
            })
            .collect();
        assert_eq!(names, ["payload", "lookup", "counter", "immediate"]);
        let imm: Vec<_> = exprs[3].nested().collect::<Result<_, _>>().unwrap();
        let data: Vec<_> = find(&imm, NFTA_EXPR_DATA)
            .nested()
            .collect::<Result<_, _>>()
            .unwrap();
        let verdict: Vec<_> = find(&data, 2).nested().collect::<Result<_, _>>().unwrap();
        let v: Vec<_> = find(&verdict, NFTA_DATA_VERDICT)
            .nested()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(find(&v, 1).data, &[0xff, 0xff, 0xff, 0xfc], "NFT_GOTO");
        assert_eq!(find(&v, 2).str(), Some("ll"));
    }
}
