//! The receive path of one instance: the per-instance checks (`vrrp::rx`), their counters
//! and rate-limited logs, then B4-B6 (Backup, with preempt_delay) and M4-M6 (Master).

use super::{addr_greater, Burst, Ctx, Instance};
use crate::config::model::VrrpVersion;
use crate::event::Action;
use crate::sched::Instant;
use crate::vrrp::conflict::ConflictKind;
use crate::vrrp::notify;
use crate::vrrp::packet::{self, Advert, DecodeError, V3Ipv4Checksum};
use crate::vrrp::reason::Reason;
use crate::vrrp::rx::{self, Discard, Notice};
use crate::vrrp::State;
use std::net::IpAddr;

impl Instance {
    /// A decoded advert addressed to this instance (VRID, interface and family matched).
    pub fn receive(
        &mut self,
        ctx: &mut Ctx,
        src: IpAddr,
        ttl: u8,
        advert: &Advert,
        form: Option<V3Ipv4Checksum>,
    ) {
        if Some(src) == self.source_addr() {
            // Our own advert looped back.
            return;
        }
        if !matches!(self.state, State::Backup | State::Master | State::Fault) {
            return;
        }
        let prefix = ctx.prefix.to_string();
        let now = ctx.now;
        let notices = match rx::check(&self.policy, advert, src, ttl) {
            Ok(n) => n,
            Err(d) => {
                let kind = match &d {
                    Discard::Check(DecodeError::IntervalMismatch { .. }) => {
                        Some(ConflictKind::Interval)
                    }
                    Discard::Check(DecodeError::AddressListMismatch { .. }) => {
                        Some(ConflictKind::AddressList)
                    }
                    Discard::OwnerStrict if advert.priority == 255 => Some(ConflictKind::Owner),
                    _ => None,
                };
                self.count_discard(now, &prefix, &d, src);
                if let Some(kind) = kind {
                    self.conflict(ctx, kind, src);
                }
                return;
            }
        };
        for n in &notices {
            match n {
                Notice::Check(packet::Notice::IntervalMismatch { received_cs }) => {
                    self.stats.interval_mismatches += 1;
                    self.conflict(ctx, ConflictKind::Interval, src);
                    let msg = format!(
                        "advertisement interval mismatch mine={} sec rcv'd={} sec from {src}",
                        f64::from(self.own_cs) / 100.0,
                        f64::from(*received_cs) / 100.0
                    );
                    self.log_limited(now, "interval", &prefix, msg);
                }
                Notice::Check(packet::Notice::AddressListMismatch) => {
                    self.stats.address_list_errors += 1;
                    self.conflict(ctx, ConflictKind::AddressList, src);
                    let msg = format!("ignoring advert address list mismatch from {src}");
                    self.log_limited(now, "addrlist", &prefix, msg);
                }
                Notice::Check(packet::Notice::FirstAddressNotLinkLocal { address }) => {
                    // keepalived outside strict mode: warn, then process (no counter: the
                    // discard counter `address_errors` counts strict-mode drops only).
                    let msg = format!(
                        "advert from {src}: first address {address} is not link-local \
                         (RFC 9568 §5.2.9) - processing it (not in strict mode)"
                    );
                    self.log_limited(now, "linklocal", &prefix, msg);
                }
                Notice::OwnerConflict => {
                    self.stats.owner_conflicts += 1;
                    if advert.priority == 255 {
                        self.conflict(ctx, ConflictKind::Owner, src);
                    }
                    let msg = format!(
                        "address owner received advert from {src} with priority {} - misconfiguration",
                        advert.priority
                    );
                    self.log_limited(now, "owner", &prefix, msg);
                }
            }
        }
        self.stats.adverts_received += 1;
        match form {
            Some(V3Ipv4Checksum::PseudoHeader) => self.stats.v3_checksum_pseudo_header += 1,
            Some(V3Ipv4Checksum::MessageOnly) => self.stats.v3_checksum_message_only += 1,
            None => {}
        }
        if advert.priority == 0 {
            self.stats.priority_zero_received += 1;
        }
        match self.state {
            State::Backup => self.backup_rx(ctx, src, advert),
            State::Master => self.master_rx(ctx, src, advert),
            _ => {}
        }
    }

    /// A packet the codec rejected, routed to this instance by its VRID byte.
    pub fn discard_undecodable(
        &mut self,
        now: Instant,
        prefix: &str,
        e: &packet::DecodeError,
        src: IpAddr,
    ) {
        self.count_discard(now, prefix, &Discard::Check(e.clone()), src);
    }

    fn count_discard(&mut self, now: Instant, prefix: &str, d: &Discard, src: IpAddr) {
        let (kind, msg) = match d {
            Discard::Check(e) => {
                rx::count(&mut self.stats, e);
                (e.kind(), format!("discarding advert from {src}: {e}"))
            }
            Discard::OwnerStrict => {
                self.stats.owner_conflicts += 1;
                (
                    "owner",
                    format!("address owner ignoring advert from {src} (strict mode)"),
                )
            }
            Discard::UnicastSource => {
                self.stats.unicast_src_errors += 1;
                (
                    "unicast",
                    format!("advert from {src} is not from a unicast peer - discarding"),
                )
            }
        };
        self.log_limited(now, kind, prefix, msg);
    }

    fn learn_interval(&mut self, advert: &Advert) {
        if self.cfg.version == VrrpVersion::V3 && advert.interval_cs > 0 {
            self.learned_cs = advert.interval_cs;
        }
    }

    /// B4 – B6 (with keepalived's preempt_delay).
    fn backup_rx(&mut self, ctx: &mut Ctx, src: IpAddr, advert: &Advert) {
        if advert.priority == 0 {
            // B4: take over after Skew_Time; learn nothing.
            log::info!(
                "{}({}) Backup received priority 0 advertisement",
                ctx.prefix,
                self.cfg.name
            );
            let s = self.skew();
            self.arm_down(ctx, s);
            self.down_reason = Reason::PriorityZero { from: src };
            return;
        }
        let preempt = !self.cfg.nopreempt || self.is_owner();
        let accept = if !preempt || advert.priority >= self.priority {
            if advert.priority >= self.priority {
                self.preempt_since = None;
            }
            true
        } else if !self.cfg.preempt_delay.is_zero() {
            let first = *self.preempt_since.get_or_insert(ctx.now);
            ctx.now.saturating_since(first) < self.cfg.preempt_delay
        } else {
            false
        };
        if accept {
            // B5
            self.master_heard = Some((src, advert.priority));
            self.learn_interval(advert);
            let d = self.down_interval();
            self.arm_down(ctx, d);
            self.down_reason = Reason::MasterDown;
        } else {
            // B6: discard, keep the timer running.
            let prefix = ctx.prefix.to_string();
            self.log_limited(
                ctx.now,
                "lowerprio",
                &prefix,
                format!(
                    "received lower priority ({}) advert from {src} - discarding",
                    advert.priority
                ),
            );
        }
    }

    /// M4 – M6.
    fn master_rx(&mut self, ctx: &mut Ctx, src: IpAddr, advert: &Advert) {
        if advert.priority == 0 {
            // M4
            let p = self.priority;
            self.send_advert(ctx, p);
            self.arm_adver(ctx);
            return;
        }
        let ours = self.priority;
        if advert.priority <= ours {
            // Another router advertises as Master while we are: a split brain seen from
            // the side that stays Master, or an equal priority. A higher priority is the
            // ordinary end of a preemption and raises nothing.
            self.conflict(ctx, ConflictKind::DualMaster, src);
        }
        if advert.priority > ours
            || advert.priority == ours && addr_greater(src, self.source_addr())
        {
            // M5
            self.master_heard = Some((src, advert.priority));
            if self.cfg.higher_prio_send_advert {
                // keepalived: let the new Master's peers see us go (refreshes bridges).
                self.send_advert(ctx, ours);
            }
            if advert.priority > ours {
                log::info!(
                    "{}({}) Master received advert from {src} with higher priority {}, ours {ours}",
                    ctx.prefix,
                    self.cfg.name,
                    advert.priority
                );
            } else {
                log::info!(
                    "{}({}) Master received advert from {src} with same priority {} but higher IP address than ours",
                    ctx.prefix,
                    self.cfg.name,
                    advert.priority
                );
            }
            self.leave_master(ctx);
            self.learn_interval(advert);
            let d = self.down_interval();
            self.arm_down(ctx, d);
            self.down_reason = Reason::MasterDown;
            let reason = if advert.priority > ours {
                Reason::HigherPriority {
                    from: src,
                    priority: advert.priority,
                }
            } else {
                Reason::HigherAddress { from: src }
            };
            self.set_state(ctx, State::Backup, "", reason);
            return;
        }
        // M6
        let prefix = ctx.prefix.to_string();
        self.log_limited(
            ctx.now,
            "lowerprio",
            &prefix,
            format!(
                "Received advert from {src} with lower priority {}, ours {ours}, forcing new election",
                advert.priority
            ),
        );
        // RFC 9568 re-advertises; RFC 3768 / 5798 discard silently. keepalived re-advertises
        // in both versions unless `lower_prio_no_advert` (or strict mode) is set.
        let readvertise = !self.cfg.lower_prio_no_advert && !self.cfg.strict_mode;
        if readvertise {
            self.send_advert(ctx, ours);
        }
        if let Some(cmd) = &self.cfg.notify.master_rx_lower_pri {
            ctx.actions.push_back(Action::RunScript {
                run: None,
                command: crate::config::model::ScriptCommand::clone(cmd),
                timeout: None,
            });
            for path in ctx.fifos {
                let kind = notify::Kind::Instance;
                let line = notify::fifo_line(kind, &self.cfg.name, "MASTER_RX_LOWER_PRI", ours);
                ctx.actions.push_back(Action::WriteFifo {
                    path: path.clone(),
                    line,
                });
            }
        }
        if let Some(n) = self.cfg.garp.lower_prio_repeat.filter(|n| *n > 0) {
            let delay = self.cfg.garp.lower_prio_delay;
            if delay.is_zero() {
                self.start_burst(ctx, n);
            } else {
                self.schedule_burst(ctx, delay, Burst::LowerPrio);
            }
        }
    }
}
